"""Generate a believable ledger: one organisation, 20 sites, 500 items, N movements.

`python -m bench.generate --movements 1000000` builds (or reuses) the cached SQLite file under
bench/data/; `--url URL` fills another empty database instead. `python -m bench` calls
`ensure_sqlite`, which reuses a cached file while generator version, seed and schema match.

Movements are simulated in time order over five years so that every running balance stays at
or above zero; the stock_level rows written at the end are the simulated balances, so each
level equals the sum of its movements. Writes are bulk: executemany in chunks of 50,000 on
SQLite, COPY through psycopg on PostgreSQL, with the ledger's indexes built after the load.
"""

from __future__ import annotations

import argparse
import atexit
import bisect
import functools
import hashlib
import itertools
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.schema import CreateIndex, CreateTable

# Bump when the generated data changes; cached files carry it in their name.
GENERATOR_VERSION = 3
SEED = 20_211_226
YEARS = 5
CHUNK = 50_000
DATA_DIR = Path(__file__).resolve().parent / "data"
ORG_NAME = "Coast Aid Federation"
ORG_SLUG = "bench"
PASSWORD = "bench password 2021"
ROLES = ("admin", "coordinator", "warehouse", "kitchen", "donor")

# name, kind, area: 4 warehouses, 3 kitchens, 13 distribution points.
SITES = (
    ("Main warehouse", "warehouse", "Calais"),
    ("Grande-Synthe store", "warehouse", "Grande-Synthe"),
    ("Paris depot", "warehouse", "Paris"),
    ("Brussels depot", "warehouse", "Brussels"),
    ("Calais community kitchen", "kitchen", "Calais"),
    ("Dunkirk kitchen", "kitchen", "Grande-Synthe"),
    ("Paris kitchen", "kitchen", "Paris"),
    ("Verrotières point", "distribution_point", "Calais"),
    ("Rue de Judée point", "distribution_point", "Calais"),
    ("Hospital point", "distribution_point", "Calais"),
    ("Old Lidl point", "distribution_point", "Calais"),
    ("Marck point", "distribution_point", "Calais"),
    ("Coquelles lorry park", "distribution_point", "Calais"),
    ("Lake point", "distribution_point", "Grande-Synthe"),
    ("Loon-Plage point", "distribution_point", "Grande-Synthe"),
    ("Puythouck point", "distribution_point", "Grande-Synthe"),
    ("Porte de la Chapelle point", "distribution_point", "Paris"),
    ("Aubervilliers canal point", "distribution_point", "Paris"),
    ("Stalingrad point", "distribution_point", "Paris"),
    ("Gare du Nord point", "distribution_point", "Brussels"),
)

