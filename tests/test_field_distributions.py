"""Distributions in the field: where to go on the day, the kitchen plan on a phone, printing
without JavaScript, and outcomes recorded long before the start asking to be confirmed."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

import pytest
from conftest import World, form_token
from factories import (
    Api,
    assert_error,
    inline_script,
    kitchen_items,
    meal_series,
    occurrence,
    receive,
    tomorrow,
)
from pypdf import PdfReader
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Distribution, StockMovement
from logistics.services import distributions
from logistics.services.distributions import OutcomeInput
from logistics.services.errors import ValidationError
from logistics.services.kitchen import Forecast

pytestmark = pytest.mark.postgres

DETAILS = "Rue des Verrotières, woods"  # the point's precise place, as conftest's world has it


def _one_off(world: World, day: date, at: time = time(18, 0), **lines: int) -> Distribution:
    zone = distributions.organisation_zone(world.org_id)
    made = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=datetime.combine(day, at, tzinfo=zone),
        lines=[(world.items[key], quantity) for key, quantity in lines.items()],
    )
    db.session.commit()
    return made


def _cards(html: str) -> list[str]:
    """Return the agenda's cards, one per distribution."""
    return html.split('<div class="card')[1:]


def _pdf_text(client, distribution_id: int) -> str:
    sheet = client.get(f"/distributions/{distribution_id}").get_data(as_text=True)
    made = client.post(
        f"/reports/run-sheet/{distribution_id}", data={"request_token": form_token(sheet)}
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    pdf = client.get(made.headers["Location"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


# --- where to go -------------------------------------------------------------------------------


def test_crews_see_where_the_point_is_on_the_day_only(world: World, client_as) -> None:
    today = distributions.local_today(world.org_id)
    tonight = _one_off(world, today, time(23, 30), blanket=5)
    next_day = _one_off(world, today + timedelta(days=1), blanket=5)
    for role in ("warehouse", "kitchen"):
        crew = client_as(role)
        cards = _cards(crew.get("/distributions").get_data(as_text=True))
        assert [DETAILS in card for card in cards] == [True, False], role
        assert DETAILS in crew.get(f"/distributions/{tonight.id}").get_data(as_text=True)
        assert DETAILS not in crew.get(f"/distributions/{next_day.id}").get_data(as_text=True)
    coordinator = client_as("coordinator")
    cards = _cards(coordinator.get("/distributions").get_data(as_text=True))
    assert [DETAILS in card for card in cards] == [True, True]
    assert DETAILS in coordinator.get(f"/distributions/{next_day.id}").get_data(as_text=True)


def test_the_run_sheet_pdf_says_where_only_when_made_on_the_day(world: World, client_as) -> None:
    today = distributions.local_today(world.org_id)
    tonight = _one_off(world, today, time(23, 30), blanket=5)
    next_day = _one_off(world, today + timedelta(days=1), blanket=5)
    warehouse = client_as("warehouse")
    on_the_day = _pdf_text(warehouse, tonight.id)
    assert "Verrotières point (Calais)" in on_the_day and f"Where: {DETAILS}" in on_the_day
    # Archived for every staff member: a sheet made ahead names the area only, whoever made it.
    for role in ("warehouse", "coordinator"):
        ahead = _pdf_text(client_as(role), next_day.id)
        assert "Verrotières point (Calais)" in ahead and "woods" not in ahead, role


def test_donors_never_see_a_run_sheet(world: World, client_as) -> None:
    today = distributions.local_today(world.org_id)
    tonight = _one_off(world, today, time(23, 30), blanket=5)
    warehouse = client_as("warehouse")
    sheet = warehouse.get(f"/distributions/{tonight.id}").get_data(as_text=True)
    made = warehouse.post(
        f"/reports/run-sheet/{tonight.id}", data={"request_token": form_token(sheet)}
    )
    archived = made.headers["Location"]
    donor = client_as("donor")
    assert donor.get("/distributions").status_code == 403
    assert donor.get(f"/distributions/{tonight.id}").status_code == 403
    assert (
        donor.post(f"/reports/run-sheet/{tonight.id}", data={"request_token": "d"}).status_code
        == 403
    )
    assert donor.get(archived).status_code == 404
    assert DETAILS not in donor.get("/reports").get_data(as_text=True)


# --- the run sheet prints without JavaScript ---------------------------------------------------


def test_the_run_sheet_prints_through_its_pdf_not_a_script(world: World, client_as) -> None:
    tonight = _one_off(world, distributions.local_today(world.org_id), blanket=5)
    for role in ("warehouse", "coordinator"):
        sheet = client_as(role).get(f"/distributions/{tonight.id}").get_data(as_text=True)
        assert "javascript:" not in sheet and not inline_script(sheet) and "onclick" not in sheet
        assert f'action="/reports/run-sheet/{tonight.id}"' in sheet
        assert "PDF to print" in sheet


# --- the kitchen plan on a phone ----------------------------------------------------------------


def _held_history(world: World, series, counts: dict[date, int]) -> None:
    for day, headcount in counts.items():
        distributions.record_outcome(
            world.org_id, None, occurrence(series, day).id, OutcomeInput("held", headcount)
        )
    db.session.commit()


def test_the_kitchen_plan_is_one_card_per_distribution_in_whole_people(
    world: World, client_as
) -> None:
    kitchen_items(world)
    t = tomorrow(world)
    usual = meal_series(world, t - timedelta(days=28), 400, time(12, 0))
    # 410, 380, 420, 400 on the same weekday: 402.5 expected, shown as 403 people.
    _held_history(
        world,
        usual,
        {t - timedelta(days=7 * n): c for n, c in ((1, 410), (2, 380), (3, 420), (4, 400))},
    )
    meal_series(world, t, 300, time(18, 0))
    lead = client_as("kitchen")
    html = lead.get(f"/kitchen?day={t.isoformat()}").get_data(as_text=True)
    assert "<title>Kitchen" in html and html.count('id="ingredients"') == 1
    day = html.split(f'id="day-{t.isoformat()}"')[1].split("<h2")[0]
    cards = day.split('<div class="card meal-card">')[1:]
    assert len(cards) == 2
    assert "<table" not in day  # no table to scroll sideways
    assert "Expected people: <strong>403</strong>" in cards[0] and "402.5" not in html
    assert "Expected people: <strong>300</strong>" in cards[1]
    # Each card holds its own labelled box, filled with the recommendation.
    for card, recommended in zip(cards, ("443", "330"), strict=True):
        box = re.search(r'<label for="(meals-\d+)">', card)
        assert box, card
        assert re.search(rf'id="{box[1]}"[^>]*value="{recommended}"', card), card


def test_whole_people_rounds_half_up() -> None:
    def people(expected: Fraction) -> int:
        return Forecast(expected, "plan", []).expected_people

    assert [people(Fraction(805, 2)), people(Fraction(2012, 5)), people(Fraction(300))] == [
        403,
        402,
        300,
    ]


# --- an outcome long before the start asks to be confirmed -------------------------------------


@pytest.fixture
def nine_in_the_morning(world: World, monkeypatch) -> datetime:
    """Make it 09:00 on 20 November 2026 in Calais, nine hours before the evening distribution."""
    moment = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(distributions, "utcnow", lambda: moment)
    return moment


def _movements() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(StockMovement.id)))


def test_the_service_asks_only_for_held_or_disrupted_more_than_6_hours_ahead(
    world: World,
) -> None:
    evening = _one_off(world, date(2026, 11, 20), blanket=5)  # 18:00 Paris is 17:00 UTC
    early = datetime(2026, 11, 20, 10, 59, tzinfo=UTC)
    with pytest.raises(ValidationError, match="starts at 18:00, more than 6 hours") as asked:
        distributions.check_not_early(evening, "held", False, now=early)
    assert "confirm_early" in asked.value.fields
    with pytest.raises(ValidationError):
        distributions.check_not_early(evening, "disrupted", False, now=early)
    distributions.check_not_early(evening, "held", True, now=early)
    distributions.check_not_early(evening, "cancelled", False, now=early)
    distributions.check_not_early(evening, "held", False, now=early + timedelta(minutes=1))
    # Tomorrow's is not "early" but refused outright by record_outcome.
    distributions.check_not_early(evening, "held", False, now=early - timedelta(days=1))


def test_an_early_outcome_page_asks_then_records_when_confirmed(
    world: World, client_as, nine_in_the_morning
) -> None:
    receive(world, "main", "blanket", 50)
    evening = _one_off(world, date(2026, 11, 20), blanket=40)
    warehouse = client_as("warehouse")
    url = f"/distributions/{evening.id}/outcome"
    page = warehouse.get(url).get_data(as_text=True)
    assert "Yes, record it now" not in page
    values = {
        "request_token": form_token(page),
        "status": "held",
        "headcount": "120",
        "note": "Finished early",
        "lines-0-item": "Blanket",
        "lines-0-quantity": "35",
    }
    asked = warehouse.post(url, data=values)
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "This distribution starts at 18:00, more than 6 hours from now." in text
    assert 'name="confirm_early"' in text and "Yes, record it now" in text
    # What was typed stays, and nothing was recorded.
    assert 'value="120"' in text and "Finished early" in text and 'value="35"' in text
    assert _movements() == 1
    assert db.session.get(Distribution, evening.id).status == "planned"

    confirmed = warehouse.post(url, data=values | {"confirm_early": "y"})
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    assert _movements() == 2
    recorded = db.session.get(Distribution, evening.id)
    assert recorded.status == "held" and recorded.headcount == 120

    # Cancelling ahead is what cancelling is for: no question asked.
    later = _one_off(world, date(2026, 11, 20), time(20, 0), blanket=5)
    page = warehouse.get(f"/distributions/{later.id}/outcome").get_data(as_text=True)
    cancelled = warehouse.post(
        f"/distributions/{later.id}/outcome",
        data={"request_token": form_token(page), "status": "cancelled"},
    )
    assert cancelled.status_code == 302


def test_an_early_outcome_by_api_is_422_unless_confirmed(
    world: World, api, nine_in_the_morning
) -> None:
    receive(world, "main", "blanket", 50)
    evening = _one_off(world, date(2026, 11, 20), blanket=40)
    warehouse: Api = api("warehouse")
    url = f"/distributions/{evening.id}/outcome"
    body = {
        "status": "held",
        "headcount": 80,
        "lines": [{"item_id": world.items["blanket"], "given": 30}],
        "request_token": "early-api-1",
    }
    error = assert_error(warehouse.post(url, body), 422, "invalid", "confirm_early")
    assert "more than 6 hours" in error["message"]
    assert _movements() == 1
    # The refusal did not use up the token: the same request, confirmed, records.
    response = warehouse.post(url, body | {"confirm_early": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "held"
    assert _movements() == 2


def test_the_outcome_choices_are_buttons_a_thumb_can_hit(world: World, client_as) -> None:
    tonight = _one_off(world, distributions.local_today(world.org_id), blanket=5)
    page = client_as("warehouse").get(f"/distributions/{tonight.id}/outcome")
    html = page.get_data(as_text=True)
    # Each choice is a whole button (label.choice: the radio covers it, 44 px tall), not a
    # 13 px round box.
    assert re.findall(
        r'<label class="choice"><input[^>]*name="status"[^>]*value="(\w+)"', html
    ) == [
        "held",
        "disrupted",
        "cancelled",
    ]
