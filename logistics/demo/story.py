"""The demo's story: six weeks of warehouse life, day by day, told through the services.

The dated happenings (bans, disruptions, losses, police actions, stocktakes, a cold night) are
here; who and what they happen to is in data.py. Every stock change goes through the services
(ledger, distributions, incidents, kitchen), so the demo obeys the same rules as real use.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models import Distribution, Incident, Item, Recipe, ReplacementKitLine, Site
from ..services import distributions, evidence, incidents, kitchen, ledger
from ..services.distributions import OutcomeInput
from ..services.incidents import IncidentInput, LineInput
from .data import (
    ACTIONS,
    ALREADY_OUT,
    ASKED_FOR,
    CALAIS_CAMPS,
    CALAIS_EVENING_RANGE,
    CATALOGUE,
    COOK_TIME,
    DEMO_TIMEZONE,
    DESCRIPTIONS,
    DESTROYED_SHARE,
    DONATION_DAYS,
    DONORS,
    EVERY_TIME,
    EVICTION_TIMES,
    FLOWS,
    FORCES,
    FRESH,
    GS_CAMPS,
    KITCHEN_COVER_DAYS,
    KITCHEN_MARGIN,
    KITCHEN_ORDER_TIME,
    KITCHEN_ORDER_WEEKDAYS,
    MARKED,
    MENU_DAYS_AHEAD,
    MENU_ROTATION,
    MINUTES,
    OTHER_SUPPLIER,
    RECIPES,
    REPLACEMENT_KIT,
    ROUNDS,
    SACKS,
    SECOND_POT_WEEKDAY,
    SHARES,
    SHELF_DAYS,
    SHELTER,
    SHORT_DATED,
    SHORT_DATED_DONOR,
    SITES,
    SUPPLIERS,
    TILL_NEXT_RUN,
    TOP_UP,
    VEGETABLE_SUPPLIER,
    WATER_SUPPLIER,
    WEEKLY_PURCHASES,
    WEEKLY_VAN,
    WITNESSES,
    Round,
)

DAYS = 42
SEED = 2718
# The best-before dates have draws of their own: dating food leaves the rest of the story as is.
DATES_SEED = 1212

# (days ago, round keys, note): bans and blockades announced the same day.
CANCELLED: tuple[tuple[int, tuple[str, ...], str], ...] = (
    (30, ("calais_evening", "calais_midday", "calais_water"),
     "Ban on distributions in Calais announced by the police that morning; "
     "no written order shown."),
    (23, ("grande_synthe",), "Police blocked the car park entrance from 16:00; called off."),
    (11, ("calais_evening",), "Ban announced by the prefecture without a written order."),
)  # fmt: skip
# (days ago, round key, note): disrupted on these days whatever the dice say.
DISRUPTED: tuple[tuple[int, str, str], ...] = (
    (33, "calais_evening", "CRS stopped the distribution at 18:20 and seized the sleeping "
     "bags still in the van."),
    (19, "calais_evening", "CRS stopped the distribution at 18:20."),
    (15, "grande_synthe", "CS gas sprayed near the queue at 17:15; distribution stopped."),
    (9, "calais_midday", "Police moved the queue on at 12:50; the rest of the food came back."),
    (6, "calais_evening", "Police arrived at 18:35 and herded everybody into the woods."),
    (5, "calais_water", "Police stopped the water point at 10:20 and seized a trolley."),
)  # fmt: skip
DISRUPTED_NOTES = (
    "CRS stopped the distribution at {stop}.",
    "Police arrived at {stop} and dispersed the queue.",
    "Moved on by police at {stop}; about half handed out.",
    "Identity checks at the entrance from {stop}; many people left.",
)
RECORDED_AFTER = timedelta(hours=2)  # outcomes are typed in back at the warehouse

# Losses not caused by police: (days ago, local time, site, item, quantity, reason).
LOSSES: tuple[tuple[int, time, str, str, int, str], ...] = (
    (38, time(9, 0), "main", "blanket", 30,
     "Damp: roof leak over the back racks, blankets mouldy"),
    (19, time(9, 0), "main", "biscuits", 40, "Mice got into the boxes on the bottom shelf"),
    (9, time(9, 0), "main", "socks", 60, "Damp: boxes against the north wall soaked through"),
    (3, time(10, 0), "kitchen", "tomatoes", 6, "Dented tins past their date"),
)  # fmt: skip

# Evictions in Grande-Synthe (Calais's, about every other day, are drawn by the story).
GS_EVICTION_DAYS = (40, 33, 26, 19, 12, 5)  # about weekly
GS_EVICTION_TIME = time(7, 30)  # large operations, two to three hours


@dataclass(frozen=True)
class StockIncident:
    """A police action that took stock we still held (a from-stock line, a loss movement)."""

    days_ago: int
    at: time
    kind: str
    point: str
    store: str
    item: str
    quantity: int
    action: str
    forces: str
    description: str


STOCK_INCIDENTS: tuple[StockIncident, ...] = (
    StockIncident(
        33, time(18, 25), "seizure", "calais_east", "main", "sleeping_bag", 18, "seized",
        "3 CRS vans",
        "Distribution stopped; the sleeping bags still in our van were seized. No receipt.",
    ),
    StockIncident(
        26, time(8, 30), "police_destruction", "gs_south", "gs_store", "tarp", 12, "slashed",
        "6 gendarmerie vans, 1 tractor",
        "During the eviction, tarpaulins in our trailer at the camp were slashed.",
    ),
    StockIncident(
        15, time(17, 15), "gas_contamination", "gs_north", "gs_store", "blanket", 22,
        "contaminated",
        "4 CRS vans",
        "CS gas sprayed near the queue. Blankets from the store, open on the tables, were "
        "gassed; they cannot be washed.",
    ),
    StockIncident(
        5, time(10, 20), "seizure", "calais_west", "main", "tent2", 8, "seized",
        "2 police cars",
        "A trolley of tents on its way to the camp by the canal was stopped and seized.",
    ),
)  # fmt: skip
LOCK_AFTER = timedelta(days=7)  # reviewed and locked after a week
# (area, text): added to the first eviction there, after it was locked.
AMENDMENTS = (
    ("Grande-Synthe", "The eviction order was published by the prefecture two days later."),
    ("Calais", "Observers' video handed to the legal team; two more slashed tents found later."),
)

# (days ago, sites counted)
STOCKTAKES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (22, ("main",)),
    (4, ("gs_store", "kitchen")),
)
MISTAKE_DAYS_AGO = 2
# Last night was freezing and no emergency shelter opened: a one-off round at a third point
# handed out all the bedding the main warehouse could spare beyond what it kept back.
COLD_NIGHT = ("calais_west", time(20, 30), 1)  # point, local time, days ago
COLD_NIGHT_KEEP = {"blanket": 170, "sleeping_bag": 120}


def _home(item_key: str) -> str:
    """Return where an item is kept: ingredients in the kitchen, the rest in the warehouse."""
    return "kitchen" if CATALOGUE[item_key][1] == "ingredient" else "main"


def _supplier(item_key: str) -> str:
    if item_key == "water":
        return WATER_SUPPLIER
    if item_key in FRESH:
        return VEGETABLE_SUPPLIER
    return SUPPLIERS.get(CATALOGUE[item_key][1], OTHER_SUPPLIER)


KITCHEN_ROUNDS = tuple(spec for spec in ROUNDS if spec.source == "kitchen")


def _menu(day: date) -> str:
    """Return the key of the day's dish: the three recipes in turn."""
    return MENU_ROTATION[day.toordinal() % len(MENU_ROTATION)]