ADULT_SIZES = ("XS", "S", "M", "L", "XL", "XXL", "XXXL")
CHILD_SIZES = ("2-3y", "4-5y", "6-7y", "8-9y", "10-11y", "12-13y", "14-15y")
SHOE_SIZES = tuple(str(size) for size in range(35, 48))
WAIST_SIZES = tuple(str(size) for size in range(28, 42, 2))
# name, category, unit, sizes ("" alone: no size).
CATALOGUE: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Tent", "shelter", "piece", ("1-person", "2-person", "3-person", "4-person", "family")),
    ("Tarpaulin", "shelter", "piece", ("3x4 m", "4x6 m", "6x8 m", "8x10 m")),
    ("Ground sheet", "shelter", "piece", ("",)),
    ("Tent pegs", "shelter", "pack", ("",)),
    ("Rope", "shelter", "piece", ("10 m", "20 m")),
    ("Pallet", "shelter", "piece", ("",)),
    ("Blanket", "bedding", "piece", ("single", "double", "fleece", "wool", "child")),
    ("Sleeping bag", "bedding", "piece", ("summer", "3-season", "winter", "child")),
    ("Sleeping mat", "bedding", "piece", ("foam", "inflatable")),
    ("Foil blanket", "bedding", "piece", ("",)),
    ("Pillow", "bedding", "piece", ("",)),
    ("Drinking water", "water", "litre", ("0.5 L bottle", "1.5 L bottle", "5 L can")),
    ("Water container", "water", "piece", ("10 L", "20 L")),
    ("Water bottle", "water", "piece", ("",)),
    ("Water purifying tablets", "water", "pack", ("",)),
    ("Tinned beans", "food", "tin", ("",)),
    ("Tinned chickpeas", "food", "tin", ("",)),
    ("Tinned fish", "food", "tin", ("",)),
    ("Dates", "food", "kg", ("",)),
    ("Biscuits", "food", "pack", ("",)),
    ("Bread", "food", "piece", ("",)),
    ("Fruit", "food", "kg", ("apples", "bananas", "oranges")),
    ("Nuts", "food", "kg", ("",)),
    ("Tea", "food", "pack", ("",)),
    ("Sugar", "food", "kg", ("",)),
    ("Baby milk", "food", "tin", ("stage 1", "stage 2", "stage 3")),
    ("Baby food", "food", "jar", ("",)),
    ("Hot meal", "food", "meal", ("",)),
    ("Onions", "ingredient", "kg", ("",)),
    ("Potatoes", "ingredient", "kg", ("",)),
    ("Carrots", "ingredient", "kg", ("",)),
    ("Tomatoes", "ingredient", "kg", ("fresh", "tinned")),
    ("Rice", "ingredient", "kg", ("",)),
    ("Lentils", "ingredient", "kg", ("red", "green")),
    ("Chickpeas", "ingredient", "kg", ("",)),
    ("Pasta", "ingredient", "kg", ("",)),
    ("Flour", "ingredient", "kg", ("",)),
    ("Cooking oil", "ingredient", "litre", ("",)),
    ("Salt", "ingredient", "kg", ("",)),
    ("Spice mix", "ingredient", "kg", ("cumin", "curry", "paprika")),
    ("Garlic", "ingredient", "kg", ("",)),
    ("Cabbage", "ingredient", "kg", ("",)),
    ("Peppers", "ingredient", "kg", ("",)),
    ("Shoes", "clothing", "pair", SHOE_SIZES),
    ("Trainers", "clothing", "pair", SHOE_SIZES),
    ("Walking boots", "clothing", "pair", SHOE_SIZES),
    ("Wellington boots", "clothing", "pair", SHOE_SIZES),
    ("Flip-flops", "clothing", "pair", ("S", "M", "L")),
    ("Children's shoes", "clothing", "pair", tuple(str(size) for size in range(24, 35))),
    ("Socks", "clothing", "pair", ("S", "M", "L", "XL")),
    ("Thermal socks", "clothing", "pair", ("S", "M", "L", "XL")),
    ("Jacket", "clothing", "piece", ADULT_SIZES),
    ("Waterproof jacket", "clothing", "piece", ADULT_SIZES),
    ("Jumper", "clothing", "piece", ADULT_SIZES),
    ("Hoodie", "clothing", "piece", ADULT_SIZES),
    ("T-shirt", "clothing", "piece", ADULT_SIZES),
    ("Thermal top", "clothing", "piece", ADULT_SIZES),
    ("Thermal leggings", "clothing", "piece", ADULT_SIZES),
    ("Tracksuit bottoms", "clothing", "piece", ADULT_SIZES),
    ("Underwear", "clothing", "piece", ADULT_SIZES),
    ("Women's underwear", "clothing", "piece", ADULT_SIZES),
    ("Bra", "clothing", "piece", ADULT_SIZES),
    ("Leggings", "clothing", "piece", ADULT_SIZES),
    ("Dress", "clothing", "piece", ADULT_SIZES),
    ("Headscarf", "clothing", "piece", ("",)),
    ("Jeans", "clothing", "piece", WAIST_SIZES),
    ("Trousers", "clothing", "piece", WAIST_SIZES),
    ("Belt", "clothing", "piece", ("S", "M", "L")),
    ("Gloves", "clothing", "pair", ("S", "M", "L", "XL")),
    ("Hat", "clothing", "piece", ("",)),
    ("Scarf", "clothing", "piece", ("",)),
    ("Poncho", "clothing", "piece", ("",)),
    ("Children's jacket", "clothing", "piece", CHILD_SIZES),
    ("Children's jumper", "clothing", "piece", CHILD_SIZES),
    ("Children's trousers", "clothing", "piece", CHILD_SIZES),
    ("Children's underwear", "clothing", "piece", CHILD_SIZES),
    ("Children's socks", "clothing", "pair", CHILD_SIZES),
    ("Children's hat", "clothing", "piece", ("",)),
    ("Baby vest", "clothing", "piece", ("0-3m", "3-6m", "6-12m", "12-24m")),
    ("Baby sleepsuit", "clothing", "piece", ("0-3m", "3-6m", "6-12m", "12-24m")),
    ("Soap", "hygiene", "bar", ("",)),
    ("Shower gel", "hygiene", "bottle", ("",)),
    ("Shampoo", "hygiene", "bottle", ("",)),
    ("Toothbrush", "hygiene", "piece", ("adult", "child")),
    ("Toothpaste", "hygiene", "tube", ("",)),
    ("Razor", "hygiene", "piece", ("",)),
    ("Shaving foam", "hygiene", "can", ("",)),
    ("Deodorant", "hygiene", "piece", ("",)),
    ("Sanitary pads", "hygiene", "pack", ("regular", "night")),
    ("Tampons", "hygiene", "pack", ("",)),
    ("Nappies", "hygiene", "pack", ("size 1", "size 2", "size 3", "size 4", "size 5", "size 6")),
    ("Baby wipes", "hygiene", "pack", ("",)),
    ("Wet wipes", "hygiene", "pack", ("",)),
    ("Towel", "hygiene", "piece", ("hand", "bath")),
    ("Hand sanitiser", "hygiene", "bottle", ("",)),
    ("Nail clippers", "hygiene", "piece", ("",)),
    ("Comb", "hygiene", "piece", ("",)),
    ("Lip balm", "hygiene", "piece", ("",)),
    ("Sun cream", "hygiene", "bottle", ("",)),
    ("Face masks", "hygiene", "pack", ("",)),
    ("First aid kit", "hygiene", "piece", ("",)),
    ("Plasters", "hygiene", "pack", ("",)),
    ("Laundry powder", "hygiene", "kg", ("",)),
    ("Sleeping bag liner", "bedding", "piece", ("",)),
    ("Duvet", "bedding", "piece", ("single", "double")),
    ("Camping chair", "shelter", "piece", ("",)),
    ("Camping stove", "other", "piece", ("",)),
    ("Gas canister", "other", "piece", ("",)),
    ("Peanut butter", "food", "jar", ("",)),
    ("Honey", "food", "jar", ("",)),
    ("Jam", "food", "jar", ("",)),
    ("Crisps", "food", "pack", ("",)),
    ("Cereal bars", "food", "pack", ("",)),
    ("Instant soup", "food", "pack", ("",)),
    ("Instant noodles", "food", "pack", ("",)),
    ("Juice", "food", "litre", ("apple", "orange")),
    ("UHT milk", "food", "litre", ("",)),
    ("Chocolate", "food", "bar", ("",)),
    ("Crackers", "food", "pack", ("",)),
    ("Halva", "food", "kg", ("",)),
    ("Olives", "food", "jar", ("",)),
    ("Tinned sweetcorn", "food", "tin", ("",)),
    ("Tinned soup", "food", "tin", ("",)),
    ("Aubergines", "ingredient", "kg", ("",)),
    ("Courgettes", "ingredient", "kg", ("",)),
    ("Spinach", "ingredient", "kg", ("",)),
    ("Coriander", "ingredient", "kg", ("",)),
    ("Parsley", "ingredient", "kg", ("",)),
    ("Ginger", "ingredient", "kg", ("",)),
    ("Lemons", "ingredient", "kg", ("",)),
    ("Stock cubes", "ingredient", "pack", ("",)),
    ("Bulgur", "ingredient", "kg", ("",)),
    ("Couscous", "ingredient", "kg", ("",)),
    ("Split peas", "ingredient", "kg", ("",)),
    ("Kidney beans", "ingredient", "kg", ("",)),
    ("Coconut milk", "ingredient", "litre", ("",)),
    ("Tomato paste", "ingredient", "kg", ("",)),
    ("Chillies", "ingredient", "kg", ("",)),
    ("Vinegar", "ingredient", "litre", ("",)),
    ("Yoghurt", "ingredient", "kg", ("",)),
    ("Oats", "ingredient", "kg", ("",)),
    ("Eggs", "ingredient", "piece", ("",)),
    ("Shorts", "clothing", "piece", ADULT_SIZES),
    ("Shirt", "clothing", "piece", ADULT_SIZES),
    ("Fleece", "clothing", "piece", ADULT_SIZES),
    ("Women's jacket", "clothing", "piece", ADULT_SIZES),
    ("Women's trousers", "clothing", "piece", ADULT_SIZES),
    ("Slippers", "clothing", "pair", ("S", "M", "L")),
    ("Children's T-shirt", "clothing", "piece", CHILD_SIZES),
    ("Children's boots", "clothing", "pair", tuple(str(size) for size in range(24, 35))),
    ("Snood", "clothing", "piece", ("",)),
    ("Balaclava", "clothing", "piece", ("",)),
    ("Cotton buds", "hygiene", "pack", ("",)),
    ("Hairbrush", "hygiene", "piece", ("",)),
    ("Body lotion", "hygiene", "bottle", ("",)),
    ("Petroleum jelly", "hygiene", "jar", ("",)),
    ("Condoms", "hygiene", "pack", ("",)),
    ("Ear plugs", "hygiene", "pack", ("",)),
    ("Dental floss", "hygiene", "piece", ("",)),
    ("Mirror", "hygiene", "piece", ("",)),
    ("Tissues", "hygiene", "pack", ("",)),
    ("Padlock", "other", "piece", ("",)),
    ("Tent repair kit", "other", "piece", ("",)),
    ("Shoe laces", "other", "pair", ("",)),
    ("Dry bag", "other", "piece", ("",)),
    ("Phone case", "other", "piece", ("",)),
    ("Firewood", "other", "kg", ("",)),
    ("Charcoal", "other", "kg", ("",)),
    ("Extension lead", "other", "piece", ("",)),
    ("Sleeping bag straps", "other", "pair", ("",)),
    ("Rucksack cover", "other", "piece", ("",)),
    ("Bike pump", "other", "piece", ("",)),
    ("Phone charger", "other", "piece", ("USB-C", "micro-USB", "Lightning")),
    ("Charging cable", "other", "piece", ("USB-C", "micro-USB", "Lightning")),
    ("Power bank", "other", "piece", ("",)),
    ("Torch", "other", "piece", ("",)),
    ("Head torch", "other", "piece", ("",)),
    ("Batteries", "other", "pack", ("AA", "AAA")),
    ("Bin bags", "other", "roll", ("",)),
    ("Lighter", "other", "piece", ("",)),
    ("Hand warmers", "other", "pair", ("",)),
    ("Backpack", "other", "piece", ("",)),
    ("Cooking pot", "other", "piece", ("",)),
    ("Cutlery set", "other", "piece", ("",)),
    ("Plates", "other", "pack", ("",)),
    ("Cups", "other", "pack", ("",)),
    ("Candles", "other", "pack", ("",)),
    ("Umbrella", "other", "piece", ("",)),
    ("Reading glasses", "other", "piece", ("+1.0", "+1.5", "+2.0", "+2.5", "+3.0")),
    ("SIM card", "other", "piece", ("",)),
    ("Notebook and pen", "other", "piece", ("",)),
    ("Football", "other", "piece", ("",)),
    ("Playing cards", "other", "pack", ("",)),
    ("Sewing kit", "other", "piece", ("",)),
    ("Duct tape", "other", "roll", ("",)),
    ("Cable ties", "other", "pack", ("",)),
    ("Carabiner", "other", "piece", ("",)),
    ("Bicycle lights", "other", "pair", ("",)),
    ("Bicycle lock", "other", "piece", ("",)),
    ("Thermos", "other", "piece", ("",)),
    ("Tupperware", "other", "piece", ("small", "large")),
    ("Prayer mat", "other", "piece", ("",)),
    ("Children's toy", "other", "piece", ("",)),
    ("Colouring book", "other", "piece", ("",)),
    ("Crayons", "other", "pack", ("",)),
    ("Pushchair", "other", "piece", ("",)),
    ("Baby carrier", "other", "piece", ("",)),
    ("Baby bottle", "other", "piece", ("",)),
)

