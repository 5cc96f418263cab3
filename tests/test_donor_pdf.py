"""The donor PDF: what donors can bring and its worth first, how to help, readable type."""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import factories
import pytest
from conftest import SITES
from flask_babel import force_locale
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from logistics import i18n
from logistics.extensions import db
from logistics.models import Item, Pledge, Site
from logistics.pdf import shortfall
from logistics.pdf.base import FONT
from logistics.services import catalogue, distributions, donors, incidents, reports
from logistics.services.distributions import HandOut
from logistics.services.incidents import IncidentInput, LineInput
from logistics.services.reports import ReportRequest

SECRET_DESCRIPTION = "Tents cut open behind the Lidl car park at dawn."
SECRET_FORCES = "4 gendarmerie vans, 1 PAF van"
PLEDGER = "giver.private@example.org"
NOT_DONATABLE = "Hot soup portion"
HOW_TO_HELP = {
    "drop_off": "Salle des fêtes, 12 rue de Paris\nSide door, ring twice",
    "opening_hours": "Mon–Sat 10:00–17:00",
    "donation_url": "https://give.example.org/calais-aid?campaign=winter",
    "contact_email": "donors@calais-aid.example.org",
}
# The figures the scenario makes, worked out by hand (docs/needs.md):
# sleeping bags: 40 planned in 6 hours + 10 minimum stock − 10 held = 40 short, urgent;
# blankets: 10 minimum stock, nothing held = 10 short; tents: short too, but no unit value.
SLEEPING_BAG_VALUE = Decimal("25.00")
BLANKET_VALUE = Decimal("15.00")
SLEEPING_BAGS_SHORT = 40
BLANKETS_SHORT = 10
TENTS_GIVEN = 4


def pdf_text(data: bytes) -> str:
    """Return every page's text, whitespace (no-break spaces too) folded to single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def folded(text: str) -> str:
    return " ".join(text.split())


def euros(value: Decimal, language: str) -> str:
    """Return an amount as i18n.euros writes it in a language, spaces folded like pdf_text."""
    with force_locale(language):
        return folded(i18n.euros(value))


def drawn_text(data: bytes) -> list[tuple[float, str]]:
    """Return each piece of text on the pages with the size it is drawn at, in points."""
    pieces: list[tuple[float, str]] = []
    for page in PdfReader(io.BytesIO(data)).pages:

        def visit(text, cm, tm, font_dict, font_size) -> None:
            if not text.strip():
                return
            # The text's height: the font size through the text and page matrices.
            c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
            pieces.append((round(font_size * math.hypot(c, d), 2), text.strip()))

        page.extract_text(visitor_text=visit)
    return pieces


def font_sizes(data: bytes) -> set[float]:
    """Return every size set by a Tf operator in the pages' content streams and their forms."""
    sizes: set[float] = set()
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        streams = [page.get_contents()]
        resources = page.get("/Resources") or {}
        forms = resources.get("/XObject") or {}
        # Forms drawn on the page (the page total); images are XObjects too, without text.
        streams += [
            forms[name].get_object()
            for name in forms
            if forms[name].get_object().get("/Subtype") == "/Form"
        ]
        for stream in streams:
            if stream is None or not hasattr(stream, "operations"):
                from pypdf.generic import ContentStream

                stream = ContentStream(stream, reader)
            for operands, operator in stream.operations:
                if operator == b"Tf":
                    sizes.add(float(operands[1]))
    return sizes


