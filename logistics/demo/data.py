"""The demo organisation's standing data: its people, sites, items, rounds, recipes and donors.

What happened to them over the weeks is in story.py. Names of donors, suppliers and volunteers
are invented; nothing describes the people served, who appear only as counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

DEMO_NAME = "Demo Solidarity Calais"
DEMO_SLUG = "demo"
DEMO_TIMEZONE = "Europe/Paris"
DEMO_PASSWORD = "calais-demo"

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
# Dated food: how many days after a delivery its best-before date falls (fewest, most).
SHELF_DAYS = {"meal_pack": (150, 300), "biscuits": (90, 240), "dates": (120, 360)}
# A supermarket's short-dated gift, delivered the evening before the demo's day to where each
# item is kept: (item, quantity, days left until its best-before date). Given first, and
# flagged before it expires.
SHORT_DATED = (
    ("meal_pack", 320, 10),
    ("biscuits", 60, 2),
)
SHORT_DATED_DONOR = "Carrefour Calais-Coquelles (short-dated)"

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
    "meal_pack": ("Meal pack", "food", "pack", "", 1500, 3, "1.60", None),
    "hot_meal": ("Hot meal", "food", "meal", "", 0, 1, "1.20", None),
    "biscuits": ("Biscuits", "food", "pack", "", 400, 7, "1.20", None),
    "dates": ("Dates", "food", "kg", "", 40, 14, "6.00", None),
    "tea": ("Tea", "food", "kg", "", 5, 14, "12.00", None),
    "rice": ("Rice", "ingredient", "kg", "", 100, 7, "1.40", "0.100"),
    "lentils": ("Red lentils", "ingredient", "kg", "", 40, 7, "1.90", "0.060"),
    "chickpeas": ("Chickpeas (dried)", "ingredient", "kg", "", 30, 7, "2.10", "0.040"),
    "pasta": ("Pasta", "ingredient", "kg", "", 50, 7, "1.30", "0.110"),
    "onions": ("Onions", "ingredient", "kg", "", 100, 5, "0.90", "0.136"),
    "potatoes": ("Potatoes", "ingredient", "kg", "", 60, 5, "0.80", "0.086"),
    "carrots": ("Carrots", "ingredient", "kg", "", 30, 5, "1.00", "0.046"),
    "tomatoes": ("Chopped tomatoes", "ingredient", "kg", "", 40, 7, "1.60", "0.030"),
    "oil": ("Cooking oil", "ingredient", "litre", "", 20, 7, "2.20", "0.020"),
    "spices": ("Spice mix", "ingredient", "kg", "", 5, 7, "9.00", "0.004"),
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

# Each item's French name, as French associations write it (shown to French readers).
NAMES_FR: dict[str, str] = {
    "tent2": "Tente",
    "tent4": "Tente",
    "tarp": "Bâche",
    "blanket": "Couverture",
    "sleeping_bag": "Duvet",
    "mat": "Tapis de sol",
    "foil": "Couverture de survie",
    "water": "Eau potable",
    "jerrycan": "Jerrican",
    "meal_pack": "Colis repas",
    "hot_meal": "Repas chaud",
    "biscuits": "Biscuits",
    "dates": "Dattes",
    "tea": "Thé",
    "rice": "Riz",
    "lentils": "Lentilles corail",
    "chickpeas": "Pois chiches (secs)",
    "pasta": "Pâtes",
    "onions": "Oignons",
    "potatoes": "Pommes de terre",
    "carrots": "Carottes",
    "tomatoes": "Tomates concassées",
    "oil": "Huile alimentaire",
    "spices": "Mélange d'épices",
    "shoes40": "Chaussures",
    "shoes41": "Chaussures",
    "shoes42": "Chaussures",
    "shoes43": "Chaussures",
    "shoes44": "Chaussures",
    "shoes45": "Chaussures",
    "socks": "Chaussettes",
    "jacket_m": "Veste chaude",
    "jacket_l": "Veste chaude",
    "jacket_xl": "Veste chaude",
    "trousers_m": "Bas de survêtement",
    "trousers_l": "Bas de survêtement",
    "beanie": "Bonnet",
    "gloves": "Gants",
    "underwear_m": "Sous-vêtements",
    "underwear_l": "Sous-vêtements",
    "hygiene_kit": "Kit d'hygiène",
    "pads": "Serviettes hygiéniques",
    "soap": "Savon",
    "nappies": "Couches",
    "rucksack": "Sac à dos",
    "power_bank": "Batterie externe",
    "bin_bags": "Sacs poubelle",
}

# What volunteers type for an item besides its name, in French and English (item aliases).
ALIASES: dict[str, tuple[str, ...]] = {
    "tent2": ("tente",),
    "tent4": ("tente",),
    "tarp": ("bâche", "tarp"),
    "blanket": ("couverture",),
    "sleeping_bag": ("duvet", "sac de couchage"),
    "mat": ("tapis de sol", "karrimat"),
    "foil": ("couverture de survie", "space blanket"),
    "water": ("eau",),
    "jerrycan": ("jerrican", "bidon"),
    "meal_pack": ("colis repas", "ration"),
    "hot_meal": ("repas chaud",),
    "shoes40": ("chaussures", "trainers"),
    "shoes41": ("chaussures", "trainers"),
    "shoes42": ("chaussures", "trainers"),
    "shoes43": ("chaussures", "trainers"),
    "shoes44": ("chaussures", "trainers"),
    "shoes45": ("chaussures", "trainers"),
    "socks": ("chaussettes",),
    "jacket_m": ("manteau", "coat"),
    "jacket_l": ("manteau", "coat"),
    "jacket_xl": ("manteau", "coat"),
    "beanie": ("bonnet",),
    "gloves": ("gants",),
    "hygiene_kit": ("kit hygiène",),
    "pads": ("serviettes hygiéniques",),
    "soap": ("savon",),
    "nappies": ("couches", "diapers"),
    "rucksack": ("sac à dos", "backpack"),
    "power_bank": ("batterie externe",),
}


@dataclass(frozen=True)
class Flow:
    """How an item moves in the story; quantities are means, varied day to day.

    calais and gs size what goes out now and then, on top of the planned lines, at the
    Calais evening and the Grande-Synthe distributions. Ingredients have no buy: the kitchen
    orders what its meal plan needs (KITCHEN_COVER_DAYS).
    """

    opening: int = 0  # at the main warehouse (ingredients: at the kitchen)
    opening_gs: int = 0  # at the Grande-Synthe store
    calais: int = 0  # given out in Calais per week, beyond the plan
    gs: int = 0  # given out in Grande-Synthe per week, beyond the plan
    van: int = 0  # sent to Grande-Synthe per week, on the Wednesday van
    buy: int = 0  # bought per week (every Monday, or every other Monday in double)


FLOWS: dict[str, Flow] = {
    "tent2": Flow(opening=80, calais=26, buy=8),
    "tent4": Flow(opening=18, opening_gs=6, gs=6, van=4, buy=2),
    "tarp": Flow(opening=120, opening_gs=20, calais=40, gs=12, van=12, buy=12),
    "blanket": Flow(opening=740, opening_gs=60, van=42, buy=150),
    "sleeping_bag": Flow(opening=450, opening_gs=40, gs=30, van=30, buy=100),
    "mat": Flow(opening=120, calais=14),
    "foil": Flow(opening=500, calais=56),
    "water": Flow(opening=9000, opening_gs=1200, van=1800),
    "jerrycan": Flow(opening=60, calais=18, buy=15),
    "meal_pack": Flow(opening=6000, opening_gs=1000, van=1800),
    "biscuits": Flow(opening=700, opening_gs=100, calais=175, gs=45, van=90, buy=100),
    "dates": Flow(opening=100, calais=14),
    "tea": Flow(opening=12, calais=2, buy=1),
    "rice": Flow(opening=240),
    "lentils": Flow(opening=90),
    "chickpeas": Flow(opening=80),
    "pasta": Flow(opening=120),
    "onions": Flow(opening=180),
    "potatoes": Flow(opening=110),
    "carrots": Flow(opening=50),
    "tomatoes": Flow(opening=70),
    "oil": Flow(opening=40),
    "spices": Flow(opening=8),
    "shoes40": Flow(opening=25, calais=2),
    "shoes41": Flow(opening=35, calais=10),
    "shoes42": Flow(opening=15, calais=14),
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
    "underwear_m": Flow(opening=200, calais=70, buy=40),
    "underwear_l": Flow(opening=200, calais=70, buy=40),
    "hygiene_kit": Flow(opening=260, opening_gs=40, calais=84, gs=24, van=25, buy=50),
    "pads": Flow(opening=90, opening_gs=10, calais=14, gs=18, van=15, buy=20),
    "soap": Flow(opening=600, calais=105),
    "nappies": Flow(opening=25, opening_gs=10, gs=15, van=12, buy=12),
    "rucksack": Flow(opening=80, calais=6),
    "power_bank": Flow(opening=30, calais=3),
    "bin_bags": Flow(opening=60, calais=7, buy=10),
}
# Beyond the plan: handed out at about half the distributions; shelter mostly on the evening
# after an eviction; the rest now and then, in larger lots.
EVERY_TIME = frozenset({"socks", "hygiene_kit", "sleeping_bag"})
SHELTER = frozenset({"tent2", "tent4", "tarp"})
ASKED_FOR = frozenset({"shoes41", "shoes42", "shoes43"})  # the sizes most asked for
# Bought every week; the rest every other week, in bulk.
WEEKLY_PURCHASES = frozenset({"water", "meal_pack", "blanket", "sleeping_bag"})
# Sent to Grande-Synthe every week; the rest every other week, two weeks' worth.
WEEKLY_VAN = frozenset({"water", "meal_pack", "blanket", "sleeping_bag"})
# Ordered each Monday up to a level that covers the week ahead, in whole pallets:
# (level at the main warehouse, pallet size). Their Flow.buy is ignored.
TOP_UP = {"water": (14_000, 500), "meal_pack": (10_000, 100)}


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
        {"hygiene_kit": 90, "soap": 120, "socks": 100, "pads": 20, "biscuits": 150, "pasta": 40},
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


@dataclass(frozen=True)
class Round:
    """A recurring distribution and how it usually goes."""

    key: str
    point: str
    source: str
    weekdays: tuple[int, ...]  # 0 = Monday
    at: time
    plan: tuple[tuple[str, int], ...]
    usual: tuple[int, ...]  # usual headcount, Monday first
    per_person: tuple[tuple[str, float], ...]  # items given by the head, not by the plan
    area: str
    extras: str  # which Flow column sizes the items given beyond the plan ("" for none)
    recorder: str  # the role that records the outcome
    disrupted_chance: float
    # Lines packed elsewhere than the round's source: (item key, site key).
    line_sources: tuple[tuple[str, str], ...] = ()

    def source_of(self, key: str) -> str:
        """Return the site key a planned line's goods come from."""
        return dict(self.line_sources).get(key, self.source)


EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
ROUNDS: tuple[Round, ...] = (
    Round(
        key="calais_evening",
        point="calais_east",
        source="main",
        weekdays=EVERY_DAY,
        at=time(18, 0),
        plan=(("meal_pack", 500), ("water", 500), ("blanket", 40), ("sleeping_bag", 25)),
        usual=(420, 390, 450, 430, 480, 540, 560),
        per_person=(("meal_pack", 1), ("water", 1)),
        area="Calais",
        extras="calais",
        recorder="coordinator",
        disrupted_chance=1 / 14,
    ),
    Round(
        key="calais_midday",
        point="calais_centre",
        source="kitchen",
        weekdays=EVERY_DAY,
        at=time(12, 30),
        # Meals from the kitchen; blankets from Main warehouse for those whose bedding was
        # gassed or taken overnight (a gassed blanket cannot be washed: docs/field-facts.md).
        plan=(("hot_meal", 420), ("blanket", 20)),
        # More come at weekends, when the day centres are closed.
        usual=(380, 350, 400, 390, 420, 450, 470),
        per_person=(("hot_meal", 1),),
        area="Calais",
        extras="",
        recorder="kitchen",
        disrupted_chance=1 / 12,
        line_sources=(("blanket", "main"),),
    ),
    Round(
        key="calais_water",
        point="calais_west",
        source="main",
        weekdays=(0, 2, 4),
        at=time(10, 0),
        plan=(("water", 600),),
        usual=(190, 0, 170, 0, 200, 0, 0),
        per_person=(("water", 3),),
        area="Calais",
        extras="",
        recorder="warehouse",
        disrupted_chance=1 / 12,
    ),
    Round(
        key="grande_synthe",
        point="gs_north",
        source="gs_store",
        weekdays=EVERY_DAY,
        at=time(17, 0),
        plan=(("meal_pack", 250), ("water", 250), ("blanket", 6)),
        usual=(220, 200, 230, 210, 240, 270, 280),
        per_person=(("meal_pack", 1), ("water", 1)),
        area="Grande-Synthe",
        extras="gs",
        recorder="coordinator",
        disrupted_chance=1 / 14,
    ),
)
# The replacement kit: per shelter destroyed a 2-person tent, 2 sleeping bags and a tarpaulin;
# per person affected a blanket (item key, quantity).
REPLACEMENT_KIT: dict[str, tuple[tuple[str, int], ...]] = {
    "shelter": (("tent2", 1), ("sleeping_bag", 2), ("tarp", 1)),
    "person": (("blanket", 1),),
}
# Calais evenings run between these headcounts (docs/field-facts.md: an evening serves 300–600).
CALAIS_EVENING_RANGE = (300, 600)
# Minors and women as shares of the headcount, counted at some distributions only.
SHARES = {"Calais": ((0.05, 0.15), (0.02, 0.06)), "Grande-Synthe": ((0.2, 0.35), (0.15, 0.25))}

