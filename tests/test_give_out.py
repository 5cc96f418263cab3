"""Give out now: a crew records a hand-out nobody planned, as one held distribution."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import World, form_token
from factories import held, inline_script, kitchen_items, movement_count, receive
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Distribution, Membership, Site, StockMovement
from logistics.models.types import utcnow
from logistics.services import catalogue, distributions
from logistics.services.distributions import HandOut
from logistics.services.errors import InsufficientStock, ValidationError

pytestmark = pytest.mark.postgres


def _distribution_count(org_id: int) -> int:
    return db.session.scalar(
        select(func.count(Distribution.id)).where(Distribution.organisation_id == org_id)
    )


def _set_last_site(world: World, role: str, site: str | None) -> None:
    membership = db.session.scalar(
        select(Membership).where(
            Membership.organisation_id == world.org_id, Membership.user_id == world.users[role]
        )
    )
    membership.last_site_id = world.sites[site] if site else None
    db.session.commit()


def _make_main(world: World, site: str | None) -> None:
    """Make a site the organisation's main warehouse (None: have none)."""
    for row in db.session.scalars(select(Site).where(Site.organisation_id == world.org_id)):
        row.main = False
    db.session.flush()
    if site is not None:
        db.session.get(Site, world.sites[site]).main = True
    db.session.commit()


def _car_park(world: World) -> int:
    """Add the point of the issue's example hand-out; return its id."""
    site = catalogue.save_site(
        world.org_id,
        {
            "name": "Calais Hospital car park",
            "kind": "distribution_point",
            "area": "Calais",
            "details": "Behind the ambulance bay",
        },
    )
    db.session.commit()
    world.sites["car_park"] = site.id
    return site.id


# --- the service ------------------------------------------------------------------------------


def test_a_hand_out_is_one_held_unplanned_distribution_with_its_movements(world: World) -> None:
    kitchen_items(world)
    receive(world, "kitchen", "meal", 100)
    receive(world, "main", "blanket", 30)
    _set_last_site(world, "kitchen", "kitchen")
    point = _car_park(world)
    before = movement_count(world.org_id)

    recorded = distributions.give_out_now(
        world.org_id,
        world.users["kitchen"],
        HandOut(
            site_id=point,
            headcount=58,
            given=[
                (world.items["meal"], 60, None),
                (world.items["blanket"], 20, world.sites["main"]),
            ],
            note="From the van",
        ),
    )
    db.session.commit()

    assert recorded.unplanned and recorded.status == "held" and recorded.headcount == 58
    assert recorded.site_id == point and recorded.source_site_id == world.sites["kitchen"]
    assert recorded.outcome_recorded_by_id == world.users["kitchen"]
    assert abs(recorded.starts_at - utcnow()) < timedelta(minutes=1)
    assert {
        (line.item_id, line.planned_quantity, line.given_quantity, line.source_site_id)
        for line in recorded.lines
    } == {
        (world.items["meal"], 60, 60, world.sites["kitchen"]),
        (world.items["blanket"], 20, 20, world.sites["main"]),
    }
    moved = db.session.execute(
        select(StockMovement.site_id, StockMovement.item_id, StockMovement.quantity).where(
            StockMovement.distribution_id == recorded.id
        )
    ).all()
    assert sorted(moved) == sorted(
        [
            (world.sites["kitchen"], world.items["meal"], -60),
            (world.sites["main"], world.items["blanket"], -20),
        ]
    )
    assert movement_count(world.org_id) == before + 2
    assert held(world, "kitchen", "meal") == 40 and held(world, "main", "blanket") == 10
    assert distributions.hand_out_summary(recorded) == "60 Hot meal, 20 Blanket"

    # It counts in the figures like any held distribution.
    today = distributions.local_today(world.org_id)
    figures = distributions.figures(world.org_id, today, today)
    assert figures.by_status["held"] == 1 and figures.people_served == 58
    assert {row.label: row.quantity for row in figures.items} == {"Hot meal": 60, "Blanket": 20}