def _pots(day: date, meals: int) -> list[tuple[str, int]]:
    """Return the recipes cooked on a day with their meals: the menu, on Fridays two pots."""
    menu = _menu(day)
    if day.weekday() != SECOND_POT_WEEKDAY:
        return [(menu, meals)]
    following = MENU_ROTATION[(MENU_ROTATION.index(menu) + 1) % len(MENU_ROTATION)]
    second = meals // 3
    return [(menu, meals - second), (following, second)]


def _ingredients(pots: list[tuple[str, int]]) -> dict[str, int]:
    """Return the ingredients cooking uses, rounded up as kitchen.cook rounds them."""
    totals: dict[str, Decimal] = {}
    for recipe, meals in pots:
        for key, per_100 in RECIPES[recipe][2]:
            totals[key] = totals.get(key, Decimal(0)) + meals * Decimal(per_100)
    return {
        key: int((total / 100).to_integral_value(ROUND_CEILING)) for key, total in totals.items()
    }


def _planned_ingredients(first: date, days: int) -> dict[str, int]:
    """Return the ingredients that the kitchen rounds' planned meals need over some days."""
    needed: dict[str, int] = dict.fromkeys(SACKS, 0)
    for offset in range(days):
        day = first + timedelta(days=offset)
        meals = sum(
            quantity
            for spec in KITCHEN_ROUNDS
            if day.weekday() in spec.weekdays
            for key, quantity in spec.plan
            if spec.source_of(key) == "kitchen"
        )
        if meals:
            for key, quantity in _ingredients(_pots(day, meals)).items():
                needed[key] += quantity
    return needed


def _cover_days(item_key: str, day: date) -> int:
    """Return how many days of planned meals an order on this day buys the ingredient for."""
    if item_key in TILL_NEXT_RUN:
        # The next run comes in before that day's cooking.
        return next(n for n in range(1, 8) if (day.weekday() + n) % 7 in KITCHEN_ORDER_WEEKDAYS)
    return KITCHEN_COVER_DAYS["fresh" if item_key in FRESH else "dry"]