# The kitchen: vegetarian dishes (no halal sourcing), ingredient kg (oil: litres) per 100
# meals; onions at docs/field-facts.md's 13.6 kg per 100 meals, less in the pasta sauce.
RECIPES: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "dal": (
        "Dal with rice",
        "vegetarian, vegan, no nuts, gluten-free",
        (("rice", "10"), ("lentils", "6"), ("onions", "13.6"), ("oil", "2"), ("spices", "0.4")),
    ),
    "curry": (
        "Vegetable curry with rice",
        "vegetarian, vegan, no nuts, gluten-free",
        (
            ("rice", "10"),
            ("potatoes", "15"),
            ("carrots", "8"),
            ("onions", "13.6"),
            ("oil", "2"),
            ("spices", "0.5"),
        ),
    ),
    "pasta": (
        "Pasta with tomato and chickpeas",
        "vegetarian, vegan, no nuts; contains wheat (gluten)",
        (
            ("pasta", "11"),
            ("chickpeas", "4"),
            ("tomatoes", "12"),
            ("onions", "10"),
            ("oil", "1.5"),
        ),
    ),
}
MENU_ROTATION = ("dal", "curry", "pasta")  # one dish a day, in turn
MENU_DAYS_AHEAD = 7  # the kitchen lead has chosen the dishes of the coming week
# Fridays are busy: a second pot of the next dish makes a third of the meals.
SECOND_POT_WEEKDAY = 4
COOK_TIME = time(10, 0)  # one cooking in the morning for the day's hot meals
# The kitchen orders up to the ingredients of the next days' planned meals, 10% over, plus the
# item's minimum stock, in whole sacks: vegetables on Mondays and Thursdays, dry goods every
# other Monday, enough for well over a week. Onions go soft in the damp store, so they are
# bought to last until the next vegetable run only: the plan shows them short later in the week
# (the kitchen lead's cue to order), while everything else is in.
KITCHEN_ORDER_WEEKDAYS = (0, 3)
KITCHEN_ORDER_TIME = time(8, 45)
KITCHEN_MARGIN = 1.1
KITCHEN_COVER_DAYS = {"fresh": 12, "dry": 22}
FRESH = frozenset({"onions", "potatoes", "carrots"})
TILL_NEXT_RUN = frozenset({"onions"})
SACKS = {
    "rice": 25,
    "lentils": 25,
    "chickpeas": 25,
    "pasta": 10,
    "onions": 25,
    "potatoes": 25,
    "carrots": 10,
    "tomatoes": 15,
    "oil": 5,
    "spices": 1,
}

