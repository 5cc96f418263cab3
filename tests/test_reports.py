"""PDF reports: they open, carry the right figures, keep secrets out, and archive by hash."""

from __future__ import annotations

import gc
import hashlib
import io
import random
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from sqlalchemy import event, func, insert, select

from logistics.extensions import db
from logistics.jobs import run_job
from logistics.models import Distribution, Incident, IncidentLine, Organisation, Report
from logistics.pdf import evidence as evidence_pdf
from logistics.pdf.base import ReportFrame, TextStyle, wrap_text
from logistics.services import catalogue, distributions, incidents, ledger, reports
from logistics.services.distributions import OutcomeInput
from logistics.services.errors import NotFound
from logistics.services.incidents import IncidentInput, LineInput
from logistics.services.reports import ReportRequest

SECRET_DESCRIPTION = "Tents cut open behind the Lidl car park at dawn."
SECRET_FORCES = "4 gendarmerie vans, 1 PAF van"


def pdf_text(data: bytes) -> str:
    """Return every page's text, whitespace folded, after pypdf has read each page."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def scenario(world):
    """A week in Calais: stock, two distributions (one disrupted), an eviction."""
    now = datetime.now(UTC)
    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    for key, quantity in (("blanket", 60), ("tent", 40), ("water", 2000)):
        ledger.receive(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items[key],
            quantity=quantity,
            occurred_at=now - timedelta(days=20),
        )
    ledger.receive(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=meals.id,
        quantity=900,
        occurred_at=now - timedelta(days=20),
    )
    today = distributions.local_today(world.org_id)
    series = distributions.create_series(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        weekdays=range(7),
        local_time=time(18),
        starts_on=today - timedelta(days=3),
        ends_on=None,
        lines=[(meals.id, 350), (world.items["blanket"], 30)],
    )
    past = sorted(
        (
            d
            for d in db.session.scalars(
                select(Distribution).where(Distribution.series_id == series.id)
            )
            if d.local_date < today
        ),
        key=lambda d: d.local_date,
    )
    distributions.record_outcome(
        world.org_id,
        None,
        past[0].id,
        OutcomeInput("held", 420, given=[(meals.id, 400), (world.items["tent"], 20)]),
    )
    distributions.record_outcome(
        world.org_id,
        None,
        past[1].id,
        OutcomeInput("disrupted", 130, note="CRS stopped it at 18:20", given=[(meals.id, 130)]),
    )
    distributions.record_outcome(world.org_id, None, past[2].id, OutcomeInput("cancelled"))
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=now - timedelta(days=1),
            kind="eviction",
            area="Calais",
            site_id=world.sites["point"],
            forces_present=SECRET_FORCES,
            people_affected=180,
            shelters_affected=45,
            description=SECRET_DESCRIPTION,
            lines=[LineInput(world.items["tent"], 5, "after_distribution", "slashed")],
        ),
    )
    db.session.commit()
    return {"meals": meals, "today": today}


def _make(app, world, request: ReportRequest) -> Report:
    report = reports.generate(
        world.org_id, world.users["coordinator"], request, Path(app.config["REPORTS_DIR"])
    )
    db.session.commit()
    return report


def _read(app, report: Report) -> bytes:
    return (Path(app.config["REPORTS_DIR"]) / report.file_path).read_bytes()


def test_donor_report_carries_the_figures_and_no_secrets(app, world, scenario):
    today = scenario["today"]
    report = _make(app, world, ReportRequest("shortfall", today - timedelta(days=6), today))
    data = _read(app, report)
    text = pdf_text(data)
    assert "Calais Aid · Shortfall report" in text
    assert re.search(r"Page 1 of \d+", text)
    # What happened: 1 held, 1 disrupted, 1 cancelled; 550 people; 530 meals.
    assert "Distributions held 1" in text
    assert "Distributions disrupted 1" in text
    assert "Distributions cancelled 1" in text
    assert "People served (counts at held and disrupted distributions) 550" in text
    assert "Meals served 530" in text
    # Losses: 5 tents slashed after 20 given out = 25%.
    assert "Tent (2-person) Shelter 0 5 20 25%" in text
    assert "1 incidents in the period; 180 people and 45 shelters affected" in text
    # Needed now: blankets planned 30 a night against 60 held.
    assert "Blanket" in text and "How these figures are computed" in text
    for secret in (
        SECRET_DESCRIPTION,
        SECRET_FORCES,
        "Rue des Verrotières",
        "Unit 4",
        "behind the gym",
        "CRS stopped",
    ):
        assert secret not in text
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    local_day = datetime.now(reports.organisation_zone(world.org_id)).date()
    assert report.file_path == f"calais-aid/shortfall-{local_day}.pdf"


def test_evidence_report_has_every_field_amendment_and_hash(app, world, scenario):
    incident = db.session.scalar(select(incidents.Incident))
    incidents.lock(world.org_id, None, incident.id)
    incidents.amend(world.org_id, world.users["coordinator"], incident.id, "Bailiff left at 07:40.")
    now = datetime.now(UTC)
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=now - timedelta(days=2),
            ended_at=now - timedelta(days=2) + timedelta(hours=3),
            kind="police_destruction",
            area="Calais",
            bailiff_present="yes",
            interpreter_present="no",
            witnesses="Two volunteers <b>not</b> markup & more",
            description=ACCENTED + "\nSecond line: tents taken.",
        ),
    )
    db.session.commit()
    today = scenario["today"]
    text = pdf_text(
        _read(app, _make(app, world, ReportRequest("evidence", today - timedelta(days=7), today)))
    )
    for expected in (
        SECRET_DESCRIPTION,
        SECRET_FORCES,
        "Site Verrotières point",
        "People affected 180",
        "Shelters affected 45",
        "Bailiff present yes",
        "Interpreter present no",
        "Legal basis shown unknown",
        "Locked ",
        "Locked not locked",
        "Police destruction · Calais",
        "Item Qty Action Whose Our mark",
        "Tent (2-person) 5 Slashed given out earlier no",
        "Bailiff left at 07:40.",
        ACCENTED,
        "Second line: tents taken.",
        "Witnesses Two volunteers <b>not</b> markup & more",
    ):
        assert expected in text
    # Oldest first: the police destruction (two days ago) before the eviction (yesterday).
    assert text.index("Police destruction") < text.index("Eviction")


def _incident_at(world, moment: datetime, description: str, tents: int) -> None:
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=moment,
            kind="eviction",
            area="Calais",
            description=description,
            lines=[LineInput(world.items["tent"], tents, "after_distribution", "destroyed")],
        ),
    )


def test_evidence_incidents_load_in_batches_each_once_in_time_order(app, world, monkeypatch):
    now = datetime.now(UTC).replace(microsecond=0)
    # Recorded out of order; two at the same minute (then by id).
    for hours, number in ((30, 3), (50, 1), (30, 4), (40, 2), (2, 5)):
        _incident_at(world, now - timedelta(hours=hours), f"Incident number {number}.", number)
    db.session.commit()
    monkeypatch.setattr(reports, "EVIDENCE_BATCH", 2)
    today = now.date()
    loaded = list(reports._incidents(world.org_id, today - timedelta(days=5), today))
    assert [record.description for record in loaded] == [
        f"Incident number {n}." for n in range(1, 6)
    ]
    assert [record.lines[0].quantity for record in loaded] == [1, 2, 3, 4, 5]


def test_an_incident_recorded_while_the_report_loads_is_left_for_the_next(app, world):
    now = datetime.now(UTC)
    _incident_at(world, now - timedelta(days=3), "Recorded before.", 2)
    db.session.commit()
    recorded_during: list[int] = []

    def record_meanwhile(connection, cursor, statement, parameters, context, executemany):
        if "FROM incident_line" in statement and not recorded_during:
            recorded_during.append(1)
            with db.engine.begin() as other:  # another request commits between two queries
                new_id = other.execute(
                    insert(Incident)
                    .values(
                        organisation_id=world.org_id,
                        occurred_at=now - timedelta(days=1),
                        kind="eviction",
                        area="Calais",
                    )
                    .returning(Incident.id)
                ).scalar_one()
                other.execute(
                    insert(IncidentLine).values(
                        incident_id=new_id,
                        item_id=world.items["tent"],
                        quantity=1,
                        origin="after_distribution",
                        action="destroyed",
                    )
                )

    event.listen(db.engine, "before_cursor_execute", record_meanwhile)
    try:
        today = now.date()
        loaded = list(reports._incidents(world.org_id, today - timedelta(days=10), today))
    finally:
        event.remove(db.engine, "before_cursor_execute", record_meanwhile)
    assert recorded_during
    assert [(record.description, len(record.lines)) for record in loaded] == [
        ("Recorded before.", 1)
    ]


def test_evidence_report_says_when_there_is_nothing(app, world):
    frame = ReportFrame("Calais Aid", "Evidence report", "1 Nov 2026 – 7 Nov 2026", "now")
    text = pdf_text(evidence_pdf.build(frame, [], ZoneInfo("Europe/Paris"), {}))
    assert "No incidents in this period." in text and "Page 1 of 1" in text


def _record(number: int, **changes) -> evidence_pdf.IncidentRecord:
    moment = datetime(2026, 11, 1, 5, 30, tzinfo=UTC) + timedelta(hours=number)
    record = evidence_pdf.IncidentRecord(
        id=number,
        occurred_at=moment,
        ended_at=None,
        kind="eviction",
        area="Calais",
        site="Verrotières point",
        forces_present="4 gendarmerie vans, 1 PAF van",
        bailiff_present="yes",
        interpreter_present="no",
        legal_basis_shown="unknown",
        shelter_offered="no",
        people_affected=120,
        shelters_affected=None,
        witnesses="",
        description=f"Incident {number}: tents cut open at dawn.",
        locked_at=moment + timedelta(days=7),
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def _pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


FRAME = ReportFrame("Calais Aid", "Evidence report", "1 Nov 2026 – 30 Nov 2026", "30 Nov 2026")
ZONE = ZoneInfo("Europe/Paris")
ACCENTED = "Évacuation à Loon-Plage, ½ tentes, ça coûte cher"


def test_a_block_split_across_pages_keeps_its_text_and_repeats_the_lines_header():
    lines = [
        evidence_pdf.LineRecord(
            f"Blanket batch {n:03d}", n + 1, "seized", "from_stock", "Main", n % 2 == 0
        )
        for n in range(150)
    ]
    records = [_record(1), _record(2, lines=lines), _record(3)]
    pages = _pages(evidence_pdf.build(FRAME, records, ZONE, {}))
    assert len(pages) >= 3
    text = " ".join(pages)
    for n in range(150):
        mark = "yes" if n % 2 == 0 else "no"
        assert f"Blanket batch {n:03d} {n + 1} Seized from stock at Main {mark}" in text
    spanned = [page for page in pages if "Blanket batch" in page]
    assert len(spanned) >= 3
    for page in spanned:  # every page the lines run over starts them with their header
        assert page.count("Item Qty Action Whose Our mark") == 1
    for page in spanned[1:]:
        assert "#2 (continued)" in page
    assert text.count("#2 ·") == 1
    assert "Incident 3: tents cut open at dawn." in pages[-1]


def test_a_long_description_wraps_and_extracts_whole():
    url = "https://example.org/" + "photos-of-the-eviction-" * 8 + "end"
    words = [f"word{n}" for n in range(400)]
    description = " ".join(words[:200]) + "\n\n" + " ".join(words[200:]) + " " + url
    pages = _pages(evidence_pdf.build(FRAME, [_record(1, description=description)], ZONE, {}))
    text = " ".join(pages)
    assert " ".join(words[:200]) in text and " ".join(words[200:]) in text
    assert url in text.replace(" ", "")
    width = evidence_pdf.VALUE_WIDTH
    style = TextStyle(evidence_pdf.FONT, 8)
    lines = wrap_text(description, style, width)
    assert len(lines) > 10
    assert all(stringWidth(line, style.font, style.size) <= width for line in lines)


@pytest.mark.parametrize("width", [40.0, 104.5, 395.0])
def test_wrapped_lines_fit_and_keep_every_word_in_order(width):
    rng = random.Random(int(width))
    pieces = ["tente", "Évacuation", "CRS", "ça", "½", "@@@@@@@@@@@@@@@@@@@@", "WWW", "a"]
    style = TextStyle(evidence_pdf.FONT, 8)
    for _ in range(200):
        words = [rng.choice(pieces) for _ in range(rng.randint(1, 60))]
        text = (" " * rng.randint(1, 3)).join(words)
        lines = wrap_text(text, style, width)
        assert all(stringWidth(line, style.font, style.size) <= width for line in lines)
        # Nothing lost or reordered: words cut inside only when wider than the line.
        assert "".join("".join(lines).split()) == "".join(words)
        if all(stringWidth(word, style.font, style.size) <= width for word in words):
            assert " ".join(" ".join(lines).split()) == " ".join(words)


def test_accents_print_and_extract():
    record = _record(1, area="Loon-Plage", description=ACCENTED, witnesses="Zoé, Gaëlle")
    text = " ".join(_pages(evidence_pdf.build(FRAME, [record], ZONE, {})))
    assert ACCENTED in text and "Zoé, Gaëlle" in text and "Eviction · Loon-Plage" in text


def test_page_x_of_y_on_a_long_evidence_report():
    pages = _pages(evidence_pdf.build(FRAME, [_record(n) for n in range(1, 60)], ZONE, {}))
    assert len(pages) > 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    text = " ".join(pages)
    assert all(f"Incident {n}: tents cut open at dawn." in text for n in range(1, 60))


def test_a_report_uses_only_public_reportlab_and_leaves_the_collector_and_settings_alone():
    from reportlab import rl_config, rl_settings

    collector: list[bool] = []
    pdf = evidence_pdf.build(
        FRAME,
        [_record(n) for n in range(1, 30)],
        ZONE,
        {},
        on_page=lambda page: collector.append(gc.isenabled()),
    )
    assert len(collector) == len(_pages(pdf)) > 1 and all(collector)
    assert rl_config.useA85 == rl_settings.useA85  # nothing changed ReportLab's settings
    # No private name of ReportLab's (canvas._doc, _escape...), nor its low-level encoders.
    forbidden = re.compile(
        r"\._(doc|escape|curSubset|dynamicFont)\b|splitString|getSubsetInternalName"
        r"|addLiteral|rl_config|gc\.disable"
    )
    source = Path(evidence_pdf.__file__).parents[1]
    for path in source.rglob("*.py"):
        assert not forbidden.search(path.read_text(encoding="utf-8")), path


def test_stocktake_sheet_and_run_sheet(app, world, scenario):
    sheet = pdf_text(
        _read(app, _make(app, world, ReportRequest("stocktake", site_id=world.sites["main"])))
    )
    assert "Stocktake count sheet" in sheet and "Main warehouse (Calais)" in sheet
    assert "Blanket pieces 60" in sheet and "Tent 2-person pieces 20" in sheet
    upcoming = db.session.scalar(
        select(Distribution).where(Distribution.local_date == scenario["today"])
    )
    run = pdf_text(
        _read(app, _make(app, world, ReportRequest("run_sheet", distribution_id=upcoming.id)))
    )
    assert "Verrotières point (Calais)" in run and "Hot meal meals 350 370" in run


def test_another_organisations_site_or_distribution_is_not_found(app, world, other_world):
    with pytest.raises(NotFound):
        reports.render_pdf(
            db.session.get(Organisation, world.org_id),
            ReportRequest("stocktake", site_id=other_world.sites["main"]),
            datetime.now(UTC),
        )


def test_weekly_job_makes_one_report_per_organisation_even_run_twice(app, world, other_world):
    for organisation in db.session.scalars(select(Organisation)):
        organisation.weekly_report_weekday = datetime.now(UTC).weekday()
        organisation.weekly_report_hour = 0
    db.session.commit()
    assert "2 weekly report(s) made" in run_job(app, "weekly-reports")
    assert "0 weekly report(s) made" in run_job(app, "weekly-reports")
    assert db.session.scalar(select(func.count(Report.id))) == 2


def test_share_links_stop_working_when_expired_or_revoked(world):
    link, token = reports.create_share_link(world.org_id, None, label="Parish newsletter")
    db.session.commit()
    assert reports.resolve_share_token(token).id == link.id
    assert link.token_hash != token and token not in link.token_hash
    reports.revoke_share_link(world.org_id, link.id)
    db.session.commit()
    with pytest.raises(NotFound):
        reports.resolve_share_token(token)
    old, old_token = reports.create_share_link(world.org_id, None, days=1)
    old.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(NotFound):
        reports.resolve_share_token(old_token)


def test_kitchen_plan_sheet_lists_meals_and_ingredients(app, world):
    from logistics.services import kitchen

    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    onions = catalogue.save_item(
        world.org_id, {"name": "Onions", "category": "ingredient", "unit": "kg"}
    )
    today = distributions.local_today(world.org_id)
    tomorrow = today + timedelta(days=1)
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        starts_at=datetime.combine(
            tomorrow, time(12), tzinfo=reports.organisation_zone(world.org_id)
        ),
        lines=[(meals.id, 400)],
    )
    recipe = kitchen.save_recipe(
        world.org_id, name="Dal and rice", dietary_notes="vegetarian", lines=[(onions.id, "13.6")]
    )
    kitchen.choose_menu(world.org_id, None, world.sites["kitchen"], tomorrow, recipe.id)
    db.session.commit()
    text = pdf_text(_read(app, _make(app, world, ReportRequest("kitchen", tomorrow))))
    assert "Kitchen plan sheet" in text and "Community kitchen: 400 meals planned" in text
    assert "Verrotières point Hot meal" in text and "Dal and rice" in text
    # Expected people are whole, as on the plan page (the forecast was "400.0").
    assert re.search(r"Verrotières point Hot meal 400 \S", text) and "400.0" not in text
    # 400 meals × 13.6 kg per 100 = 54.4 kg, rounded up; none held.
    assert "Community kitchen Onions kg 55 0 55" in text