@pytest.fixture
def needs_world(world):
    """Sleeping bags urgent with a value, blankets short with one, tents short without one."""
    for key in ("tarp", "water", "shoes42"):
        catalogue.set_item_active(world.org_id, world.items[key], False)
    db.session.get(Item, world.items["sleeping_bag"]).unit_value_eur = SLEEPING_BAG_VALUE
    db.session.get(Item, world.items["blanket"]).unit_value_eur = BLANKET_VALUE
    db.session.get(Item, world.items["blanket"]).name_fr = "Couverture"
    # Short, worth a lot, and still never shown: donors cannot bring it.
    factories.item(
        world.org_id,
        NOT_DONATABLE,
        "food",
        unit="meal",
        min_stock=500,
        unit_value_eur="4.00",
        donatable=False,
        commit=False,
    )
    factories.receive(world, "main", "sleeping_bag", 10)
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=(datetime.now(UTC) + timedelta(hours=6)).replace(second=0, microsecond=0),
        lines=[(world.items["sleeping_bag"], 40)],
    )
    db.session.add(
        Pledge(
            organisation_id=world.org_id,
            item_id=world.items["sleeping_bag"],
            quantity=15,
            expected_on=date.today() + timedelta(days=2),
            contact_email=PLEDGER,
            source="link",
        )
    )
    db.session.commit()
    return world


def _give_tents(world, quantity: int) -> None:
    factories.receive(world, "main", "tent", quantity)
    distributions.give_out_now(
        world.org_id,
        None,
        HandOut(
            site_id=world.sites["point"],
            headcount=quantity,
            given=[(world.items["tent"], quantity, world.sites["main"])],
        ),
    )
    db.session.commit()


def _tents_destroyed(world, quantity: int) -> None:
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=datetime.now(UTC) - timedelta(hours=2),
            kind="eviction",
            area="Calais",
            site_id=world.sites["point"],
            forces_present=SECRET_FORCES,
            people_affected=60,
            shelters_affected=quantity,
            description=SECRET_DESCRIPTION,
            lines=[LineInput(world.items["tent"], quantity, "after_distribution", "slashed")],
        ),
    )
    db.session.commit()


def _report(app, world, language: str = "en") -> bytes:
    today = distributions.local_today(world.org_id)
    report = reports.generate(
        world.org_id,
        world.users["coordinator"],
        ReportRequest("shortfall", today - timedelta(days=6), today, locale=language),
        Path(app.config["REPORTS_DIR"]),
    )
    db.session.commit()
    return (Path(app.config["REPORTS_DIR"]) / report.file_path).read_bytes()


def _png(width: int = 240, height: int = 80) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def _fill_how_to_help(world, logo: bool = True) -> None:
    donors.save_how_to_help(world.org_id, world.users["admin"], HOW_TO_HELP)
    if logo:
        donors.set_logo(world.org_id, world.users["admin"], _png())
    db.session.commit()


# --- what we need --------------------------------------------------------------------------


def test_the_needs_come_first_in_euros_urgent_first_and_never_what_donors_cannot_bring(
    app, needs_world
):
    text = pdf_text(_report(app, needs_world))
    bags = SLEEPING_BAG_VALUE * SLEEPING_BAGS_SHORT
    blankets = BLANKET_VALUE * BLANKETS_SHORT
    # The most urgent as a big line: quantity, item, worth.
    top = f"Urgent: {SLEEPING_BAGS_SHORT} Sleeping bag — about {euros(bags, 'en')}"
    assert top == "Urgent: 40 Sleeping bag — about €1,000.00"
    assert top in text
    # Before the period's figures: what donors can do comes first.
    assert text.index(top) < text.index("What happened in the period")
    # The table: item, short in its unit, pledged, value, priority in words.
    assert f"Sleeping bag 40 pieces 15 pieces {euros(bags, 'en')} Urgent" in text
    assert f"Blanket 10 pieces – {euros(blankets, 'en')} Needed" in text
    assert f"Bedding — {euros(bags + blankets, 'en')}" in text
    assert "Tent (2-person)" in text and "Shelter" in text
    # Tents have no unit value: the total leaves them out and says so.
    assert f"Total value of what is short: at least {euros(bags + blankets, 'en')}" in text
    # One line says what the colours mean, in words too.
    assert "Urgent not enough for the next 48 hours · Needed short in the coming days" in text
    # The chart is in euros only: its axis is in euros, its title says so.
    assert "Value of what is short, in euros (the 2 largest)" in text
    assert "€1,000" in text.replace("€1,000.00", "")
    # No mixed units, no audit columns, no meal a donor cannot bring.
    for gone in ("Biggest shortfalls", "Days of cover", NOT_DONATABLE, "Hot meal"):
        assert gone not in text