DONORS = (
    "Church collection, Saint-Omer",
    "School drive, Lille",
    "Mosque collection, Roubaix",
    "Private donor",
    "Festival leftovers",
    "Warehouse appeal",
    "Student union, Canterbury",
    "Food bank surplus",
    "Convoy from Bristol",
    "Online wishlist",
)
SUPPLIERS = ("Metro Calais", "Leclerc Coquelles", "Decathlon online", "Wholesale market, Lomme")
LOSS_NOTES = (
    "Police destruction at eviction",
    "Seized at eviction",
    "Slashed during eviction",
    "CS gas contamination",
    "Rain damage",
    "Rats in the store",
    "Spoiled: past its date",
    "Stolen from the van",
)
STOCKTAKE_NOTE = "Stocktake correction"
OPENING_NOTE = "Opening stocktake"

# Share of movements by kind; a transfer writes two (transfer_out and transfer_in).
KIND_WEIGHTS = {
    "donation": 22,
    "purchase": 6,
    "transfer": 15,
    "distribution": 34,
    "loss": 6,
    "adjustment": 2,
}
MOVEMENT_COLUMNS = (
    "organisation_id",
    "site_id",
    "item_id",
    "quantity",
    "kind",
    "occurred_at",
    "recorded_at",
    "recorded_by_id",
    "source",
    "note",
    "transfer_group",
)