def test_not_enough_stock_refuses_the_hand_out_whole_and_writes_nothing(world: World) -> None:
    kitchen_items(world)
    receive(world, "kitchen", "meal", 100)
    receive(world, "main", "blanket", 5)
    before = movement_count(world.org_id)
    with pytest.raises(InsufficientStock) as refused:
        distributions.give_out_now(
            world.org_id,
            world.users["warehouse"],
            HandOut(
                site_id=world.sites["point"],
                headcount=40,
                given=[
                    (world.items["meal"], 60, world.sites["kitchen"]),
                    (world.items["blanket"], 20, world.sites["main"]),
                ],
            ),
        )
    assert "Only 5 Blanket at Main warehouse; cannot give out 20." in refused.value.message
    # Refused whole, even before the caller rolls back: no distribution, no meal taken.
    assert _distribution_count(world.org_id) == 0
    db.session.commit()
    assert movement_count(world.org_id) == before
    assert held(world, "kitchen", "meal") == 100 and held(world, "main", "blanket") == 5


def test_lines_come_from_the_last_site_else_the_main_warehouse_else_the_point(
    world: World,
) -> None:
    org, user, point = world.org_id, world.users["warehouse"], world.sites["point"]
    receive(world, "point", "blanket", 10)
    receive(world, "main", "blanket", 10)
    receive(world, "gs_store", "blanket", 10)
    _make_main(world, None)
    assert distributions.default_source(org, user) is None

    def give() -> int:
        made = distributions.give_out_now(
            org, user, HandOut(point, 5, [(world.items["blanket"], 1, None)])
        )
        db.session.commit()
        return made.lines[0].source_site_id

    assert give() == point  # no last site, no main warehouse: the point itself
    _make_main(world, "main")
    assert distributions.default_source(org, user) == world.sites["main"]
    assert give() == world.sites["main"]
    _set_last_site(world, "warehouse", "gs_store")
    assert give() == world.sites["gs_store"]
    # A retired last site is no default: back to the main warehouse.
    catalogue.set_site_active(org, world.sites["gs_store"], False)
    db.session.commit()
    assert distributions.default_source(org, user) == world.sites["main"]
    assert held(world, "point", "blanket") == held(world, "main", "blanket") == 9
    assert held(world, "gs_store", "blanket") == 9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"site": "main"}, "Main warehouse is not a distribution point."),
        ({"given": []}, "Say what was given"),
        ({"given": [("blanket", 0)]}, "Say how many Blanket were given."),
        ({"headcount": None}, "Say how many people came"),
        ({"at": timedelta(hours=2)}, "That time has not come yet"),
        ({"at": -timedelta(days=400)}, "up to a year back"),
    ],
)
def test_a_hand_out_that_makes_no_sense_is_refused_plainly(
    world: World, change: dict, message: str
) -> None:
    receive(world, "main", "blanket", 50)
    values = {
        "site_id": world.sites[change.get("site", "point")],
        "headcount": change.get("headcount", 10),
        "given": [
            (world.items[key], quantity, world.sites["main"])
            for key, quantity in change.get("given", [("blanket", 5)])
        ],
    }
    if "at" in change:
        zone = distributions.organisation_zone(world.org_id)
        values["at"] = (utcnow() + change["at"]).astimezone(zone)
    with pytest.raises(ValidationError, match=re.escape(message)):
        distributions.give_out_now(world.org_id, world.users["warehouse"], HandOut(**values))
    db.session.rollback()
    assert _distribution_count(world.org_id) == 0 and held(world, "main", "blanket") == 50


def test_a_hand_out_recorded_later_keeps_its_time(world: World) -> None:
    receive(world, "main", "blanket", 50)
    zone = distributions.organisation_zone(world.org_id)
    at = (utcnow() - timedelta(hours=3)).astimezone(zone).replace(second=0, microsecond=0)
    made = distributions.give_out_now(
        world.org_id,
        world.users["warehouse"],
        HandOut(
            world.sites["point"], 12, [(world.items["blanket"], 12, world.sites["main"])], at=at
        ),
    )
    db.session.commit()
    assert made.starts_at == at and made.local_date == at.date()
    (given,) = distributions.live_movements(made)
    assert given.occurred_at == at


