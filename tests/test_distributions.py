"""Distributions: recurrence, plans, outcomes that move stock, figures, roles."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Distribution, StockMovement
from logistics.services import catalogue, distributions, ledger, stock
from logistics.services.distributions import OutcomeInput
from logistics.services.errors import InsufficientStock, ValidationError

# Europe/Paris leaves summer time on Sunday 25 October 2026.
BEFORE_DST_END = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


def _stock(world, item: str, quantity: int, site: str = "main") -> None:
    ledger.receive(
        world.org_id, None, site_id=world.sites[site], item_id=world.items[item], quantity=quantity
    )


def _daily_series(world, lines, starts_on: date, now: datetime, weekdays=range(7)):
    series = distributions.create_series(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        weekdays=weekdays,
        local_time=time(18, 0),
        starts_on=starts_on,
        ends_on=None,
        lines=[(world.items[key], quantity) for key, quantity in lines],
        now=now,
    )
    db.session.commit()
    return series


def _occurrences(series) -> dict[date, Distribution]:
    rows = db.session.scalars(select(Distribution).where(Distribution.series_id == series.id))
    return {d.local_date: d for d in rows}


def _movement_count() -> int:
    return db.session.scalar(select(func.count(StockMovement.id)))


def test_series_keeps_local_time_across_dst_and_generates_28_days(world):
    series = _daily_series(world, [("blanket", 40)], date(2026, 10, 20), BEFORE_DST_END)
    occurrences = _occurrences(series)
    assert min(occurrences) == date(2026, 10, 20)
    assert max(occurrences) == date(2026, 10, 20) + timedelta(days=28)
    assert len(occurrences) == 29
    # 18:00 in Paris is 16:00 UTC in summer time and 17:00 UTC after 25 October.
    assert occurrences[date(2026, 10, 24)].starts_at == datetime(2026, 10, 24, 16, tzinfo=UTC)
    assert occurrences[date(2026, 10, 26)].starts_at == datetime(2026, 10, 26, 17, tzinfo=UTC)
    assert [
        (line.item_id, line.planned_quantity) for line in occurrences[date(2026, 11, 1)].lines
    ] == [(world.items["blanket"], 40)]


def test_series_starting_in_the_past_generates_its_history(world):
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    series = _daily_series(world, [("water", 300)], date(2026, 11, 2), now, weekdays=[0, 3])
    days = sorted(_occurrences(series))
    assert days[0] == date(2026, 11, 2)
    assert all(day.weekday() in (0, 3) for day in days)
    assert days[-1] <= date(2026, 11, 26) + timedelta(days=28)


def test_extend_series_is_idempotent_and_keeps_28_days_ahead(world):
    series = _daily_series(world, [("blanket", 10)], date(2026, 10, 20), BEFORE_DST_END)
    assert distributions.extend_all_series(now=BEFORE_DST_END) == 0
    assert distributions.extend_all_series(now=BEFORE_DST_END + timedelta(days=7)) == 7
    db.session.commit()
    assert len(_occurrences(series)) == 36


def test_editing_one_occurrence_is_not_undone_by_editing_the_series(world):
    now = BEFORE_DST_END
    series = _daily_series(world, [("blanket", 40)], date(2026, 10, 21), now)
    occurrences = _occurrences(series)
    edited = occurrences[date(2026, 10, 30)]
    distributions.edit_occurrence(
        world.org_id,
        edited.id,
        starts_at=datetime(
            2026, 10, 30, 19, 30, tzinfo=distributions.organisation_zone(world.org_id)
        ),
        lines=[(world.items["blanket"], 60), (world.items["tent"], 5)],
    )
    db.session.commit()
    # The series moves to weekdays only, at 17:00, carrying 30 blankets.
    distributions.update_series(
        world.org_id,
        series.id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        weekdays=[0, 1, 2, 3, 4],
        local_time=time(17, 0),
        starts_on=date(2026, 10, 21),
        ends_on=None,
        lines=[(world.items["blanket"], 30)],
        now=now,
    )
    db.session.commit()
    db.session.expire_all()
    occurrences = _occurrences(series)
    plan = {line.item_id: line.planned_quantity for line in occurrences[date(2026, 10, 30)].lines}
    assert plan == {world.items["blanket"]: 60, world.items["tent"]: 5}
    assert occurrences[date(2026, 10, 30)].starts_at == datetime(2026, 10, 30, 18, 30, tzinfo=UTC)
    following = occurrences[date(2026, 11, 2)]
    assert [(line.item_id, line.planned_quantity) for line in following.lines] == [
        (world.items["blanket"], 30)
    ]
    assert following.starts_at == datetime(2026, 11, 2, 16, tzinfo=UTC)
    assert date(2026, 10, 31) not in occurrences  # a Saturday, dropped from the series


def test_outcome_writes_exactly_the_given_quantities(world):
    _stock(world, "blanket", 100)
    _stock(world, "sleeping_bag", 50)
    db.session.commit()
    series = _daily_series(world, [("blanket", 40)], date(2026, 11, 20), datetime.now(UTC))
    tonight = _occurrences(series)[date(2026, 11, 20)]
    distributions.record_outcome(
        world.org_id,
        world.users["warehouse"],
        tonight.id,
        OutcomeInput(
            status="held",
            headcount=420,
            headcount_minors=35,
            given=[(world.items["blanket"], 38), (world.items["sleeping_bag"], 12)],
        ),
    )
    db.session.commit()
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 62
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 38
    movements = distributions.live_movements(tonight)
    assert sorted((m.item_id, m.quantity, m.kind) for m in movements) == sorted(
        [
            (world.items["blanket"], -38, "distribution"),
            (world.items["sleeping_bag"], -12, "distribution"),
        ]
    )
    given = {line.item_id: (line.planned_quantity, line.given_quantity) for line in tonight.lines}
    assert given == {world.items["blanket"]: (40, 38), world.items["sleeping_bag"]: (0, 12)}


def test_short_outcome_is_refused_whole_naming_each_short_item(world):
    _stock(world, "blanket", 100)
    _stock(world, "tent", 3)
    db.session.commit()
    series = _daily_series(world, [("blanket", 40)], date(2026, 11, 20), datetime.now(UTC))
    tonight = _occurrences(series)[date(2026, 11, 20)]
    before = _movement_count()
    with pytest.raises(InsufficientStock) as refusal:
        distributions.record_outcome(
            world.org_id,
            None,
            tonight.id,
            OutcomeInput(
                status="held",
                headcount=300,
                given=[
                    (world.items["blanket"], 40),
                    (world.items["tent"], 5),
                    (world.items["tarp"], 2),
                ],
            ),
        )
    db.session.rollback()
    message = refusal.value.message
    assert "Only 3 Tent (2-person) at Main warehouse; cannot give out 5." in message
    assert "Only 0 Tarpaulin (4x6 m) at Main warehouse; cannot give out 2." in message
    assert "Blanket" not in message
    assert _movement_count() == before
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 100
    assert db.session.get(Distribution, tonight.id).status == "planned"


def test_correcting_an_outcome_reverses_and_rerecords_and_balances(world):
    _stock(world, "blanket", 100)
    db.session.commit()
    series = _daily_series(world, [("blanket", 40)], date(2026, 11, 20), datetime.now(UTC))
    tonight = _occurrences(series)[date(2026, 11, 20)]
    first = OutcomeInput(status="held", headcount=300, given=[(world.items["blanket"], 40)])
    distributions.record_outcome(world.org_id, None, tonight.id, first)
    db.session.commit()
    corrected = OutcomeInput(
        status="disrupted",
        headcount=120,
        note="CRS arrived at 18:20",
        given=[(world.items["blanket"], 25)],
    )
    distributions.record_outcome(world.org_id, None, tonight.id, corrected)
    db.session.commit()
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 75
    assert [m.quantity for m in distributions.live_movements(tonight)] == [-25]
    assert stock.check_ledger() == []
    # Cancelling after all puts everything back.
    distributions.record_outcome(world.org_id, None, tonight.id, OutcomeInput(status="cancelled"))
    db.session.commit()
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 100
    assert distributions.live_movements(tonight) == []
    assert stock.check_ledger() == []


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (OutcomeInput(status="held"), "Say how many people came"),
        (OutcomeInput(status="held", headcount=10, headcount_minors=11), "cannot be more than"),
        (OutcomeInput(status="disrupted", headcount=-1), "cannot be negative"),
        (OutcomeInput(status="cancelled", given=[(0, 5)]), "gives nothing"),
        (OutcomeInput(status="lost"), "held, disrupted or cancelled"),
    ],
)
def test_bad_outcomes_are_refused_plainly(world, outcome, message):
    _stock(world, "blanket", 10)
    series = _daily_series(world, [("blanket", 5)], date(2026, 11, 20), datetime.now(UTC))
    tonight = _occurrences(series)[date(2026, 11, 20)]
    outcome.given = [(world.items["blanket"], q) for _, q in outcome.given]
    with pytest.raises(ValidationError, match=message):
        distributions.record_outcome(world.org_id, None, tonight.id, outcome)


def test_a_future_distribution_can_be_cancelled_but_not_held(world):
    now = datetime.now(UTC)
    series = _daily_series(world, [("blanket", 5)], distributions.local_today(world.org_id), now)
    later = max(_occurrences(series).values(), key=lambda d: d.local_date)
    with pytest.raises(ValidationError, match="not happened yet"):
        distributions.record_outcome(
            world.org_id, None, later.id, OutcomeInput(status="held", headcount=10)
        )
    distributions.record_outcome(
        world.org_id, None, later.id, OutcomeInput(status="cancelled", note="Ban announced")
    )
    db.session.commit()
    assert later.status == "cancelled"


def test_figures_for_a_period_match_a_hand_count(world):
    _stock(world, "blanket", 500)
    _stock(world, "water", 5000)
    db.session.commit()
    series = _daily_series(world, [("blanket", 40)], date(2026, 11, 1), datetime.now(UTC))
    days = _occurrences(series)
    outcomes = {
        date(2026, 11, 2): OutcomeInput("held", 410, 30, 12, given=[(world.items["blanket"], 40)]),
        date(2026, 11, 3): OutcomeInput(
            "disrupted", 150, given=[(world.items["blanket"], 10), (world.items["water"], 600)]
        ),
        date(2026, 11, 4): OutcomeInput("cancelled"),
        date(2026, 11, 9): OutcomeInput("held", 999, given=[(world.items["blanket"], 99)]),
    }
    for day, outcome in outcomes.items():
        distributions.record_outcome(world.org_id, None, days[day].id, outcome)
    db.session.commit()
    result = distributions.figures(world.org_id, date(2026, 11, 2), date(2026, 11, 8))
    assert result.by_status == {"planned": 4, "held": 1, "disrupted": 1, "cancelled": 1}
    assert (result.people_served, result.minors, result.women) == (560, 30, 12)
    assert {row.label: row.quantity for row in result.items} == {
        "Blanket": 50,
        "Drinking water": 600,
    }
    assert result.by_category == {"bedding": 50, "water": 600}


def test_agenda_marks_the_first_distribution_the_stock_cannot_cover(world):
    _stock(world, "blanket", 100)
    db.session.commit()
    today = distributions.local_today(world.org_id)
    _daily_series(world, [("blanket", 40)], today, datetime.now(UTC))
    entries = distributions.agenda(world.org_id, today, today + timedelta(days=3))
    assert [entry.short for entry in entries] == [False, False, True, True]


def test_a_later_page_marks_what_the_earlier_pages_drew_first(world, client_as):
    # 45 blankets for 80 distributions of one each over two days: the 46th, on the second
    # page, is the first its source cannot cover, and every later one is short too.
    _stock(world, "blanket", 45)
    first = distributions.local_today(world.org_id) + timedelta(days=1)
    ids = _busy_days(world, first, 2)
    db.session.commit()
    client = client_as("coordinator")
    pages = [
        _cards(client.get(f"/distributions?day={first}&page={n}").get_data(as_text=True))
        for n in (1, 2, 3)
    ]
    assert [len(cards) for cards in pages] == [30, 30, 20]
    assert [short for _, short in pages[0]] == [False] * 30
    assert [short for _, short in pages[1]] == [False] * 15 + [True] * 15
    assert [short for _, short in pages[2]] == [True] * 20
    # As the whole window drawn at once marks them, line by line.
    whole = distributions.agenda(world.org_id, first, first + timedelta(days=1))
    assert [entry.distribution.id for entry in whole] == ids
    assert [card for cards in pages for card in cards] == [
        (entry.distribution.id, entry.short) for entry in whole
    ]
    second = distributions.agenda_page(world.org_id, first, first + timedelta(days=1), 2)
    assert [entry.lines[0].missing for entry in second.entries] == [0] * 15 + [1] * 15
    assert (second.page, second.pages, second.start, second.end, second.total) == (
        2,
        3,
        31,
        60,
        80,
    )


def test_an_agenda_page_leaves_meals_cooked_on_the_day_and_past_outcomes_undrawn(world):
    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "Meal "}
    )
    kitchen = catalogue.save_site(
        world.org_id, {"name": "Kitchen", "kind": "kitchen", "area": "Calais"}
    )
    _stock(world, "blanket", 3)
    today = distributions.local_today(world.org_id)
    zone = distributions.organisation_zone(world.org_id)
    made = [
        distributions.create_one_off(
            world.org_id,
            site_id=world.sites["point"],
            source_site_id=kitchen.id,
            starts_at=datetime.combine(today + timedelta(days=1), time(9 + n), zone),
            lines=[
                (meals.id, 100),
                distributions.PlanLine(world.items["blanket"], 2, world.sites["main"]),
            ],
        )
        for n in range(3)
    ]
    db.session.commit()
    page = distributions.agenda_page(world.org_id, today, today + timedelta(days=6), size=2)
    assert [entry.id for entry in page.entries] == [made[0].id, made[1].id]
    lines = [{line.label: line.missing for line in entry.lines} for entry in page.entries]
    assert lines == [{"Hot meal": 0, "Blanket": 0}, {"Hot meal": 0, "Blanket": 1}]
    last = distributions.agenda_page(world.org_id, today, today + timedelta(days=6), 2, size=2)
    assert [entry.id for entry in last.entries] == [made[2].id] and last.entries[0].short
    assert [line.missing for line in last.entries[0].lines] == [0, 2]
    assert last.entries[0].lines[1].source_site == "Main warehouse"


# --- pages -----------------------------------------------------------------------------------


def test_done_when_flow_through_the_pages(app, world, client_as):
    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    _stock(world, "blanket", 200)
    ledger.receive(world.org_id, None, site_id=world.sites["main"], item_id=meals.id, quantity=400)
    db.session.commit()
    today = distributions.local_today(world.org_id)
    coordinator = client_as("coordinator")
    response = coordinator.post(
        "/series/new",
        data={
            "site_id": world.sites["point"],
            "source_site_id": world.sites["main"],
            "weekdays": [str(d) for d in range(7)],
            "local_time": "18:00",
            "starts_on": today.isoformat(),
            "lines-0-item": "Hot meal",
            "lines-0-quantity": "300",
            "lines-1-item": "Blanket",
            "lines-1-quantity": "40",
            "request_token": "series-1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    agenda = coordinator.get("/distributions").get_data(as_text=True)
    assert "Verrotières point" in agenda and "Hot meal 300" in agenda and "Blanket 40" in agenda
    tonight = db.session.scalar(select(Distribution).where(Distribution.local_date == today))
    warehouse = client_as("warehouse")
    response = warehouse.post(
        f"/distributions/{tonight.id}/outcome",
        data={
            "status": "disrupted",
            "headcount": "120",
            "note": "CRS stopped the distribution at 18:20",
            "lines-0-item": "Hot meal",
            "lines-0-quantity": "120",
            "lines-1-item": "Blanket",
            "lines-1-quantity": "25",
            # Tonight's 18:00 may lie more than 6 hours ahead when the suite runs: confirmed.
            "confirm_early": "y",
            "request_token": "outcome-1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 175
    assert ledger.held(world.sites["main"], meals.id) == 280
    sheet = warehouse.get(f"/distributions/{tonight.id}").get_data(as_text=True)
    assert "Outcome recorded: disrupted." in sheet and "CRS stopped" in sheet


def test_short_outcome_on_the_page_names_the_item_and_writes_nothing(world, client_as):
    _stock(world, "blanket", 10)
    db.session.commit()
    series = _daily_series(world, [("blanket", 40)], date(2026, 11, 20), datetime.now(UTC))
    tonight = _occurrences(series)[date(2026, 11, 20)]
    page = client_as("warehouse").post(
        f"/distributions/{tonight.id}/outcome",
        data={
            "status": "held",
            "headcount": "300",
            "lines-0-item": "Blanket",
            "lines-0-quantity": "40",
            "request_token": "o-2",
        },
    )
    assert page.status_code == 200
    assert "Only 10 Blanket at Main warehouse; cannot give out 40." in page.get_data(as_text=True)
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 10


def test_another_organisations_distribution_ids_are_404(world, other_world, client_as):
    theirs = _daily_series(other_world, [("blanket", 5)], date(2026, 11, 20), datetime.now(UTC))
    their_first = _occurrences(theirs)[date(2026, 11, 20)]
    client = client_as("admin")
    for url in (
        f"/distributions/{their_first.id}",
        f"/distributions/{their_first.id}/outcome",
        f"/distributions/{their_first.id}/plan",
        f"/series/{theirs.id}/edit",
        f"/distributions/figures?site_id={other_world.sites['point']}",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/distributions/{their_first.id}/outcome",
        data={"status": "cancelled", "request_token": "x"},
    )
    assert response.status_code == 404
    assert client.post(f"/series/{theirs.id}/end", data={"request_token": "y"}).status_code == 404


def test_run_job_extend_series_command(app, world):
    _daily_series(
        world, [("blanket", 5)], distributions.local_today(world.org_id), datetime.now(UTC)
    )
    result = app.test_cli_runner().invoke(args=["run-job", "extend-series"])
    assert result.exit_code == 0, result.output
    assert "0 distribution(s) generated." in result.output


def test_a_kitchen_meal_count_survives_series_edits_which_still_apply_to_the_day(world):
    from logistics.services import kitchen

    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    now = BEFORE_DST_END
    series = distributions.create_series(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        weekdays=range(7),
        local_time=time(12, 0),
        starts_on=date(2026, 10, 21),
        ends_on=None,
        lines=[(meals.id, 300), (world.items["blanket"], 10)],
        now=now,
    )
    day = _occurrences(series)[date(2026, 10, 30)]
    kitchen.set_planned_meals(world.org_id, day.id, 420)
    db.session.commit()
    distributions.update_series(
        world.org_id,
        series.id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        weekdays=range(7),
        local_time=time(12, 30),
        starts_on=date(2026, 10, 21),
        ends_on=None,
        lines=[(meals.id, 350), (world.items["blanket"], 20)],
        now=now,
    )
    db.session.commit()
    db.session.expire_all()
    occurrences = _occurrences(series)
    chosen = {line.item_id: line.planned_quantity for line in occurrences[date(2026, 10, 30)].lines}
    assert chosen == {meals.id: 420, world.items["blanket"]: 20}
    assert occurrences[date(2026, 10, 30)].starts_at == datetime(2026, 10, 30, 11, 30, tzinfo=UTC)
    other = {line.item_id: line.planned_quantity for line in occurrences[date(2026, 10, 31)].lines}
    assert other == {meals.id: 350, world.items["blanket"]: 20}


def test_goods_given_at_a_distribution_are_corrected_through_the_outcome(world, client_as):
    _stock(world, "blanket", 50)
    db.session.commit()
    series = _daily_series(world, [("blanket", 40)], date(2026, 11, 20), datetime.now(UTC))
    tonight = _occurrences(series)[date(2026, 11, 20)]
    distributions.record_outcome(
        world.org_id,
        None,
        tonight.id,
        OutcomeInput("held", 200, given=[(world.items["blanket"], 30)]),
    )
    db.session.commit()
    (given,) = distributions.live_movements(tonight)
    page = client_as("warehouse").post(
        f"/movements/{given.id}/reverse", data={"reason": "wrong", "request_token": "r"}
    )
    assert "correct that distribution&#39;s outcome instead" in page.get_data(as_text=True)
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 20


def _busy_days(world, first: date, days: int, per_day: int = 40) -> list[int]:
    """Plan per_day distributions of one blanket each on days from first; return their ids."""
    zone = distributions.organisation_zone(world.org_id)
    ids = []
    for offset in range(days):
        for n in range(per_day):
            ids.append(
                distributions.create_one_off(
                    world.org_id,
                    site_id=world.sites["point"],
                    source_site_id=world.sites["main"],
                    starts_at=datetime.combine(first + timedelta(days=offset), time(8, n), zone),
                    lines=[(world.items["blanket"], 1)],
                ).id
            )
    return ids


def _cards(page: str) -> list[tuple[int, bool]]:
    """Return each distribution card of an agenda page: (its id, marked short)."""
    cards = []
    for card in page.split('<div class="card')[1:]:
        head = card.split("</p>")[0]
        distribution_id = int(head.split('href="/distributions/')[1].split('"')[0])
        cards.append((distribution_id, "not enough stock" in head))
    return cards


def test_a_busy_week_pages_by_whole_days_and_overdue_ones_wait(world, client_as):
    # 40 distributions a day from tomorrow: a window holds two whole days (80), not a third,
    # and is read 30 at a time.
    first = distributions.local_today(world.org_id) + timedelta(days=1)
    ids = _busy_days(world, first, 4)
    overdue = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=datetime.now(UTC) - timedelta(hours=3),
        lines=[(world.items["blanket"], 1)],
    )
    db.session.commit()
    client = client_as("coordinator")
    day = first.isoformat()
    page = client.get(f"/distributions?day={day}").get_data(as_text=True)
    assert len(_cards(page)) == distributions.AGENDA_PAGE == 30
    assert "Distributions 1–30 of 80" in page
    assert f'href="/distributions?day={day}&amp;page=2">Later →' in page
    assert "Earlier" not in page
    assert f"/distributions/{overdue.id}/outcome" in page  # waiting for its outcome
    middle = client.get(f"/distributions?day={day}&page=2").get_data(as_text=True)
    assert "Distributions 31–60 of 80" in middle and len(_cards(middle)) == 30
    assert f'href="/distributions?day={day}">← Earlier' in middle
    assert f'href="/distributions?day={day}&amp;page=3">Later →' in middle
    end = client.get(f"/distributions?day={day}&page=3").get_data(as_text=True)
    assert "Distributions 61–80 of 80" in end and len(_cards(end)) == 20
    third = (first + timedelta(days=2)).isoformat()
    assert end.count(f'href="/distributions?day={third}">Following days →') == 2  # week, foot
    assert f'href="/distributions?day={day}&amp;page=2">← Earlier' in end
    # Every distribution of the two days once, in time order, over the three pages.
    shown = [card[0] for text in (page, middle, end) for card in _cards(text)]
    assert shown == ids[:80]
    # A page past the last is the last; a page that is not a number is the first.
    assert _cards(client.get(f"/distributions?day={day}&page=9").get_data(as_text=True)) == (
        _cards(end)
    )
    assert _cards(client.get(f"/distributions?day={day}&page=x").get_data(as_text=True)) == (
        _cards(page)
    )
    rest = client.get(f"/distributions?day={third}").get_data(as_text=True)
    assert "Distributions 1–30 of 80" in rest and "Next week →" in rest
    # A quiet week is shown whole, as before.
    assert distributions.agenda_last_day(world.org_id, first, first + timedelta(days=6), 500) == (
        first + timedelta(days=6)
    )
    # One day busier than a page is shown whole.
    assert (
        distributions.agenda_last_day(world.org_id, first, first + timedelta(days=6), 10) == first
    )