def expand_catalogue() -> list[tuple[str, str, str, str]]:
    """Return the 500 items as (name, category, unit, size)."""
    items = [(name, cat, unit, size) for name, cat, unit, sizes in CATALOGUE for size in sizes]
    if len(items) != 500:
        raise AssertionError(f"catalogue has {len(items)} items, not 500")
    return items


def bench_config(url: str, scratch: str) -> dict[str, Any]:
    """Return the app configuration the benchmarks run with."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "TESTING": True,
        "ENV": "testing",
        "WTF_CSRF_ENABLED": False,
        "INSTANCE_DIR": str(Path(scratch) / "instance"),
        "REPORTS_DIR": str(Path(scratch) / "reports"),
        "EVIDENCE_DIR": str(Path(scratch) / "evidence"),
        # Logins happen once per run; a fast hash keeps set-up short.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


def make_app(url: str) -> Flask:
    """Create the real app on a database URL, with scratch folders in the temp dir."""
    from logistics import create_app

    return create_app(bench_config(url, _scratch()))


@functools.cache
def _scratch() -> str:
    """Return one scratch folder per process for the app's instance and report folders."""
    folder = tempfile.mkdtemp(prefix="logistics-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def schema_fingerprint() -> str:
    """Return a short hash of the SQLite DDL, so a cached file follows model changes."""
    from sqlalchemy.dialects import sqlite

    import logistics.models  # noqa: F401  (registers every table)
    from logistics.extensions import db

    dialect = sqlite.dialect()
    parts = []
    for table in db.metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)))
        for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:10]