# --- the page ---------------------------------------------------------------------------------


def _offered_points(html: str) -> set[int]:
    return {int(v) for v in re.findall(r'type="radio" name="site_id" value="(\d+)"', html)}


def _selected_source(html: str, row: int) -> int:
    select_html = re.search(rf'<select[^>]*name="lines-{row}-source".*?</select>', html, re.S)
    assert select_html, html
    chosen = re.search(
        r'<option selected value="(\d+)"|<option value="(\d+)" selected', select_html[0]
    )
    assert chosen, select_html[0]
    return int(chosen[1] or chosen[2])


def test_give_out_page_offers_points_only_and_records_once(world: World, client_as) -> None:
    kitchen_items(world)
    receive(world, "kitchen", "meal", 100)
    _set_last_site(world, "kitchen", "kitchen")
    point = _car_park(world)
    cook = client_as("kitchen")
    page = cook.get("/give-out").get_data(as_text=True)
    # Points only, as buttons: no warehouse or kitchen to tap by mistake.
    assert _offered_points(page) == {world.sites["point"], point}
    assert "javascript:" not in page and not inline_script(page)
    # Each line starts from the member's last site.
    assert _selected_source(page, 0) == world.sites["kitchen"]
    data = {
        "request_token": form_token(page),
        "site_id": point,
        "headcount": "58",
        "lines-0-item": "Hot meal",
        "lines-0-quantity": "60",
        "lines-0-source": world.sites["kitchen"],
    }
    response = cook.post("/give-out", data=data, follow_redirects=True)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Recorded: 60 Hot meal given at Calais Hospital car park to 58 people." in text
    # A second tap on Save, or a resend on a weak signal, records nothing more.
    again = cook.post("/give-out", data=data, follow_redirects=True)
    assert again.status_code == 200
    assert re.search(
        r"Already recorded at \d\d:\d\d: 60 Hot meal given at Calais Hospital car park to 58 "
        r"people\.",
        again.get_data(as_text=True),
    )
    assert _distribution_count(world.org_id) == 1
    assert held(world, "kitchen", "meal") == 40

    # It shows on the agenda, marked unplanned, with what was given.
    agenda = client_as("coordinator").get("/distributions").get_data(as_text=True)
    assert "Calais Hospital car park" in agenda and "unplanned" in agenda
    assert "(given 60)" in agenda


def test_give_out_page_refuses_what_the_source_does_not_hold(world: World, client_as) -> None:
    receive(world, "main", "blanket", 3)
    warehouse = client_as("warehouse")
    page = warehouse.get("/give-out").get_data(as_text=True)
    # One point only: it is chosen already.
    assert re.search(rf'value="{world.sites["point"]}" checked', page)
    data = {
        "request_token": form_token(page),
        "site_id": world.sites["point"],
        "headcount": "9",
        "lines-0-item": "Blanket",
        "lines-0-quantity": "9",
        "lines-0-source": world.sites["main"],
        "note": "Rain",
    }
    refused = warehouse.post("/give-out", data=data)
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "Only 3 Blanket at Main warehouse; cannot give out 9." in text
    assert 'value="Blanket"' in text and "Rain" in text  # what was typed stays
    assert _distribution_count(world.org_id) == 0 and held(world, "main", "blanket") == 3

    # "The point itself": goods moved there ahead are given out there.
    receive(world, "point", "blanket", 9)
    data["lines-0-source"] = "0"
    assert warehouse.post("/give-out", data=data).status_code == 302
    assert held(world, "point", "blanket") == 0 and held(world, "main", "blanket") == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"site_id": ""}, "Choose where it was given."),
        ({"headcount": ""}, "Say how many people came"),
        ({"lines-0-quantity": ""}, "Say how many Blanket were given."),
        ({"lines-0-item": "Unicorn"}, "No item called Unicorn"),
        ({"occurred_at": "2026-13-45T99:00"}, "Not a valid datetime value."),
    ],
)
def test_give_out_page_answers_bad_input_with_a_message(
    world: World, client_as, data: dict, message: str
) -> None:
    receive(world, "main", "blanket", 30)
    filled = {
        "request_token": "bad-input",
        "site_id": world.sites["point"],
        "headcount": "9",
        "lines-0-item": "Blanket",
        "lines-0-quantity": "9",
        "lines-0-source": world.sites["main"],
    } | data
    response = client_as("warehouse").post("/give-out", data=filled)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _distribution_count(world.org_id) == 0