def _cancelled(spec: Round, days_ago: int) -> bool:
    """Tell whether a round was called off that day (known in the morning)."""
    return any(ago == days_ago and spec.key in keys for ago, keys, _ in CANCELLED)


Event = tuple[time, Callable[[datetime], None]]


class Story:
    """Six weeks of warehouse life, told day by day in time order through the services."""

    def __init__(
        self,
        organisation_id: int,
        users: dict[str, int],
        sites: dict[str, Site],
        items: dict[str, Item],
        rng: random.Random,
        now: datetime,
    ) -> None:
        self.org = organisation_id
        self.users = users
        self.site_objects = sites
        self.item_objects = items
        self.sites = {key: site.id for key, site in sites.items()}
        self.items = {key: item.id for key, item in items.items()}
        self.rng = rng
        # Its own draws, so dating the food leaves the rest of the story as it was.
        self.dates = random.Random(DATES_SEED)
        self.zone = ZoneInfo(DEMO_TIMEZONE)
        self.now = now
        self.today = now.astimezone(self.zone).date()
        # Our own copy of the levels, so give-outs can be sized without asking the database.
        self.levels: dict[tuple[str, str], int] = {}
        # Each series' occurrences by local date.
        self.occurrences: dict[str, dict[date, Distribution]] = {}
        # What we gave out that is still in the camps, and the last distribution it came from.
        self.out_there: dict[tuple[str, str], int] = dict(ALREADY_OUT)
        self.last_given: dict[str, int] = {}
        self.evicted_on: dict[str, date] = {}
        self.incidents: list[Incident] = []
        self.calais_evictions = self._calais_eviction_days()
        self.donor_turn = self.rng.randrange(len(DONORS))
        self.recipes: dict[str, Recipe] = {}
        # Today's kitchen rounds: (people expected, meals cooked for them), by round key.
        self.cooked_for: dict[str, tuple[int, int]] = {}

    def tell(self) -> None:
        """Schedule the distributions, write the whole history oldest day first, then review."""
        self._schedule()
        self._write_recipes()
        self._choose_menus()
        for days_ago in range(DAYS, 0, -1):
            day = self.today - timedelta(days=days_ago)
            for at, event in sorted(self._events(day, days_ago), key=lambda pair: pair[0]):
                event(datetime.combine(day, at, self.zone).astimezone(UTC))
        # After the history: past evictions ask for no replacement, and send no message.
        self._short_dated_gift()
        self._replacement_kit()
        self._plan_ahead()
        self._review_incidents()

    def _events(self, day: date, days_ago: int) -> list[Event]:
        weekday = day.weekday()
        events: list[Event] = []
        if days_ago == DAYS:
            events.append((time(8, 0), self._opening_count))
        if weekday == 0:
            every_item = (days_ago // 7) % 2 == 0
            events.append((time(8, 30), lambda at, e=every_item: self._purchases(at, e)))
        if weekday in KITCHEN_ORDER_WEEKDAYS or days_ago == DAYS:
            dry = days_ago == DAYS or (weekday == 0 and (days_ago // 7) % 2 == 0)
            events.append((KITCHEN_ORDER_TIME, lambda at, d=dry: self._kitchen_order(at, d)))
        events.append((COOK_TIME, lambda at, a=days_ago: self._cook(at, a)))
        if weekday == 2:
            every_item = (days_ago // 7) % 2 == 0
            events.append((time(9, 30), lambda at, e=every_item: self._weekly_van(at, e)))
        if weekday in DONATION_DAYS or self.rng.random() < 0.15:
            # Donor groups take turns, so six weeks bring each of them about twice.
            donor = DONORS[self.donor_turn % len(DONORS)]
            self.donor_turn += 1
            events.append((time(10, 30), lambda at, donor=donor: self._donation(at, *donor)))
        for spec in ROUNDS:
            if weekday in spec.weekdays:
                events.append((spec.at, lambda at, s=spec, a=days_ago: self._distribute(at, s, a)))
        if days_ago in self.calais_evictions:
            at = self.rng.choice(EVICTION_TIMES)
            events.append((at, lambda when: self._evict(when, "Calais", CALAIS_CAMPS)))
        if days_ago in GS_EVICTION_DAYS:
            events.append(
                (GS_EVICTION_TIME, lambda when: self._evict(when, "Grande-Synthe", GS_CAMPS))
            )
        for spec in STOCK_INCIDENTS:
            if spec.days_ago == days_ago:
                events.append((spec.at, lambda when, s=spec: self._stock_incident(when, s)))
        for ago, at, site, item, quantity, reason in LOSSES:
            if ago == days_ago:
                events.append(
                    (at, lambda when, a=(site, item, quantity, reason): self._loss(when, *a))
                )
        for ago, counted_sites in STOCKTAKES:
            if ago == days_ago:
                events.append((time(15, 0), lambda when, c=counted_sites: self._stocktake(when, c)))
        if days_ago == MISTAKE_DAYS_AGO:
            events.append((time(10, 45), self._double_entry))
        if days_ago == COLD_NIGHT[2]:
            events.append((COLD_NIGHT[1], self._cold_night))
        return events

    def _calais_eviction_days(self) -> set[int]:
        """Return the days (as days ago) of Calais evictions: about every other day."""
        days = set()
        days_ago = DAYS - self.rng.randint(0, 1)
        while days_ago >= 1:
            days.add(days_ago)
            days_ago -= self.rng.choice((1, 2, 2, 2, 2, 3))
        return days

    # -- the ledger, with our copy of the levels kept in step ---------------------------------

    def _held(self, site: str, item: str) -> int:
        return self.levels.get((site, item), 0)

    def _spare(self, site: str, item: str) -> int:
        """Return what may go out: the main warehouse keeps a reserve for evictions."""
        keep = self.item_objects[item].min_stock // 4 if site == "main" else 0
        return max(0, self._held(site, item) - keep)

    def _moved(self, site: str, item: str, quantity: int) -> None:
        self.levels[(site, item)] = self._held(site, item) + quantity

    def _receive(
        self,
        at: datetime,
        item: str,
        quantity: int,
        kind: str,
        source: str,
        role: str,
        best_before: date | None = None,
    ) -> int:
        site = _home(item)
        movement = ledger.receive(
            self.org,
            self.users[role],
            site_id=self.sites[site],
            item_id=self.items[item],
            quantity=quantity,
            kind=kind,
            source=source,
            occurred_at=at,
            best_before=best_before or self._best_before(at, item),
        )
        self._moved(site, item, quantity)
        return movement.id

    def _best_before(self, at: datetime, item: str) -> date | None:
        """Return a delivery's best-before date: dated food keeps for months; others have none."""
        if item not in SHELF_DAYS:
            return None
        fewest, most = SHELF_DAYS[item]
        return at.astimezone(self.zone).date() + timedelta(days=self.dates.randint(fewest, most))

    def _short_dated_gift(self) -> None:
        """Receive a supermarket's short-dated food the evening before: the lots to give first."""
        at = datetime.combine(self.today - timedelta(days=1), time(21, 0), self.zone)
        for item, quantity, days_left in SHORT_DATED:
            best_before = self.today + timedelta(days=days_left)
            self._receive(
                at.astimezone(UTC), item, quantity, "donation", SHORT_DATED_DONOR, "warehouse",
                best_before,
            )  # fmt: skip

    def _vary(self, mean: float, low: float = 0.6, high: float = 1.4) -> int:
        return max(1, round(mean * self.rng.uniform(low, high)))

    # -- stock coming in and moving -------------------------------------------------------------

    def _opening_count(self, at: datetime) -> None:
        reason = "Opening count when we started using the tracker"
        for key, flow in FLOWS.items():
            for site, quantity in ((_home(key), flow.opening), ("gs_store", flow.opening_gs)):
                if quantity:
                    ledger.adjust(
                        self.org,
                        self.users["admin"],
                        site_id=self.sites[site],
                        item_id=self.items[key],
                        reason=reason,
                        delta=quantity,
                        occurred_at=at,
                    )
                    self._moved(site, key, quantity)

    def _purchases(self, at: datetime, every_item: bool) -> None:
        for key, flow in FLOWS.items():
            weeks = 1 if key in WEEKLY_PURCHASES else 2
            if key in TOP_UP:
                level, pallet = TOP_UP[key]
                quantity = -(-(level - self._held("main", key)) // pallet) * pallet
                if quantity > 0:
                    self._receive(at, key, quantity, "purchase", _supplier(key), "coordinator")
            elif flow.buy and (weeks == 1 or every_item):
                quantity = self._vary(flow.buy * weeks, 0.9, 1.1)
                buyer = "kitchen" if _home(key) == "kitchen" else "coordinator"
                self._receive(at, key, quantity, "purchase", _supplier(key), buyer)

    def _donation(self, at: datetime, donor: str, usual: dict[str, int]) -> None:
        for key, mean in usual.items():
            if self.rng.random() < 0.8:
                self._receive(at, key, self._vary(mean, 0.5, 1.5), "donation", donor, "warehouse")

    def _weekly_van(self, at: datetime, every_item: bool) -> None:
        for key, flow in FLOWS.items():
            weeks = 1 if key in WEEKLY_VAN else 2
            if not flow.van or not (weeks == 1 or every_item):
                continue
            quantity = min(self._vary(flow.van * weeks, 0.8, 1.2), self._spare("main", key))
            if quantity > 0:
                ledger.transfer(
                    self.org,
                    self.users["warehouse"],
                    from_site_id=self.sites["main"],
                    to_site_id=self.sites["gs_store"],
                    item_id=self.items[key],
                    quantity=quantity,
                    note="Weekly van to Grande-Synthe",
                    occurred_at=at,
                )
                self._moved("main", key, -quantity)
                self._moved("gs_store", key, quantity)

    # -- distributions --------------------------------------------------------------------------

    def _schedule(self) -> None:
        """Create the series from six weeks ago, so their past occurrences exist."""
        for spec in ROUNDS:
            series = distributions.create_series(
                self.org,
                site_id=self.sites[spec.point],
                source_site_id=self.sites[spec.source],
                weekdays=spec.weekdays,
                local_time=spec.at,
                starts_on=self.today - timedelta(days=DAYS),
                ends_on=None,
                lines=[self._planned(spec, key, quantity) for key, quantity in spec.plan],
                now=self.now,
            )
            self.occurrences[spec.key] = {
                occurrence.local_date: occurrence
                for occurrence in db.session.scalars(
                    select(Distribution).where(Distribution.series_id == series.id)
                )
            }

    def _planned(self, spec: Round, key: str, quantity: int) -> tuple[int, int, int | None]:
        """Return a series line; one packed at the round's own source names no site."""
        source = spec.source_of(key)
        return self.items[key], quantity, None if source == spec.source else self.sites[source]

    def _replacement_kit(self) -> None:
        """Write what replaces a destroyed shelter, and what each person affected needs."""
        for basis, lines in REPLACEMENT_KIT.items():
            for key, quantity in lines:
                db.session.add(
                    ReplacementKitLine(
                        organisation_id=self.org,
                        basis=basis,
                        item_id=self.items[key],
                        quantity=quantity,
                    )
                )
        db.session.flush()

    def _cold_night(self, at: datetime) -> None:
        """Hand out the spare bedding at a one-off round, planned that afternoon."""
        given = {}
        for key, keep in COLD_NIGHT_KEEP.items():
            quantity = min(self._spare("main", key), max(30, self._held("main", key) - keep))
            if quantity > 0:
                given[key] = quantity
        if not given:
            return
        one_off = distributions.create_one_off(
            self.org,
            site_id=self.sites[COLD_NIGHT[0]],
            source_site_id=self.sites["main"],
            starts_at=at,
            lines=[(self.items[key], quantity) for key, quantity in given.items()],
        )
        distributions.record_outcome(
            self.org,
            self.users["coordinator"],
            one_off.id,
            OutcomeInput(
                "held",
                headcount=self.rng.randint(260, 340),
                note="Freezing night, no emergency shelter opened: extra bedding round.",
                given=[(self.items[key], quantity) for key, quantity in given.items()],
            ),
            now=at + RECORDED_AFTER,
        )
        for key, quantity in given.items():
            self._moved("main", key, -quantity)
            self.out_there[("Calais", key)] = self.out_there.get(("Calais", key), 0) + quantity

    def _plan_ahead(self) -> None:
        """Tomorrow evening is forecast cold: the coordinator plans more bedding by hand."""
        tomorrow = self.occurrences["calais_evening"][self.today + timedelta(days=1)]
        plan = {line.item_id: line.planned_quantity for line in tomorrow.lines}
        plan[self.items["blanket"]] = 60
        plan[self.items["sleeping_bag"]] = 40
        distributions.edit_occurrence(
            self.org, tomorrow.id, starts_at=None, lines=list(plan.items())
        )

    def _distribute(self, at: datetime, spec: Round, days_ago: int) -> None:
        occurrence = self.occurrences[spec.key][at.astimezone(self.zone).date()]
        status, note = self._outcome(spec, days_ago, at)
        recorder = self.users[spec.recorder]
        if status == "cancelled":
            distributions.record_outcome(
                self.org,
                recorder,
                occurrence.id,
                OutcomeInput("cancelled", note=note),
                now=at - RECORDED_AFTER,
            )
            return
        cooked = 0
        if spec.source == "kitchen":
            people, cooked = self.cooked_for.pop(spec.key)
        else:
            people = self._headcount(spec, at)
        # A stopped distribution hands out only part of what was brought.
        share = 1.0 if status == "held" else self.rng.uniform(0.3, 0.7)
        wanted = self._wanted(spec, people, share, at, cooked)
        given = {}
        for key, quantity in wanted.items():
            quantity = min(quantity, self._spare(spec.source_of(key), key))
            if quantity > 0:
                given[key] = quantity
        ran_out = [
            self.item_objects[key].label
            for key, _ in spec.plan
            if given.get(key, 0) < 0.8 * wanted[key]
        ]
        if status == "held" and ran_out:
            note = f"Ran out of {', '.join(ran_out)}."
        minors, women = self._shares(spec, people)
        distributions.record_outcome(
            self.org,
            recorder,
            occurrence.id,
            OutcomeInput(
                status,
                headcount=people,
                headcount_minors=minors,
                headcount_women=women,
                note=note,
                given=[(self.items[key], quantity) for key, quantity in given.items()],
            ),
            now=at + RECORDED_AFTER,
        )
        for key, quantity in given.items():
            self._moved(spec.source_of(key), key, -quantity)
            if key in DESTROYED_SHARE:
                place = (spec.area, key)
                self.out_there[place] = self.out_there.get(place, 0) + quantity
        if spec.source == "kitchen":
            self._leftovers(at, cooked - given.get("hot_meal", 0))
        else:  # what an eviction destroys came from the last round that gave goods
            self.last_given[spec.area] = occurrence.id

    def _outcome(self, spec: Round, days_ago: int, at: datetime) -> tuple[str, str]:
        for ago, keys, note in CANCELLED:
            if ago == days_ago and spec.key in keys:
                return "cancelled", note
        for ago, key, note in DISRUPTED:
            if ago == days_ago and key == spec.key:
                return "disrupted", note
        if self.rng.random() < spec.disrupted_chance:
            stop = (at + timedelta(minutes=self.rng.choice((15, 20, 25, 40)))).astimezone(self.zone)
            return "disrupted", self.rng.choice(DISRUPTED_NOTES).format(stop=f"{stop:%H:%M}")
        return "held", ""

    def _headcount(self, spec: Round, at: datetime) -> int:
        usual = spec.usual[at.astimezone(self.zone).weekday()]
        people = round(usual * self.rng.uniform(0.85, 1.15))
        if spec.key == "calais_evening":
            low, high = CALAIS_EVENING_RANGE
            people = min(high, max(low, people))
        return people

    def _shares(self, spec: Round, people: int) -> tuple[int | None, int | None]:
        """Return minors and women, counted at about two distributions in five."""
        if spec.source == "kitchen" or self.rng.random() > 0.4:
            return None, None
        (minors_low, minors_high), (women_low, women_high) = SHARES[spec.area]
        minors = round(people * self.rng.uniform(minors_low, minors_high))
        women = round(people * self.rng.uniform(women_low, women_high))
        return minors, women

    def _wanted(
        self, spec: Round, people: int, share: float, at: datetime, cooked: int
    ) -> dict[str, int]:
        """Return what the volunteers would hand out if the stock allowed."""
        per_person = dict(spec.per_person)
        wanted = {}
        for key, planned in spec.plan:
            if spec.source_of(key) == "kitchen":
                mean: float = cooked  # all that was cooked for them, seconds too
            elif key in per_person:
                mean = people * per_person[key]
            else:
                mean = self._vary(planned, 0.75, 1.15)
            wanted[key] = round(mean * share)
        for key, quantity in self._extras(spec, at).items():
            wanted[key] = wanted.get(key, 0) + round(quantity * share)
        return wanted

    def _extras(self, spec: Round, at: datetime) -> dict[str, int]:
        """Return items given beyond the plan: shelter after an eviction, the rest now and then."""
        if not spec.extras:
            return {}
        planned = {key for key, _ in spec.plan}
        evicted_today = self.evicted_on.get(spec.area) == at.astimezone(self.zone).date()
        evictions_per_week = 3.5 if spec.area == "Calais" else 1.0
        usual_shelter_chance = (evictions_per_week * 0.9 + (7 - evictions_per_week) * 0.05) / 7
        extras = {}
        for key, flow in FLOWS.items():
            weekly = getattr(flow, spec.extras)
            if not weekly or key in planned:
                continue
            if key in SHELTER:
                chance, usual = (0.9 if evicted_today else 0.05), usual_shelter_chance
            elif key in EVERY_TIME:
                chance = usual = 0.35
            elif key in ASKED_FOR:
                chance = usual = 0.1
            else:
                chance = usual = 0.04
            if self.rng.random() < chance:
                extras[key] = self._vary(weekly / len(spec.weekdays) / usual)
        return extras

    # -- the kitchen ----------------------------------------------------------------------------

    def _write_recipes(self) -> None:
        """Write the kitchen's recipes, per 100 meals."""
        for key, (name, notes, lines) in RECIPES.items():
            self.recipes[key] = kitchen.save_recipe(
                self.org,
                name=name,
                dietary_notes=notes,
                lines=[(self.items[item], Decimal(per_100)) for item, per_100 in lines],
            )

    def _choose_menus(self) -> None:
        """Choose the dish of every day, past and the coming week, in turn."""
        for offset in range(-DAYS, MENU_DAYS_AHEAD + 1):
            day = self.today + timedelta(days=offset)
            kitchen.choose_menu(
                self.org,
                self.users["kitchen"],
                self.sites["kitchen"],
                day,
                self.recipes[_menu(day)].id,
            )

    def _cook(self, at: datetime, days_ago: int) -> None:
        """Cook the day's hot meals in the morning: for the crowd expected, a little over."""
        day = at.astimezone(self.zone).date()
        meals = 0
        for spec in KITCHEN_ROUNDS:
            if day.weekday() not in spec.weekdays or _cancelled(spec, days_ago):
                continue  # bans are announced in the morning: nothing cooked for them
            people = self._headcount(spec, at)
            cooked = round(people * self.rng.uniform(1.0, 1.05))
            self.cooked_for[spec.key] = (people, cooked)
            meals += cooked
        if not meals:
            return
        pots = _pots(day, meals)
        # The orders cover the planned meals, so this never runs short (cook would refuse).
        kitchen.cook(
            self.org,
            self.users["kitchen"],
            site_id=self.sites["kitchen"],
            meal_item_id=self.items["hot_meal"],
            split=[(self.recipes[recipe].id, count) for recipe, count in pots],
            occurred_at=at,
        )
        for key, quantity in _ingredients(pots).items():
            self._moved("kitchen", key, -quantity)
        self._moved("kitchen", "hot_meal", meals)

    def _leftovers(self, at: datetime, meals: int) -> None:
        """Hot meals not handed out cannot be kept: write them off."""
        if meals > 0:
            kitchen.record_leftovers(
                self.org,
                self.users["kitchen"],
                site_id=self.sites["kitchen"],
                meal_item_id=self.items["hot_meal"],
                meals=meals,
                occurred_at=at + timedelta(hours=1),
            )
            self._moved("kitchen", "hot_meal", -meals)

    def _kitchen_order(self, at: datetime, dry: bool) -> None:
        """Order up to what the planned meals of the coming days need, plus the minimum."""
        day = at.astimezone(self.zone).date()
        covers = {key: _cover_days(key, day) for key in SACKS if dry or key in FRESH}
        needed = {days: _planned_ingredients(day, days) for days in set(covers.values())}
        for key, days in covers.items():
            target = math.ceil(needed[days][key] * KITCHEN_MARGIN)
            missing = target + self.item_objects[key].min_stock - self._held("kitchen", key)
            if missing > 0:
                bought = -(-missing // SACKS[key]) * SACKS[key]
                self._receive(at, key, bought, "purchase", _supplier(key), "kitchen")

    # -- incidents ------------------------------------------------------------------------------

    def _evict(self, at: datetime, area: str, camps: tuple[str, ...]) -> None:
        """Record an eviction: part of what we gave out is destroyed in the camps."""
        self.evicted_on[area] = at.astimezone(self.zone).date()
        lines = []
        for key, (low, high) in DESTROYED_SHARE.items():
            out = self.out_there.get((area, key), 0)
            destroyed = round(out * self.rng.uniform(low, high))
            # What was not destroyed is carried away or worn out: we lose track of it.
            self.out_there[(area, key)] = (out - destroyed) // 2
            if destroyed > 0:
                lines.append(
                    LineInput(
                        self.items[key],
                        destroyed,
                        "after_distribution",
                        self.rng.choice(ACTIONS[key]),
                        marked_property=key in MARKED,
                        distribution_id=self.last_given.get(area),
                    )
                )
        point = self.rng.choice(camps)
        calais = area == "Calais"
        shelter_ids = {self.items[key] for key in SHELTER}
        shelters = sum(line.quantity for line in lines if line.item_id in shelter_ids)
        values = IncidentInput(
            occurred_at=at,
            ended_at=at + timedelta(minutes=self.rng.choice(MINUTES[area])),
            kind="eviction" if not calais or self.rng.random() < 0.75 else "police_destruction",
            area=area,
            site_id=self.sites[point],
            forces_present=self.rng.choice(FORCES[area]),
            bailiff_present=self.rng.choice(("yes", "yes", "no", "unknown")),
            interpreter_present=self.rng.choice(("no", "no", "no", "yes", "unknown")),
            legal_basis_shown=self.rng.choice(("no", "no", "unknown", "yes")),
            shelter_offered=self.rng.choice(
                ("no", "no", "no", "yes") if calais else ("yes", "yes", "no")
            ),
            people_affected=self.rng.randint(40, 220) if calais else self.rng.randint(150, 400),
            shelters_affected=max(shelters, self.rng.randint(10, 60)),
            witnesses=self.rng.choice(WITNESSES),
            description=self.rng.choice(DESCRIPTIONS[area]).format(point=SITES[point][0]),
            lines=lines,
        )
        incident = incidents.record_incident(self.org, self.users["coordinator"], values)
        incident.created_at = at  # recorded as it happened, not when the demo was seeded
        self.incidents.append(incident)

    def _stock_incident(self, at: datetime, spec: StockIncident) -> None:
        """Record police taking stock we still held; the loss must fit what is there."""
        quantity = min(spec.quantity, self._held(spec.store, spec.item))
        lines = []
        if quantity > 0:
            lines.append(
                LineInput(
                    self.items[spec.item],
                    quantity,
                    "from_stock",
                    spec.action,
                    marked_property=spec.item in MARKED,
                    site_id=self.sites[spec.store],
                )
            )
        values = IncidentInput(
            occurred_at=at,
            ended_at=at + timedelta(minutes=30),
            kind=spec.kind,
            area=SITES[spec.point][2],
            site_id=self.sites[spec.point],
            forces_present=spec.forces,
            bailiff_present="no",
            interpreter_present="no",
            legal_basis_shown="no",
            shelter_offered="no",
            witnesses=self.rng.choice(WITNESSES),
            description=spec.description,
            lines=lines,
        )
        incident = incidents.record_incident(self.org, self.users["coordinator"], values)
        incident.created_at = at  # recorded as it happened, not when the demo was seeded
        self.incidents.append(incident)
        self._moved(spec.store, spec.item, -quantity)

    def _review_incidents(self) -> None:
        """Lock what was reviewed (older than a week), amend two, attach one observer's note."""
        locked = [i for i in self.incidents if i.occurred_at < self.now - LOCK_AFTER]
        for incident in locked:
            incidents.lock(self.org, self.users["coordinator"], incident.id)
        for area, text in AMENDMENTS:
            first = next(i for i in locked if i.area == area and i.kind == "eviction")
            incidents.amend(self.org, self.users["coordinator"], first.id, text)
        latest = max(
            (i for i in self.incidents if i.area == "Calais" and i.kind == "eviction"),
            key=lambda i: i.occurred_at,
        )
        self._observer_note(latest)

    def _observer_note(self, incident: Incident) -> None:
        """Attach a short text file of the observers' timeline, stored like any upload."""
        store = evidence.configured_store()
        if "text/plain" not in store.allowed_types:
            return
        start = incident.occurred_at.astimezone(self.zone)
        steps = (
            (0, f"Vehicles arrive: {incident.forces_present}."),
            (10, "Cordon set up; volunteers kept at the road."),
            (25, "Cleaning-company staff start removing tents and tarpaulins."),
            (60, "Remaining shelters slashed; belongings put in the skip."),
            (90, "Forces leave. People return to the site."),
        )
        text = "Observers' timeline\n" + "".join(
            f"{start + timedelta(minutes=minutes):%H:%M} {step}\n" for minutes, step in steps
        )
        evidence.add_evidence(
            store,
            self.org,
            self.users["coordinator"],
            incident.id,
            file_name=f"timeline-{start:%Y-%m-%d}.txt",
            stream=io.BytesIO(text.encode()),
            captured_at=incident.occurred_at,
        )

    # -- the rest of warehouse life -------------------------------------------------------------

    def _loss(self, at: datetime, site: str, item: str, quantity: int, reason: str) -> None:
        quantity = min(quantity, self._held(site, item))
        if quantity > 0:
            ledger.record_loss(
                self.org,
                self.users["kitchen" if site == "kitchen" else "warehouse"],
                site_id=self.sites[site],
                item_id=self.items[item],
                quantity=quantity,
                reason=reason,
                occurred_at=at,
            )
            self._moved(site, item, -quantity)

    def _stocktake(self, at: datetime, counted_sites: tuple[str, ...]) -> None:
        """Count every item held; most counts agree (nothing to record), a few differ a little."""
        for site in counted_sites:
            for key in FLOWS:
                held = self._held(site, key)
                if held == 0:
                    continue
                counted = max(0, held + self.rng.choice((0, 0, 0, 0, 0, 0, -1, -2, -3, 1, 2)))
                if counted == held:
                    continue
                movement = ledger.adjust(
                    self.org,
                    self.users["kitchen" if site == "kitchen" else "warehouse"],
                    site_id=self.sites[site],
                    item_id=self.items[key],
                    reason="Stocktake: monthly count",
                    counted=counted,
                    occurred_at=at,
                )
                if movement is not None:
                    self._moved(site, key, movement.quantity)

    def _double_entry(self, at: datetime) -> None:
        """Log one drop-off twice, as happens with two volunteers at the door, and undo it."""
        donor = "Kent Refugee Solidarity"
        self._receive(at, "water", 1200, "donation", donor, "warehouse")
        mistake = self._receive(at, "water", 1200, "donation", donor, "warehouse")
        ledger.reverse(
            self.org,
            self.users["warehouse"],
            mistake,
            "Entered twice: the same pallet was logged by two volunteers",
        )
        self._moved("main", "water", -1200)