def cache_path(movements: int, recent_days: int | None = None) -> Path:
    """Return where the SQLite file for this size, generator and schema is cached."""
    key = f"v{GENERATOR_VERSION}-{schema_fingerprint()}-seed{SEED}"
    size = f"{movements}" if recent_days is None else f"{movements}-recent{recent_days}"
    return DATA_DIR / f"ledger-{size}-{key}.sqlite3"


@dataclass
class Generated:
    """What a generation produced and how long it took."""

    url: str
    movements: int
    levels: int
    seconds: float
    check_seconds: float
    mismatches: int
    kinds: Counter[str] = field(default_factory=Counter)


@dataclass
class World:
    """Ids of the generated organisation, its sites, items and users."""

    org_id: int
    site_ids: list[int]
    site_kinds: list[str]
    item_ids: list[int]
    item_units: list[str]
    user_ids: list[int]


def ensure_sqlite(
    movements: int,
    *,
    regenerate: bool = False,
    log: Any = print,
    recent_days: int | None = None,
) -> Path:
    """Return a generated SQLite file of this size, building it only when not cached.

    With recent_days, the file holds only the last days of that simulated ledger, after an
    opening stocktake that gives every level its balance of that moment (see simulate_recent).
    """
    path = cache_path(movements, recent_days)
    summary = Path(f"{path}.json")
    if path.exists() and not regenerate:
        log(f"Using cached {path.relative_to(DATA_DIR.parent.parent)}")
        if summary.exists():
            log(f"  generated as: {summary.read_text().strip()}")
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    size = path.name.split("-v")[0]  # ledger-<movements>[-recent<days>]
    for stale in DATA_DIR.glob(f"{size}-v*.sqlite3*"):
        stale.unlink()
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    result = generate(f"sqlite:///{partial}", movements, log=log, recent_days=recent_days)
    if result.mismatches:
        raise SystemExit(f"check_ledger found {result.mismatches} mismatches; not caching")
    partial.rename(path)
    summary.write_text(
        json.dumps(
            {
                "movements": result.movements,
                "levels": result.levels,
                "generated_seconds": round(result.seconds, 1),
                "check_ledger_seconds": round(result.check_seconds, 2),
                "mismatches": result.mismatches,
                "kinds": dict(result.kinds.most_common()),
            }
        )
    )
    return path


def generate(
    url: str, movements: int, *, log: Any = print, recent_days: int | None = None
) -> Generated:
    """Create the schema on an empty database and fill it with a believable ledger.

    With recent_days, only that many last days of the simulated ledger are written, after an
    opening stocktake: the same recent activity and the same levels, on a short history.
    """
    from logistics.extensions import db
    from logistics.services import lots, snapshots, stock

    app = make_app(url)
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        world = _build_world()
        db.session.commit()
        with _indexes_built_after(db.engine):
            balances, kinds = _write_movements(world, movements, recent_days)
        _write_levels(world, balances)
        lots_written = _write_lots(world)
        taken = snapshots.take_snapshots(world.org_id, datetime.now(UTC))
        db.session.commit()
        log(f"  {lots_written:,} best-before lots of dated food; {taken} monthly snapshots")
        if db.engine.dialect.name == "postgresql":
            _analyze_postgres()
        else:
            # Fold the bulk load back into the main file so the benchmarks start clean.
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        seconds = time.perf_counter() - started
        written = sum(kinds.values())  # fewer than simulated when only recent days are kept
        log(f"Generated {written:,} movements and {len(balances):,} levels in {seconds:.1f} s")
        log("  by kind: " + ", ".join(f"{kind} {n:,}" for kind, n in kinds.most_common()))
        check_started = time.perf_counter()
        mismatches = [*stock.check_ledger(), *lots.check_lots(), *snapshots.check_snapshots()]
        check_seconds = time.perf_counter() - check_started
        log(
            f"check_ledger(): {len(mismatches)} mismatches, took {check_seconds:.2f} s "
            f"over {written:,} movements"
        )
        db.session.remove()
        db.engine.dispose()
    return Generated(url, written, len(balances), seconds, check_seconds, len(mismatches), kinds)


@contextmanager
def _indexes_built_after(engine: Any) -> Iterator[None]:
    """Drop the ledger's secondary indexes for the load and build them again after it.

    Building an index once over sorted keys is much faster than a million B-tree inserts;
    the indexes come back from the same metadata, so the schema is the one create_all made.
    """
    from logistics.models import StockMovement

    indexes = sorted(StockMovement.__table__.indexes, key=lambda index: index.name or "")
    with engine.begin() as connection:
        for index in indexes:
            index.drop(connection)
    yield
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -262144")
        for index in indexes:
            index.create(connection)