def test_a_total_with_every_value_known_reads_without_at_least(app, needs_world):
    db.session.get(Item, needs_world.items["tent"]).unit_value_eur = Decimal("60.00")
    db.session.commit()
    short = {n.label: n.short for n in donors.donor_needs(needs_world.org_id).all}
    total = (
        SLEEPING_BAG_VALUE * SLEEPING_BAGS_SHORT
        + BLANKET_VALUE * BLANKETS_SHORT
        + Decimal("60.00") * short["Tent (2-person)"]
    )
    text = pdf_text(_report(app, needs_world))
    assert f"Total value of what is short: {euros(total, 'en')}." in text
    assert "Total value of what is short: at least" not in text


def test_nothing_short_says_so(app, world):
    for item_id in world.items.values():
        catalogue.set_item_active(world.org_id, item_id, False)
    db.session.commit()
    text = pdf_text(_report(app, world))
    assert "What is needed now Nothing is short at the moment." in text
    assert "Total value" not in text and "How to help" not in text


# --- how to help ---------------------------------------------------------------------------


def test_the_how_to_help_block_shows_what_an_admin_filled_in_with_a_clickable_link(
    app, needs_world
):
    _fill_how_to_help(needs_world)
    data = _report(app, needs_world)
    text = pdf_text(data)
    assert (
        "How to help Where to bring goods Salle des fêtes, 12 rue de Paris Side door, ring "
        "twice Opening hours Mon–Sat 10:00–17:00 Give online "
        "https://give.example.org/calais-aid?campaign=winter "
        "Contact donors@calais-aid.example.org"
    ) in text
    links = {
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(data)).pages
        for annotation in page.get("/Annots") or []
    }
    assert links == {HOW_TO_HELP["donation_url"], "mailto:" + HOW_TO_HELP["contact_email"]}
    # The logo sits at the top, at most 30 mm tall, its shape kept (3:1).
    first = PdfReader(io.BytesIO(data)).pages[0]
    (image,) = first.images
    width, height = image.image.size
    assert (width, height) == (240, 80)
    placed = _image_placement(first)
    assert placed[1] <= 30 * 72 / 25.4 + 0.01
    assert placed[0] / placed[1] == pytest.approx(3, rel=0.01)


def _image_placement(page) -> tuple[float, float]:
    """Return the width and height an image is drawn at (the cm before its Do)."""
    matrix = None
    for operands, operator in page.get_contents().operations:
        if operator == b"cm":
            matrix = [float(x) for x in operands]
        if operator == b"Do" and operands[0] != "/FormXob.page_total":
            assert matrix is not None
            return matrix[0], matrix[3]
    raise AssertionError("no image drawn")


def test_only_the_filled_fields_show_and_an_empty_block_is_left_out(app, needs_world):
    text = pdf_text(_report(app, needs_world))
    for heading in ("How to help", "Where to bring goods", "Give online", "Opening hours"):
        assert heading not in text
    donors.save_how_to_help(
        needs_world.org_id, None, {"contact_email": HOW_TO_HELP["contact_email"]}
    )
    db.session.commit()
    data = _report(app, needs_world)
    text = pdf_text(data)
    assert "How to help Contact donors@calais-aid.example.org" in text
    for heading in ("Where to bring goods", "Give online", "Opening hours"):
        assert heading not in text
    assert not PdfReader(io.BytesIO(data)).pages[0].images  # no logo, no image


# --- the period ----------------------------------------------------------------------------


def test_shares_over_100_percent_are_explained_only_when_there_are_some(app, needs_world):
    _give_tents(needs_world, TENTS_GIVEN)
    _tents_destroyed(needs_world, 3)
    text = pdf_text(_report(app, needs_world))
    assert "Tent (2-person) Shelter 0 3 4 75%" in text
    assert "More than 100%" not in text
    _tents_destroyed(needs_world, 6)
    text = pdf_text(_report(app, needs_world))
    assert "Tent (2-person) Shelter 0 9 4 225%" in text
    assert (
        "More than 100%: more was destroyed in the period than was given out in it — it had "
        "been given out earlier."
    ) in text