def test_only_staff_give_out(world: World, client_as, app) -> None:
    receive(world, "main", "blanket", 30)
    data = {
        "request_token": "donor-try",
        "site_id": world.sites["point"],
        "headcount": "9",
        "lines-0-item": "Blanket",
        "lines-0-quantity": "9",
        "lines-0-source": world.sites["main"],
    }
    donor = client_as("donor")
    assert donor.get("/give-out").status_code == 403
    assert donor.post("/give-out", data=data).status_code == 403
    anonymous = app.test_client()
    assert anonymous.post("/give-out", data=data).status_code in (302, 401)
    assert _distribution_count(world.org_id) == 0
    for role in ("admin", "coordinator", "warehouse", "kitchen"):
        assert client_as(role).get("/give-out").status_code == 200, role


def test_six_taps_from_the_menu_for_one_line(world: World, client_as) -> None:
    """The form a crew fills: point, headcount, item, quantity and Save are all it needs."""
    receive(world, "main", "blanket", 30)
    _make_main(world, "main")
    for name in ("Lorry park", "Station"):
        catalogue.save_site(
            world.org_id, {"name": name, "kind": "distribution_point", "area": "Calais"}
        )
    db.session.commit()
    warehouse = client_as("warehouse")
    page = warehouse.get("/give-out").get_data(as_text=True)
    # Everything but the point, headcount, item and quantity is filled in or may stay empty.
    assert len(_offered_points(page)) == 3
    assert not re.search(r'name="site_id" value="\d+" checked', page)
    assert _selected_source(page, 0) == world.sites["main"]
    taps = {
        "site_id": world.sites["point"],  # 2 (1 was Give out in the menu)
        "headcount": "7",  # 3
        "lines-0-item": "Blanket",  # 4
        "lines-0-quantity": "7",  # 5
    }
    defaults = {"request_token": form_token(page), "lines-0-source": _selected_source(page, 0)}
    response = warehouse.post("/give-out", data=defaults | taps)  # 6: Save
    assert response.status_code == 302, re.findall(
        r'class="error[^"]*"[^>]*>(.*?)</', response.get_data(as_text=True), re.S
    )
    assert held(world, "main", "blanket") == 23


def test_the_next_hand_out_starts_from_the_store_last_given_from(world: World, client_as) -> None:
    kitchen_items(world)
    receive(world, "kitchen", "meal", 100)
    receive(world, "point", "blanket", 10)
    _make_main(world, "main")
    _set_last_site(world, "kitchen", None)
    cook = client_as("kitchen")
    page = cook.get("/give-out").get_data(as_text=True)
    assert _selected_source(page, 0) == world.sites["main"]

    def give(item: str, source: int) -> str:
        form = cook.get("/give-out").get_data(as_text=True)
        data = {
            "request_token": form_token(form),
            "site_id": world.sites["point"],
            "headcount": "5",
            "lines-0-item": item,
            "lines-0-quantity": "5",
            "lines-0-source": source,
        }
        assert cook.post("/give-out", data=data).status_code == 302
        return cook.get("/give-out").get_data(as_text=True)

    # Meals from the kitchen once: the kitchen is where the next hand-out starts.
    assert _selected_source(give("Hot meal", world.sites["kitchen"]), 0) == world.sites["kitchen"]
    # Goods moved to the point ahead do not make the point where forms start.
    assert _selected_source(give("Blanket", 0), 0) == world.sites["kitchen"]
    assert held(world, "kitchen", "meal") == 95 and held(world, "point", "blanket") == 5