def _build_world() -> World:
    """Create the organisation, one member per role, 20 sites and 500 items."""
    from logistics.extensions import db
    from logistics.models import Item, Site
    from logistics.services import accounts

    organisation = accounts.create_organisation(ORG_NAME, ORG_SLUG)
    user_ids = [
        accounts.add_member(organisation.id, member_email(role), role, password=PASSWORD).user_id
        for role in ROLES
    ]
    db.session.execute(
        insert(Site),
        [
            {
                "organisation_id": organisation.id,
                "name": name,
                "kind": kind,
                "area": area,
                "details": f"Private directions to {name}",
                "active": True,
            }
            for name, kind, area in SITES
        ],
    )
    db.session.execute(
        insert(Item),
        [
            {
                "organisation_id": organisation.id,
                "name": name,
                "category": category,
                "unit": unit,
                "size": size,
                "min_stock": 20 if category in ("shelter", "bedding") else 5,
                "cover_target_days": 7,
                # Food keeps best-before dates: its receipts come in lots, given earliest first.
                "dated": category == "food",
                "active": True,
            }
            for name, category, unit, size in expand_catalogue()
        ],
    )
    sites = db.session.execute(
        text("SELECT id, kind FROM site WHERE organisation_id = :o ORDER BY id"),
        {"o": organisation.id},
    ).all()
    items = db.session.execute(
        text("SELECT id, unit FROM item WHERE organisation_id = :o ORDER BY id"),
        {"o": organisation.id},
    ).all()
    return World(
        org_id=organisation.id,
        site_ids=[row.id for row in sites],
        site_kinds=[row.kind for row in sites],
        item_ids=[row.id for row in items],
        item_units=[row.unit for row in items],
        user_ids=[
            user_id for user_id, role in zip(user_ids, ROLES, strict=True) if role != "donor"
        ],
    )


def ledger_mismatches(url: str) -> int:
    """Return how many levels of a database disagree with their movements (after writes)."""
    from logistics.extensions import db
    from logistics.services import stock

    app = make_app(url)
    with app.app_context():
        mismatches = len(stock.check_ledger())
        db.session.remove()
        db.engine.dispose()
    return mismatches


def member_email(role: str) -> str:
    """Return the e-mail address of the generated member with this role."""
    return f"{role}@{ORG_SLUG}.example.org"