# --- type, width, language, privacy --------------------------------------------------------


def test_type_is_large_enough_and_nothing_is_wider_than_the_page(app, needs_world):
    _fill_how_to_help(needs_world)
    _give_tents(needs_world, TENTS_GIVEN)
    _tents_destroyed(needs_world, 6)
    data = _report(app, needs_world)
    sizes = font_sizes(data)
    assert sizes and min(sizes) >= 9, sorted(sizes)
    pieces = drawn_text(data)
    assert pieces and min(size for size, _ in pieces) >= 9
    # Below 10 pt: only the page header and footer and the method at the end.
    with force_locale("en"):
        method = folded(str(shortfall.HOW_COMPUTED))
    small = [text for size, text in pieces if size < 10]
    assert small, "the method is small print"
    frame = ("Calais Aid · Shortfall report", "Made ", "Page ", " – ")
    for text in small:
        assert folded(text) in method or any(part in text for part in frame) or text.isdigit(), text
    assert any(folded(text) in method for text in small)
    # Tables at least 10 pt: a table cell's figure is drawn at 10 pt or more.
    assert all(size >= 10 for size, text in pieces if text == "Urgent")
    # Every line stays inside the A4 frame: a phone zooms to its width.
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        width = float(page.mediabox.width)
        for operands, operator in page.get_contents().operations:
            if operator == b"re":  # table backgrounds and bars
                x, _y, w, _h = (float(v) for v in operands)
                assert x >= 0 and x + w <= width - 40, (x, w)


def test_every_character_drawn_has_a_glyph_in_the_font(app, needs_world):
    # French thousands are grouped with a narrow no-break space the font lacks (a box).
    db.session.get(Item, needs_world.items["sleeping_bag"]).unit_value_eur = Decimal("250.00")
    db.session.commit()
    data = _report(app, needs_world, "fr")
    glyphs = pdfmetrics.getFont(FONT).face.charWidths
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    missing = {char for char in text if char not in "\n" and ord(char) not in glyphs}
    assert not missing, missing
    assert "10 000,00 €" in folded(text)


def test_the_french_report_reads_french(app, needs_world):
    _fill_how_to_help(needs_world, logo=False)
    _give_tents(needs_world, TENTS_GIVEN)
    _tents_destroyed(needs_world, 6)
    text = pdf_text(_report(app, needs_world, "fr"))
    bags = SLEEPING_BAG_VALUE * SLEEPING_BAGS_SHORT
    blankets = BLANKET_VALUE * BLANKETS_SHORT
    assert euros(bags, "fr") == "1 000,00 €"
    for expected in (
        "Ce dont nous avons besoin maintenant",
        f"Urgent : 40 Sleeping bag — environ {euros(bags, 'fr')}",
        f"Couverture 10 pièces – {euros(blankets, 'fr')} Nécessaire",
        f"Couchage — {euros(bags + blankets, 'fr')}",
        f"Valeur totale de ce qui manque : au moins {euros(bags + blankets, 'fr')}",
        "Comment aider",
        "Où déposer les dons",
        "Horaires d'ouverture",
        "Donner en ligne",
        "Plus de 100 %",
        "Comment ces chiffres sont calculés",
        "Promis",
    ):
        assert expected in text, expected
    for english in (
        "What is needed now",
        "How to help",
        "Total value",
        "Needed",
        "Pledged",
        "Short",
    ):
        assert english not in text


def test_nothing_private_reaches_the_donor_report(app, needs_world):
    _fill_how_to_help(needs_world)
    _give_tents(needs_world, TENTS_GIVEN)
    _tents_destroyed(needs_world, 6)
    for language in ("en", "fr"):
        text = pdf_text(_report(app, needs_world, language))
        details = [details for _name, _kind, _area, details in SITES.values()]
        names = [site.name for site in db.session.query(Site)]
        for secret in (
            SECRET_DESCRIPTION,
            SECRET_FORCES,
            PLEDGER,
            needs_world.email("coordinator"),
            *details,
            *names,
        ):
            assert folded(secret) not in text, secret
