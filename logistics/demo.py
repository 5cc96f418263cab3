"""The demo organisation: six weeks of believable stock history for `flask seed-demo`.

Every stock change goes through services.ledger, so the demo obeys the same rules as real use.
Names of donors, suppliers and volunteers are invented; nothing describes the people served.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .extensions import db
from .models import ROLES, Item, Organisation, Site
from .models.types import utcnow
from .services import accounts, catalogue, ledger

DEMO_NAME = "Demo Solidarity Calais"
DEMO_SLUG = "demo"
DEMO_TIMEZONE = "Europe/Paris"
DEMO_PASSWORD = "calais-demo"
DAYS = 42
SEED = 2718

# Volunteers' own accounts: first names only.
DISPLAY_NAMES = {
    "admin": "Claire",
    "coordinator": "Yasmin",
    "warehouse": "Tom",
    "kitchen": "Marta",
    "donor": "Hélène",
}

# key: (name, kind, public area, private details)
SITES = {
    "main": (
        "Main warehouse",
        "warehouse",
        "Calais",
        "Unit 7, zone industrielle des Dunes; roller door at the back",
    ),
    "kitchen": (
        "Community kitchen",
        "kitchen",
        "Calais",
        "Industrial unit off rue de Judée; side door by the bins",
    ),
    "gs_store": (
        "Grande-Synthe store",
        "warehouse",
        "Grande-Synthe",
        "Garage behind the sports hall; key with the coordinator",
    ),
    "calais_east": (
        "Calais East point",
        "distribution_point",
        "Calais",
        "Rue des Verrotières, wasteland at the edge of the woods",
    ),
    "calais_centre": (
        "Calais Centre point",
        "distribution_point",
        "Calais",
        "Lorry park behind the old hospital, far corner",
    ),
    "calais_west": (
        "Calais West point",
        "distribution_point",
        "Calais",
        "Grass verge by the canal bridge, under the trees",
    ),
    "gs_north": (
        "Grande-Synthe North point",
        "distribution_point",
        "Grande-Synthe",
        "Car park by the lake path, end near the woods",
    ),
    "gs_south": (
        "Grande-Synthe South point",
        "distribution_point",
        "Grande-Synthe",
        "Wasteland along the old railway line, by the footbridge",
    ),
}


# key: name, category, unit, size, min_stock, cover target days, € per unit, per person per day
CATALOGUE: dict[str, tuple[str, str, str, str, int, int, str, str | None]] = {
    "tent2": ("Tent", "shelter", "piece", "2-person", 60, 7, "35.00", None),
    "tent4": ("Tent", "shelter", "piece", "4-person", 15, 14, "70.00", None),
    "tarp": ("Tarpaulin", "shelter", "piece", "4x6 m", 80, 7, "12.00", None),
    "blanket": ("Blanket", "bedding", "piece", "", 400, 14, "8.00", None),
    "sleeping_bag": ("Sleeping bag", "bedding", "piece", "", 300, 14, "25.00", None),
    "mat": ("Sleeping mat", "bedding", "piece", "", 100, 14, "9.00", None),
    "foil": ("Foil blanket", "bedding", "piece", "", 200, 14, "0.80", None),
    "water": ("Drinking water", "water", "litre", "", 3000, 3, "0.30", "15"),
    "jerrycan": ("Water container", "water", "piece", "10 L", 50, 14, "6.00", None),
    "biscuits": ("Biscuits", "food", "pack", "", 400, 7, "1.20", None),
    "dates": ("Dates", "food", "kg", "", 40, 14, "6.00", None),
    "tea": ("Tea", "food", "kg", "", 5, 14, "12.00", None),
    "rice": ("Rice", "ingredient", "kg", "", 300, 7, "1.40", "0.100"),
    "lentils": ("Red lentils", "ingredient", "kg", "", 150, 7, "1.90", "0.060"),
    "chickpeas": ("Chickpeas (dried)", "ingredient", "kg", "", 80, 7, "2.10", "0.060"),
    "onions": ("Onions", "ingredient", "kg", "", 250, 5, "0.90", "0.136"),
    "potatoes": ("Potatoes", "ingredient", "kg", "", 150, 5, "0.80", "0.086"),
    "carrots": ("Carrots", "ingredient", "kg", "", 80, 5, "1.00", "0.046"),
    "tomatoes": ("Chopped tomatoes", "ingredient", "kg", "", 80, 7, "1.60", "0.030"),
    "oil": ("Cooking oil", "ingredient", "litre", "", 60, 7, "2.20", "0.020"),
    "shoes40": ("Shoes", "clothing", "pair", "40", 20, 14, "25.00", None),
    "shoes41": ("Shoes", "clothing", "pair", "41", 40, 14, "25.00", None),
    "shoes42": ("Shoes", "clothing", "pair", "42", 50, 14, "25.00", None),
    "shoes43": ("Shoes", "clothing", "pair", "43", 40, 14, "25.00", None),
    "shoes44": ("Shoes", "clothing", "pair", "44", 25, 14, "25.00", None),
    "shoes45": ("Shoes", "clothing", "pair", "45", 15, 14, "25.00", None),
    "socks": ("Socks", "clothing", "pair", "", 600, 7, "1.50", None),
    "jacket_m": ("Warm jacket", "clothing", "piece", "M", 40, 14, "30.00", None),
    "jacket_l": ("Warm jacket", "clothing", "piece", "L", 60, 14, "30.00", None),
    "jacket_xl": ("Warm jacket", "clothing", "piece", "XL", 30, 14, "30.00", None),
    "trousers_m": ("Tracksuit bottoms", "clothing", "piece", "M", 40, 14, "12.00", None),
    "trousers_l": ("Tracksuit bottoms", "clothing", "piece", "L", 50, 14, "12.00", None),
    "beanie": ("Beanie hat", "clothing", "piece", "", 150, 14, "3.00", None),
    "gloves": ("Gloves", "clothing", "pair", "", 150, 14, "3.50", None),
    "underwear_m": ("Underwear", "clothing", "piece", "M", 150, 7, "2.00", None),
    "underwear_l": ("Underwear", "clothing", "piece", "L", 150, 7, "2.00", None),
    "hygiene_kit": ("Hygiene kit", "hygiene", "kit", "", 200, 7, "6.00", None),
    "pads": ("Sanitary pads", "hygiene", "pack", "", 60, 14, "2.50", None),
    "soap": ("Soap", "hygiene", "bar", "", 300, 7, "0.60", None),
    "nappies": ("Nappies", "hygiene", "pack", "size 4", 30, 14, "9.00", None),
    "rucksack": ("Rucksack", "other", "piece", "", 60, 14, "10.00", None),
    "power_bank": ("Power bank", "other", "piece", "", 20, 30, "12.00", None),
    "bin_bags": ("Bin bags", "other", "roll", "", 40, 14, "2.00", None),
}


@dataclass(frozen=True)
class Flow:
    """How an item moves in the story; quantities are means, varied day to day."""

    opening: int = 0  # at the main warehouse (ingredients: at the kitchen)
    opening_gs: int = 0  # at the Grande-Synthe store
    calais: int = 0  # given out at the Calais points per week
    gs: int = 0  # given out at the Grande-Synthe points per week
    van: int = 0  # sent to Grande-Synthe every Wednesday
    buy: int = 0  # bought per week (every Monday, or every other Monday in double)


FLOWS: dict[str, Flow] = {
    "tent2": Flow(opening=70, calais=28),
    "tent4": Flow(opening=18, opening_gs=6, gs=6, van=4, buy=2),
    "tarp": Flow(opening=120, opening_gs=20, calais=42, gs=12, van=12, buy=10),
    "blanket": Flow(opening=320, opening_gs=40, calais=280, gs=45, van=45),
    "sleeping_bag": Flow(opening=210, opening_gs=30, calais=196, gs=36, van=35),
    "mat": Flow(opening=120, calais=14),
    "foil": Flow(opening=500, calais=56),
    "water": Flow(opening=4000, opening_gs=800, calais=3150, gs=900, van=900, buy=3500),
    "jerrycan": Flow(opening=60, calais=18, buy=15),
    "biscuits": Flow(opening=700, opening_gs=100, calais=175, gs=45, van=90, buy=150),
    "dates": Flow(opening=100, calais=14),
    "tea": Flow(opening=12, calais=2, buy=1),
    "rice": Flow(opening=420, buy=340),
    "lentils": Flow(opening=180, buy=70),
    "chickpeas": Flow(opening=120, buy=80),
    "onions": Flow(opening=320, buy=460),
    "potatoes": Flow(opening=200, buy=240),
    "carrots": Flow(opening=90, buy=120),
    "tomatoes": Flow(opening=140, buy=90),
    "oil": Flow(opening=70, buy=75),
    "shoes40": Flow(opening=25, calais=2),
    "shoes41": Flow(opening=35, calais=10),
    "shoes42": Flow(opening=30, calais=14),
    "shoes43": Flow(opening=35, calais=10),
    "shoes44": Flow(opening=30, calais=3),
    "shoes45": Flow(opening=20, calais=2),
    "socks": Flow(opening=900, opening_gs=150, calais=770, gs=180, van=150, buy=300),
    "jacket_m": Flow(opening=55, calais=7),
    "jacket_l": Flow(opening=60, calais=17),
    "jacket_xl": Flow(opening=45, calais=5),
    "trousers_m": Flow(opening=80, calais=10),
    "trousers_l": Flow(opening=60, calais=10),
    "beanie": Flow(opening=260, calais=40),
    "gloves": Flow(opening=250, calais=35),
    "underwear_m": Flow(opening=200, calais=70, buy=60),
    "underwear_l": Flow(opening=200, calais=70, buy=60),
    "hygiene_kit": Flow(opening=260, opening_gs=40, calais=84, gs=24, van=25, buy=80),
    "pads": Flow(opening=90, opening_gs=10, calais=14, gs=18, van=15, buy=20),
    "soap": Flow(opening=600, calais=105),
    "nappies": Flow(opening=25, opening_gs=10, gs=15, van=12, buy=12),
    "rucksack": Flow(opening=80, calais=6),
    "power_bank": Flow(opening=30, calais=3),
    "bin_bags": Flow(opening=60, calais=7, buy=10),
}
# Handed out at most distributions; the rest now and then, in larger lots.
EVERY_TIME = frozenset({"water", "blanket", "sleeping_bag", "socks", "hygiene_kit"})
# Water and fresh vegetables are bought every week; the rest every other week, in bulk.
WEEKLY_PURCHASES = frozenset({"water", "onions", "potatoes", "carrots"})


# Invented donor groups and what they usually bring (mean quantities per drop-off).
DONORS: tuple[tuple[str, dict[str, int]], ...] = (
    (
        "Saint-Joseph parish, Arras",
        {"blanket": 70, "socks": 150, "beanie": 40, "gloves": 40, "jacket_l": 12, "soap": 80},
    ),
    (
        "Canterbury Friends Meeting",
        {"sleeping_bag": 40, "blanket": 50, "tent2": 12, "rucksack": 15, "mat": 20},
    ),
    (
        "Collège Les Tilleuls, Lille (pupils' collection)",
        {"hygiene_kit": 90, "soap": 120, "socks": 100, "pads": 20, "biscuits": 150},
    ),
    (
        "Channel Care Convoy",
        {
            "tent2": 30,
            "tarp": 30,
            "sleeping_bag": 70,
            "mat": 40,
            "jacket_m": 20,
            "jacket_l": 25,
            "jacket_xl": 10,
            "foil": 100,
        },
    ),
    (
        "Kent Refugee Solidarity",
        {"water": 1200, "biscuits": 250, "dates": 20, "power_bank": 8, "jerrycan": 15},
    ),
    (
        "Al-Nour community, Roubaix",
        {"dates": 30, "tea": 4, "rice": 120, "lentils": 60, "oil": 25, "chickpeas": 40},
    ),
    (
        "Brussels Sleep-Out collective",
        {"blanket": 45, "sleeping_bag": 25, "underwear_m": 60, "underwear_l": 60, "beanie": 50},
    ),
    (
        "Boots for the Border shoe drive",
        {
            "shoes40": 8,
            "shoes41": 20,
            "shoes42": 14,
            "shoes43": 20,
            "shoes44": 12,
            "shoes45": 8,
            "socks": 80,
            "trousers_m": 20,
            "trousers_l": 20,
        },
    ),
)
DONATION_DAYS = (1, 5)  # Tuesday and Saturday drop-offs, plus the odd extra one

# Where each recurring give-out happens: point, weekdays (0 = Monday), local time, source.
DISTRIBUTIONS: tuple[tuple[str, tuple[int, ...], time, str], ...] = (
    ("calais_east", (0, 3), time(18, 30), "main"),
    ("calais_centre", (1,), time(12, 30), "main"),
    ("calais_west", (5,), time(13, 0), "main"),
    ("gs_north", (2,), time(17, 0), "gs_store"),
    ("gs_south", (6,), time(16, 30), "gs_store"),
)
PER_WEEK = {
    source: sum(len(days) for _, days, _, s in DISTRIBUTIONS if s == source)
    for source in ("main", "gs_store")
}
COOKING_DAYS = (0, 1, 2, 3, 4)  # the kitchen cooks Monday to Friday

# Kitchen menus: ingredient kg (oil: litres) per 100 meals.
MENUS: tuple[tuple[str, dict[str, float]], ...] = (
    ("dal with rice", {"rice": 10, "lentils": 6, "onions": 13.6, "oil": 2}),
    ("chickpea curry with rice", {"rice": 10, "chickpeas": 6, "onions": 13.6, "tomatoes": 4}),
    ("potato and carrot stew", {"potatoes": 18, "carrots": 9, "onions": 13.6, "oil": 2}),
)

# (days ago, local time, site, item, quantity, reason)
LOSSES: tuple[tuple[int, time, str, str, int, str], ...] = (
    (38, time(9, 0), "main", "blanket", 30,
     "Damp: roof leak over the back racks, blankets mouldy"),
    (33, time(18, 50), "main", "sleeping_bag", 18,
     "Seized by CRS at Calais East point before they could be handed out"),
    (26, time(16, 50), "gs_store", "tarp", 12,
     "Slashed by police during the eviction at Grande-Synthe South point, still in the trailer"),
    (19, time(9, 0), "main", "biscuits", 40, "Mice got into the boxes on the bottom shelf"),
    (15, time(17, 20), "gs_store", "blanket", 22,
     "Sprayed with CS gas at Grande-Synthe North point; cannot be washed"),
    (9, time(9, 0), "main", "socks", 60, "Damp: boxes against the north wall soaked through"),
    (5, time(13, 20), "main", "tent2", 8,
     "Seized by police at Calais West point, with the trolley"),
    (3, time(10, 0), "kitchen", "tomatoes", 6, "Dented tins past their date"),
)  # fmt: skip

# (days ago, sites counted)
STOCKTAKES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (22, ("main",)),
    (4, ("gs_store", "kitchen")),
)
MISTAKE_DAYS_AGO = 2
SUPPLIERS = {
    "ingredient": "Cash & carry, Coquelles",
    "food": "Cash & carry, Coquelles",
    "hygiene": "Pharmacy wholesaler, Saint-Omer",
}
WATER_SUPPLIER = "Drinks wholesaler, Marck"
OTHER_SUPPLIER = "Camping and textile wholesaler (online order)"


def demo_logins() -> list[tuple[str, str]]:
    """Return the demo logins as (e-mail, role), one per role."""
    return [(f"{role}@{DEMO_SLUG}.example.org", role) for role in ROLES]


def seed(if_empty: bool) -> bool:
    """Build the demo organisation; False (and nothing done) when it cannot or need not."""
    if if_empty and db.session.scalar(select(Organisation.id).limit(1)) is not None:
        return False
    # Running it twice must not fail half-way: the demo is already there.
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == DEMO_SLUG)):
        return False
    organisation = accounts.create_organisation(DEMO_NAME, DEMO_SLUG, DEMO_TIMEZONE)
    users = {}
    for email, role in demo_logins():
        membership = accounts.add_member(
            organisation.id,
            email,
            role,
            password=DEMO_PASSWORD,
            display_name=DISPLAY_NAMES[role],
        )
        users[role] = membership.user_id
    # Holding the objects keeps them in the session's identity map, so the ledger's
    # look-ups by id do not go back to the database for every movement.
    sites = {
        key: catalogue.save_site(
            organisation.id, {"name": name, "kind": kind, "area": area, "details": details}
        )
        for key, (name, kind, area, details) in SITES.items()
    }
    items = {key: _save_item(organisation.id, *row) for key, row in CATALOGUE.items()}
    today = utcnow().astimezone(ZoneInfo(DEMO_TIMEZONE)).date()
    _Story(organisation.id, users, sites, items, random.Random(SEED), today).tell()
    return True


def _save_item(
    organisation_id: int,
    name: str,
    category: str,
    unit: str,
    size: str,
    min_stock: int,
    cover_days: int,
    value: str,
    per_person_per_day: str | None,
) -> Item:
    values = {
        "name": name,
        "category": category,
        "unit": unit,
        "size": size,
        "min_stock": min_stock,
        "cover_target_days": cover_days,
        "unit_value_eur": Decimal(value),
        "per_person_per_day": per_person_per_day and Decimal(per_person_per_day),
    }
    return catalogue.save_item(organisation_id, values)


def _home(item_key: str) -> str:
    """Return where an item is kept: ingredients in the kitchen, the rest in the warehouse."""
    return "kitchen" if CATALOGUE[item_key][1] == "ingredient" else "main"


def _supplier(item_key: str) -> str:
    if item_key == "water":
        return WATER_SUPPLIER
    return SUPPLIERS.get(CATALOGUE[item_key][1], OTHER_SUPPLIER)


class _Story:
    """Six weeks of warehouse life, told day by day in time order through the ledger."""

    def __init__(
        self,
        organisation_id: int,
        users: dict[str, int],
        sites: dict[str, Site],
        items: dict[str, Item],
        rng: random.Random,
        today: date,
    ) -> None:
        self.org = organisation_id
        self.users = users
        self.site_objects = sites
        self.item_objects = items
        self.sites = {key: site.id for key, site in sites.items()}
        self.items = {key: item.id for key, item in items.items()}
        self.rng = rng
        self.zone = ZoneInfo(DEMO_TIMEZONE)
        self.today = today
        # Our own copy of the levels, so give-outs can be sized without asking the database.
        self.levels: dict[tuple[str, str], int] = {}

    def tell(self) -> None:
        """Write the whole history, oldest day first."""
        for days_ago in range(DAYS, 0, -1):
            day = self.today - timedelta(days=days_ago)
            for at, event in sorted(self._events(day, days_ago), key=lambda pair: pair[0]):
                event(datetime.combine(day, at, self.zone).astimezone(UTC))

    def _events(self, day: date, days_ago: int) -> list[tuple[time, Callable[[datetime], None]]]:
        weekday = day.weekday()
        events: list[tuple[time, Callable[[datetime], None]]] = []
        if days_ago == DAYS:
            events.append((time(8, 0), self._opening_count))
        if weekday == 0:
            every_item = (days_ago // 7) % 2 == 0
            events.append((time(8, 30), lambda at, e=every_item: self._purchases(at, e)))
        if weekday == 2:
            events.append((time(9, 30), self._weekly_van))
        if weekday in DONATION_DAYS or self.rng.random() < 0.15:
            donor = DONORS[self.rng.randrange(len(DONORS))]
            events.append((time(10, 30), lambda at, donor=donor: self._donation(at, *donor)))
        if weekday in COOKING_DAYS:
            events.append((time(11, 0), self._cook))
        for point, weekdays, at, source in DISTRIBUTIONS:
            if weekday in weekdays:
                events.append((at, lambda when, p=point, s=source: self._give_out(when, p, s)))
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
        return events

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
        self, at: datetime, item: str, quantity: int, kind: str, source: str, role: str
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
        )
        self._moved(site, item, quantity)
        return movement.id

    def _take(
        self, at: datetime, site: str, item: str, quantity: int, kind: str, note: str
    ) -> None:
        if quantity <= 0:
            return
        role = "kitchen" if site == "kitchen" else "warehouse"
        ledger.record(
            self.org,
            self.users[role],
            site_id=self.sites[site],
            item_id=self.items[item],
            quantity=-quantity,
            kind=kind,
            occurred_at=at,
            note=note,
        )
        self._moved(site, item, -quantity)

    def _vary(self, mean: float, low: float = 0.6, high: float = 1.4) -> int:
        return max(1, round(mean * self.rng.uniform(low, high)))

    # -- what happens ---------------------------------------------------------------------------

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
                        counted=quantity,
                        occurred_at=at,
                    )
                    self._moved(site, key, quantity)

    def _purchases(self, at: datetime, every_item: bool) -> None:
        for key, flow in FLOWS.items():
            weeks = 1 if key in WEEKLY_PURCHASES else 2
            if flow.buy and (weeks == 1 or every_item):
                quantity = self._vary(flow.buy * weeks, 0.9, 1.1)
                buyer = "kitchen" if _home(key) == "kitchen" else "coordinator"
                self._receive(at, key, quantity, "purchase", _supplier(key), buyer)

    def _donation(self, at: datetime, donor: str, usual: dict[str, int]) -> None:
        for key, mean in usual.items():
            if self.rng.random() < 0.8:
                self._receive(at, key, self._vary(mean, 0.5, 1.5), "donation", donor, "warehouse")

    def _weekly_van(self, at: datetime) -> None:
        for key, flow in FLOWS.items():
            if not flow.van:
                continue
            quantity = min(self._vary(flow.van, 0.8, 1.2), self._spare("main", key))
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

    def _give_out(self, at: datetime, point: str, source: str) -> None:
        local = at.astimezone(self.zone)
        when = "midday" if local.hour < 15 else "evening"
        note = f"{SITES[point][0]}, {when} distribution"
        for key, flow in FLOWS.items():
            weekly = flow.gs if source == "gs_store" else flow.calais
            # Items not needed every time go out now and then, in larger lots.
            chance = 0.6 if key in EVERY_TIME else 0.1
            if weekly and self.rng.random() < chance:
                mean = weekly / PER_WEEK[source] / chance
                quantity = min(self._vary(mean), self._spare(source, key))
                self._take(at, source, key, quantity, "distribution", note)

    def _cook(self, at: datetime) -> None:
        name, per_hundred = MENUS[self.rng.randrange(len(MENUS))]
        meals = self.rng.randint(680, 860)
        note = f"Cooked {meals} meals: {name}"
        for key, kilos in per_hundred.items():
            quantity = min(round(meals * kilos / 100), self._held("kitchen", key))
            self._take(at, "kitchen", key, quantity, "consumption", note)

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