def simulate(
    world: World, movements: int, end: datetime, balances: list[int]
) -> Iterator[tuple[Any, ...]]:
    """Yield movement rows in time order, keeping balances (one per site × item) at or above 0.

    The first rows are an opening stocktake of every (site, item) pair, so 10,000 movements
    already give every level a row; after it, outgoing movements always leave one unit
    behind, so every size of ledger has the same 10,000 non-zero levels to show.
    Times are naive UTC, as the database stores them.
    """
    rng = random.Random(SEED)
    rnd = rng.random  # random.randint is slow; a million rows need several draws each

    def pick(choices: Sequence[Any]) -> Any:
        return choices[int(rnd() * len(choices))]

    def between(low: int, high: int) -> int:
        return low + int(rnd() * (high - low + 1))

    n_items = len(world.item_ids)
    sites = range(len(world.site_ids))
    holding = [s for s in sites if world.site_kinds[s] in ("warehouse", "kitchen")]
    kitchens = [s for s in sites if world.site_kinds[s] == "kitchen"]
    points = [s for s in sites if world.site_kinds[s] == "distribution_point"]
    bulk = [unit in ("kg", "litre", "meal") for unit in world.item_units]
    start = (end - timedelta(days=365 * YEARS)).replace(tzinfo=None)
    step = (365 * YEARS * 86_400) / max(movements, 1)
    org, users, site_ids, item_ids = world.org_id, world.user_ids, world.site_ids, world.item_ids

    def row(slot: int, quantity: int, kind: str, when: datetime, source: str, note: str,
            group: str | None) -> tuple[Any, ...]:  # fmt: skip
        balances[slot] += quantity
        recorded = when + timedelta(seconds=rnd() * 5400)
        return (org, site_ids[slot // n_items], item_ids[slot % n_items], quantity, kind, when,
                recorded, pick(users), source, note, group)  # fmt: skip

    pairs = list(range(len(balances)))
    rng.shuffle(pairs)
    written = 0
    for slot in pairs[:movements]:
        quantity = between(20, 400) if bulk[slot % n_items] else between(5, 150)
        yield row(slot, quantity, "adjustment", start, "", OPENING_NOTE, None)
        written += 1

    kinds = list(KIND_WEIGHTS)
    cumulative = list(itertools.accumulate(KIND_WEIGHTS.values()))
    total_weight = cumulative[-1]
    while written < movements:
        when = start + timedelta(seconds=step * (written + rnd()))
        kind = kinds[bisect.bisect_right(cumulative, rnd() * total_weight)]
        item = int(rnd() * n_items)
        if kind == "transfer" and written + 2 > movements:
            kind = "donation"
        if kind in ("donation", "purchase"):
            site = pick(kitchens) if rnd() < 0.1 else pick(holding)
            quantity = between(5, 120)
            source = pick(DONORS if kind == "donation" else SUPPLIERS)
            yield row(site * n_items + item, quantity, kind, when, source, "", None)
            written += 1
        elif kind == "transfer":
            origin = pick(holding)
            target = pick(points) if rnd() < 0.8 else pick(holding)
            have = balances[origin * n_items + item]
            if target == origin or have < 2:
                continue
            quantity = between(1, min(have - 1, 150))
            group = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            note = "Stock for the evening distribution" if target in points else "Rebalancing"
            yield row(origin * n_items + item, -quantity, "transfer_out", when, "", note, group)
            yield row(target * n_items + item, quantity, "transfer_in", when, "", note, group)
            written += 2
        elif kind == "distribution":
            slot = (pick(points) if rnd() < 0.7 else pick(holding)) * n_items + item
            if balances[slot] < 2:
                continue
            quantity = between(1, min(balances[slot] - 1, 80))
            yield row(slot, -quantity, "distribution", when, "", "", None)
            written += 1
        elif kind == "loss":
            slot = (pick(points) if rnd() < 0.5 else pick(holding)) * n_items + item
            if balances[slot] < 2:
                continue
            quantity = between(1, min(balances[slot] - 1, 30))
            yield row(slot, -quantity, "loss", when, "", pick(LOSS_NOTES), None)
            written += 1
        else:
            slot = int(rnd() * len(balances))
            delta = pick((-3, -2, -1, 1, 2, 3))
            if balances[slot] + delta < 1:
                delta = -delta
            yield row(slot, delta, "adjustment", when, "", STOCKTAKE_NOTE, None)
            written += 1


def simulate_recent(
    world: World, rows: Iterator[tuple[Any, ...]], since: datetime
) -> Iterator[tuple[Any, ...]]:
    """Yield an opening stocktake at `since`, then the simulated rows from `since` on.

    The rows before `since` are summed per (site, item) instead of written: the stocktake
    gives each level that balance, so the final levels and every movement after `since`
    (times, quantities, transfer groups) are the full ledger's. Both legs of a transfer share
    one time, so none is cut in two.
    """
    cutoff = since.replace(tzinfo=None)
    opening: dict[tuple[int, int], int] = {}
    rows = iter(rows)
    for values in rows:
        if values[5] < cutoff:
            key = (values[1], values[2])
            opening[key] = opening.get(key, 0) + values[3]
            continue
        recorded = cutoff + timedelta(minutes=30)
        for (site_id, item_id), quantity in sorted(opening.items()):
            if quantity:
                yield (world.org_id, site_id, item_id, quantity, "adjustment", cutoff, recorded,
                       world.user_ids[0], "", OPENING_NOTE, None)  # fmt: skip
        yield values
        break
    yield from rows


def _write_movements(
    world: World, movements: int, recent_days: int | None = None
) -> tuple[list[int], Counter[str]]:
    """Write the simulated movements in bulk; return the final balances and kind counts."""
    from logistics.extensions import db

    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    balances = [0] * (len(world.site_ids) * len(world.item_ids))
    rows = simulate(world, movements, end, balances)
    if recent_days is not None:
        rows = simulate_recent(world, rows, end - timedelta(days=recent_days))
    kinds: Counter[str] = Counter()
    if db.engine.dialect.name == "postgresql":
        _copy_postgres(rows, kinds)
    else:
        _insert_chunks(rows, kinds)
    return balances, kinds


def _insert_chunks(rows: Iterator[tuple[Any, ...]], kinds: Counter[str]) -> None:
    """Insert rows with DBAPI executemany, CHUNK at a time, in one transaction.

    SQLAlchemy's per-row bind processing would double the load time, so times are turned
    into SQLite's stored text here, after checking that it is what the model itself writes.
    """
    from logistics.extensions import db

    stamp = _sqlite_timestamp_writer()
    columns = ", ".join(MOVEMENT_COLUMNS)
    marks = ", ".join("?" for _ in MOVEMENT_COLUMNS)
    statement = f"INSERT INTO stock_movement ({columns}) VALUES ({marks})"
    with db.engine.begin() as connection:
        # A bigger page cache keeps the index B-trees in memory during the load.
        connection.exec_driver_sql("PRAGMA cache_size = -262144")
        chunk: list[tuple[Any, ...]] = []
        for values in rows:
            kinds[values[4]] += 1
            chunk.append(values[:5] + (stamp(values[5]), stamp(values[6])) + values[7:])
            if len(chunk) == CHUNK:
                connection.exec_driver_sql(statement, chunk)
                chunk = []
        if chunk:
            connection.exec_driver_sql(statement, chunk)


def _sqlite_timestamp_writer() -> Any:
    """Return a fast naive-UTC-datetime-to-text function equal to the model's bind processor."""
    from sqlalchemy.dialects import sqlite

    from logistics.models import StockMovement

    dialect = sqlite.dialect()
    column_type = StockMovement.__table__.c.occurred_at.type
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)

    def stamp(value: datetime) -> str:
        return value.isoformat(" ", "microseconds")

    for sample in (datetime(2021, 12, 26, 7, 5, 3), datetime(2024, 2, 29, 23, 59, 59, 123456)):
        if processor(sample.replace(tzinfo=UTC)) != stamp(sample):
            raise AssertionError("SQLite stores times differently; fix _sqlite_timestamp_writer")
    return stamp