# Evictions, as observers record them.
CALAIS_CAMPS = ("calais_east", "calais_centre", "calais_west")
GS_CAMPS = ("gs_south", "gs_north")
EVICTION_TIMES = (time(6, 45), time(7, 30), time(8, 15), time(8, 50), time(9, 40))
MINUTES = {"Calais": (45, 70, 90, 120), "Grande-Synthe": (120, 150, 180)}
FORCES = {
    "Calais": (
        "1 police car, 4 gendarmerie vans, 1 PAF van",
        "5 CRS vans, 2 cleaning-company vehicles",
        "2 police cars, 6 CRS vans, 1 PAF van, 1 cleaning-company lorry",
        "3 gendarmerie vans, 1 bailiff's car, 2 cleaning-company vehicles",
        "4 CRS vans, 1 police car, 1 cleaning-company lorry",
    ),
    "Grande-Synthe": (
        "8 CRS vans, 1 tractor, 2 cleaning-company lorries, 3 buses",
        "6 gendarmerie vans, 2 police cars, 1 PAF van, 2 buses",
        "10 CRS vans, 1 police car, 1 digger, 2 cleaning-company lorries",
    ),
}
DESCRIPTIONS = {
    "Calais": (
        "Camp cleared near {point}. Tents and tarpaulins taken by cleaning-company staff; "
        "what was left behind was slashed.",
        "Eviction of the camp by the woods. Sleeping bags and blankets thrown into the skip; "
        "tents slashed.",
        "Police cordon while shelters were removed. Belongings could be kept only by those "
        "present at the time.",
        "Routine clearance near {point}. Tents seized without notice; no list of seized "
        "property given.",
    ),
    "Grande-Synthe": (
        "Weekly eviction of the camp by the lake. Buses to reception centres offered; "
        "tents and tarpaulins removed by a tractor.",
        "Large operation on the wasteland. Shelters destroyed, belongings taken away in "
        "lorries; families moved to the road.",
    ),
}
WITNESSES = (
    "2 volunteers of the group, from the road",
    "3 observers from a legal-observation team",
    "1 volunteer on the morning round",
    "2 observers, with photos and video",
)
# Of what is out in the camps, the share an eviction destroys (the rest is carried away).
DESTROYED_SHARE = {
    "tent2": (0.3, 0.7),
    "tent4": (0.3, 0.7),
    "tarp": (0.5, 0.9),
    "sleeping_bag": (0.2, 0.5),
    "blanket": (0.15, 0.4),
}
ACTIONS = {
    "tent2": ("slashed", "seized", "destroyed"),
    "tent4": ("slashed", "seized", "destroyed"),
    "tarp": ("slashed", "seized"),
    "sleeping_bag": ("destroyed", "slashed", "seized"),
    "blanket": ("destroyed", "seized"),
}
# Marked with the group's logo before they go out, so observers can tell they are ours.
MARKED = frozenset({"tent2", "tent4", "tarp"})
# Given out before the tracker was used, still in the camps on day one.
ALREADY_OUT = {
    ("Calais", "tent2"): 20,
    ("Calais", "tarp"): 30,
    ("Calais", "sleeping_bag"): 60,
    ("Calais", "blanket"): 80,
    ("Grande-Synthe", "tarp"): 10,
    ("Grande-Synthe", "blanket"): 20,
}

# Where purchases come from: by item, then by category, else the online wholesaler.
VEGETABLE_SUPPLIER = "Market gardeners' co-op, Saint-Omer"
SUPPLIERS = {
    "ingredient": "Cash & carry, Coquelles",
    "food": "Cash & carry, Coquelles",
    "hygiene": "Pharmacy wholesaler, Saint-Omer",
}
WATER_SUPPLIER = "Drinks wholesaler, Marck"
OTHER_SUPPLIER = "Camping and textile wholesaler (online order)"


# What donors read: a public drop-off place the group chose to make known, never a camp.
DONOR_PAGE = {
    "drop_off": (
        "Salle paroissiale Notre-Dame, rue de la Paix, Calais\nDonations desk, left of the church"
    ),
    "opening_hours": "Wed 14:00–18:00, Sat 10:00–13:00",
    "donation_url": "https://calais-aid.example.org/give",
    "contact_email": "dons@calais-aid.example.org",
}
# Pledges donors made last week for the days ahead: (item, quantity, days from today).
PLEDGES = (("sleeping_bag", 20, 2), ("tarp", 15, 4), ("hygiene_kit", 40, 1))