def _copy_postgres(rows: Iterator[tuple[Any, ...]], kinds: Counter[str]) -> None:
    """Stream rows into PostgreSQL with COPY (times are naive UTC, as the model stores them)."""
    from logistics.extensions import db

    raw = db.engine.raw_connection()
    try:
        connection = raw.driver_connection
        columns = ", ".join(MOVEMENT_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY stock_movement ({columns}) FROM STDIN") as copy,
        ):
            for values in rows:
                kinds[values[4]] += 1
                copy.write_row(values)
        connection.commit()
    finally:
        raw.close()


def _write_levels(world: World, balances: list[int]) -> None:
    """Write one stock_level row per (site, item) that ever moved."""
    from logistics.extensions import db
    from logistics.models import StockLevel

    n_items = len(world.item_ids)
    levels = [
        {
            "organisation_id": world.org_id,
            "site_id": world.site_ids[slot // n_items],
            "item_id": world.item_ids[slot % n_items],
            "quantity": quantity,
        }
        for slot, quantity in enumerate(balances)
        if quantity > 0
    ]
    if min(balances) < 0:
        raise AssertionError("a simulated balance went negative")
    with db.engine.begin() as connection:
        for start in range(0, len(levels), CHUNK):
            connection.execute(insert(StockLevel), levels[start : start + CHUNK])


def _write_lots(world: World) -> int:
    """Replay the dated items' movements as the ledger would keep their lots; write them.

    Receipts come with a best-before date one to four years on (tins, dry food), transfers
    carry the lots their first leg took, and every outgoing movement takes the earliest dates
    first, the undated opening stock last. Returns the number of lots held at the end.
    """
    from logistics.extensions import db
    from logistics.models import Item, LotDraw, StockLot, StockMovement
    from logistics.services.lots import plan_take

    rng = random.Random(SEED + 1)
    dated = select(Item.id).where(Item.organisation_id == world.org_id, Item.dated.is_(True))
    rows = db.session.execute(
        select(
            StockMovement.id,
            StockMovement.site_id,
            StockMovement.item_id,
            StockMovement.quantity,
            StockMovement.kind,
            StockMovement.occurred_at,
            StockMovement.transfer_group,
        )
        .where(StockMovement.item_id.in_(dated))
        .order_by(StockMovement.occurred_at, StockMovement.id)
    )
    held: dict[tuple[int, int], dict[date, int]] = defaultdict(dict)
    carried: dict[str, list[tuple[date, int]]] = {}
    draws: list[dict[str, Any]] = []
    for movement_id, site, item, quantity, kind, occurred_at, group in rows:
        lots = held[(site, item)]
        if quantity > 0:
            if kind in ("donation", "purchase"):
                shelf_days = 365 + int(rng.random() * 3 * 365)
                shares = [(occurred_at.date() + timedelta(days=shelf_days), quantity)]
            else:
                shares = carried.pop(group, []) if kind == "transfer_in" else []
            for day, share in shares:
                lots[day] = lots.get(day, 0) + share
        else:
            shares = plan_take(sorted(lots.items()), -quantity)  # as the ledger takes them
            for day, share in shares:
                lots[day] -= share
            if kind == "transfer_out":
                carried[group] = shares
            shares = [(day, -share) for day, share in shares]
        draws.extend(
            {"organisation_id": world.org_id, "movement_id": movement_id, "site_id": site,
             "item_id": item, "best_before": day, "quantity": share}
            for day, share in shares
        )  # fmt: skip
    stock_lots = [
        {"organisation_id": world.org_id, "site_id": site, "item_id": item,
         "best_before": day, "quantity": quantity}
        for (site, item), lots in held.items()
        for day, quantity in lots.items()
        if quantity
    ]  # fmt: skip
    for table, values in ((LotDraw, draws), (StockLot, stock_lots)):
        for start in range(0, len(values), CHUNK):
            db.session.execute(insert(table), values[start : start + CHUNK])
    db.session.commit()
    return len(stock_lots)


def _analyze_postgres() -> None:
    """Give the planner statistics, as autovacuum would soon after a bulk load."""
    from logistics.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def main() -> None:
    """Generate one database from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--url", help="database URL (default: the cached SQLite file)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--recent-days", type=int, help="only the last days, after an opening")
    args = parser.parse_args()
    if args.url:
        generate(args.url, args.movements, recent_days=args.recent_days)
    else:
        ensure_sqlite(args.movements, regenerate=args.regenerate, recent_days=args.recent_days)


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
