"""Generate ten years of a busy coast's incidents: 15,000 of them, for the evidence report.

`python -m bench.incidents` builds (or reuses) the cached SQLite file under bench/data/,
named like the ledgers: incidents-<count>-v<version>-<schema hash>-seed<seed>.sqlite3.

The organisation, members, sites and items are the ledger generator's (bench/generate.py).
Each incident has the fields observers record (forces like "4 gendarmerie vans, 1 PAF van",
bailiff, interpreter, legal basis, shelter offered, people and shelters affected, witnesses, a
200–400 character description), 1–4 lines of destroyed or seized items, and, for some, evidence
metadata rows and amendments added after locking. Lines taken from our stock have their loss
movement, and an opening stocktake covers them, so check_ledger() still holds. Rows go in with
SQLAlchemy Core executemany, in one transaction.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from .generate import DATA_DIR, SEED, _build_world, make_app, schema_fingerprint

# Bump when the generated incidents change; cached files carry it in their name.
INCIDENTS_VERSION = 1
COUNT = 15_000
YEARS = 10
LOCK_AFTER = timedelta(days=7)
CHUNK = 5_000
ZONE = ZoneInfo("Europe/Paris")  # the generated organisation's; observers write local times

# Share of incidents per area; evictions every ~48 h in Calais, weekly in Grande-Synthe.
AREAS = {"Calais": 60, "Grande-Synthe": 25, "Paris": 11, "Brussels": 4}
KINDS = {
    "eviction": 58,
    "police_destruction": 14,
    "seizure": 10,
    "gas_contamination": 5,
    "weather": 4,
    "theft": 3,
    "spoilage": 2,
    "fire": 2,
    "other": 2,
}
FORCE_UNITS = (
    ("police car", "police cars", 1, 3),
    ("gendarmerie van", "gendarmerie vans", 2, 8),
    ("CRS van", "CRS vans", 2, 10),
    ("PAF van", "PAF vans", 1, 2),
    ("cleaning-company vehicle", "cleaning-company vehicles", 1, 3),
    ("cleaning-company lorry", "cleaning-company lorries", 1, 2),
    ("bailiff's car", "bailiff's cars", 1, 1),
    ("tractor", "tractors", 1, 1),
    ("bus", "buses", 1, 4),
)
OPENINGS = (
    "Vehicles arrived at {time} and a cordon was set up at the road.",
    "Forces arrived at {time}, before the morning distribution.",
    "Operation started at {time} without warning; people were woken in their tents.",
    "At {time} a cordon closed the path to the camp; volunteers were kept at the road.",
)
MIDDLES = (
    "Cleaning-company staff removed tents and tarpaulins and threw them in the skip.",
    "Tents were slashed with knives; sleeping bags and blankets were taken away in a lorry.",
    "People could keep only what they carried; the rest was destroyed on site.",
    "CS gas was used near the queue; blankets on the tables were contaminated.",
    "Shelters marked with our logo were seized; no list of seized property was given.",
    "A tractor flattened what was left of the shelters by the lake.",
    "Belongings, phones and documents were mixed with the rubbish and taken away.",
    "Buses to reception centres were offered; most people stayed nearby.",
)
CLOSINGS = (
    "Observers filmed from the road.",
    "Forces left about two hours later; people returned to the site.",
    "Our team handed out replacement blankets in the evening.",
    "No eviction order was shown when asked.",
    "The bailiff read the order but gave no copy.",
    "Two people were arrested and released the same day.",
)
WITNESSES = (
    "2 volunteers of the group, from the road",
    "3 observers from a legal-observation team",
    "1 volunteer on the morning round",
    "2 observers, with photos and video",
    "A journalist and 2 volunteers",
)
AMENDMENTS = (
    "The eviction order was published by the prefecture two days later.",
    "Observers' video handed to the legal team; two more slashed tents found later.",
    "Corrected count after talking to people at the evening distribution: more shelters lost.",
    "A complaint was filed with the Defender of Rights; reference kept by the coordinator.",
    "The cleaning company confirmed in writing that the items were taken to the tip.",
)
# Items destroyed at evictions: (name, size) in the generator's catalogue.
LOST_ITEMS = (
    ("Tent", "1-person"),
    ("Tent", "2-person"),
    ("Tent", "3-person"),
    ("Tarpaulin", "3x4 m"),
    ("Tarpaulin", "4x6 m"),
    ("Sleeping bag", "3-season"),
    ("Sleeping bag", "winter"),
    ("Blanket", "single"),
    ("Blanket", "fleece"),
    ("Sleeping mat", "foam"),
    ("Ground sheet", ""),
    ("Backpack", ""),
    ("Jacket", "L"),
    ("Shoes", "42"),
    ("Water container", "20 L"),
    ("Phone charger", "USB-C"),
)
SHELTER_NAMES = ("Tent", "Tarpaulin", "Ground sheet")
MEDIA = (
    ("IMG_{stamp}.jpg", "image/jpeg", 800_000, 6_000_000),
    ("VID_{stamp}.mp4", "video/mp4", 5_000_000, 90_000_000),
    ("timeline-{day}.txt", "text/plain", 300, 3_000),
    ("observer-report-{day}.pdf", "application/pdf", 40_000, 900_000),
)


@dataclass
class IncidentData:
    """What a generation produced and how long it took."""

    incidents: int
    lines: int
    amendments: int
    evidence: int
    loss_movements: int
    seconds: float
    mismatches: int
    first: str
    last: str


def cache_path(count: int = COUNT) -> Path:
    """Return where the incidents file for this count, version and schema is cached."""
    key = f"v{INCIDENTS_VERSION}-{schema_fingerprint()}-seed{SEED}"
    return DATA_DIR / f"incidents-{count}-{key}.sqlite3"


def ensure_incidents(
    count: int = COUNT, *, regenerate: bool = False, log: Any = print
) -> tuple[Path, dict[str, Any]]:
    """Return the cached incidents file and its summary, generating it only when missing."""
    path = cache_path(count)
    summary = Path(f"{path}.json")
    if path.exists() and summary.exists() and not regenerate:
        log(f"Using cached {path.relative_to(DATA_DIR.parent.parent)}")
        return path, json.loads(summary.read_text())
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for stale in DATA_DIR.glob(f"incidents-{count}-*.sqlite3*"):
        stale.unlink()
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    data = generate(f"sqlite:///{partial}", count, log=log)
    if data.mismatches:
        raise SystemExit(f"check_ledger found {data.mismatches} mismatches; not caching")
    partial.rename(path)
    values = data.__dict__ | {"seconds": round(data.seconds, 1)}
    summary.write_text(json.dumps(values))
    return path, values


def generate(url: str, count: int, *, log: Any = print) -> IncidentData:
    """Create the schema on an empty database and fill it with count incidents."""
    from logistics.extensions import db
    from logistics.services import stock

    app = make_app(url)
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        world = _build_world()
        db.session.commit()
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        rows = _simulate(world, count, end)
        with db.engine.begin() as connection:
            for model, values in rows.tables():
                for start in range(0, len(values), CHUNK):
                    connection.execute(insert(model), values[start : start + CHUNK])
            connection.exec_driver_sql("ANALYZE")
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        seconds = time.perf_counter() - started
        mismatches = stock.check_ledger()
        db.session.remove()
        db.engine.dispose()
    data = IncidentData(
        incidents=len(rows.incidents),
        lines=len(rows.lines),
        amendments=len(rows.amendments),
        evidence=len(rows.evidence),
        loss_movements=len(rows.losses),
        seconds=seconds,
        mismatches=len(mismatches),
        first=rows.incidents[0]["occurred_at"].isoformat(),
        last=rows.incidents[-1]["occurred_at"].isoformat(),
    )
    log(
        f"Generated {data.incidents:,} incidents, {data.lines:,} lines, "
        f"{data.amendments:,} amendments, {data.evidence:,} evidence rows and "
        f"{data.loss_movements:,} loss movements in {seconds:.1f} s; "
        f"check_ledger(): {data.mismatches} mismatches"
    )
    return data


@dataclass
class Rows:
    """The rows to insert, table by table, parents first."""

    incidents: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    amendments: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    losses: list[dict[str, Any]]
    openings: list[dict[str, Any]]
    levels: list[dict[str, Any]]

    def tables(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        from logistics.models import (
            Evidence,
            Incident,
            IncidentAmendment,
            IncidentLine,
            StockLevel,
            StockMovement,
        )

        return [
            (Incident, self.incidents),
            (IncidentLine, self.lines),
            (IncidentAmendment, self.amendments),
            (Evidence, self.evidence),
            (StockMovement, self.openings + self.losses),
            (StockLevel, self.levels),
        ]


def _simulate(world: Any, count: int, end: datetime) -> Rows:
    """Return count incidents over ten years ending at end, with their lines and records."""
    from sqlalchemy import select

    from logistics.extensions import db
    from logistics.models import Item, Site, User

    rng = random.Random(SEED + 7)
    org = world.org_id
    sites = db.session.execute(
        select(Site.id, Site.kind, Site.area, Site.name).where(Site.organisation_id == org)
    ).all()
    points = _by_area([s for s in sites if s.kind == "distribution_point"])
    stores = _by_area([s for s in sites if s.kind in ("warehouse", "kitchen")])
    items = {
        (row.name, row.size): row.id
        for row in db.session.execute(select(Item.id, Item.name, Item.size))
    }
    lost = [(items[key], key[0] in SHELTER_NAMES) for key in LOST_ITEMS]
    users = dict(db.session.execute(select(User.email, User.id)).all())
    coordinator = users["coordinator@bench.example.org"]
    admin = users["admin@bench.example.org"]
    start = end - timedelta(days=365 * YEARS)
    span = (end - start).total_seconds()
    moments = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(count))
    rows = Rows([], [], [], [], [], [], [])
    taken: dict[tuple[int, int], int] = defaultdict(int)
    for number, occurred in enumerate(moments, start=1):
        area = _weighted(rng, AREAS)
        kind = _weighted(rng, KINDS)
        if kind in ("eviction", "police_destruction"):  # early-morning operations
            occurred = occurred.replace(hour=rng.randint(4, 8), minute=rng.choice((0, 15, 30, 45)))
        site = rng.choice(points[area]) if rng.random() < 0.9 else None
        incident_lines = _lines(rng, number, lost, stores[area], kind, area, occurred)
        shelters = sum(line["quantity"] for line, shelter in incident_lines if shelter)
        locked = occurred + LOCK_AFTER + timedelta(hours=rng.randint(0, 72))
        rows.incidents.append(
            {
                "id": number,
                "organisation_id": org,
                "occurred_at": occurred,
                "ended_at": occurred + timedelta(minutes=rng.choice((30, 45, 70, 90, 120, 180))),
                "kind": kind,
                "area": area,
                "site_id": site.id if site else None,
                "forces_present": _forces(rng),
                "bailiff_present": rng.choice(("yes", "yes", "no", "unknown")),
                "interpreter_present": rng.choice(("no", "no", "no", "yes", "unknown")),
                "legal_basis_shown": rng.choice(("no", "no", "unknown", "yes")),
                "shelter_offered": rng.choice(("no", "no", "no", "yes")),
                "people_affected": rng.randint(10, 400),
                "shelters_affected": max(shelters, rng.randint(0, 80)),
                "witnesses": rng.choice(WITNESSES),
                "description": _description(rng, occurred),
                "created_at": occurred + timedelta(hours=rng.randint(1, 12)),
                "created_by_id": coordinator,
                "locked_at": locked if locked < end else None,
                "locked_by_id": coordinator if locked < end else None,
            }
        )
        for line, _shelter in incident_lines:
            rows.lines.append(line)
            if line["origin"] == "from_stock":
                taken[(line["site_id"], line["item_id"])] += line["quantity"]
                rows.losses.append(_loss(org, coordinator, line, kind, area, occurred))
        if locked < end and rng.random() < 0.08:
            for extra in range(rng.randint(1, 2)):
                rows.amendments.append(
                    {
                        "incident_id": number,
                        "created_at": locked + timedelta(days=1 + 3 * extra),
                        "created_by_id": rng.choice((coordinator, admin)),
                        "text": rng.choice(AMENDMENTS),
                    }
                )
        if rng.random() < 0.35:
            rows.evidence += _evidence(rng, number, occurred, coordinator)
    _opening_stock(rows, org, coordinator, taken, start - timedelta(days=1), rng)
    return rows


def _by_area(sites: Sequence[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for site in sites:
        grouped[site.area].append(site)
    return grouped


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _forces(rng: random.Random) -> str:
    """Return forces present as observers write them: "4 gendarmerie vans, 1 PAF van"."""
    parts = []
    for one, many, low, high in rng.sample(FORCE_UNITS, rng.randint(1, 4)):
        n = rng.randint(low, high)
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def _description(rng: random.Random, occurred: datetime) -> str:
    """Return a 200–400 character account: how it started, what was done, what followed."""
    text = rng.choice(OPENINGS).format(time=f"{occurred.astimezone(ZONE):%H:%M}")
    for sentence in rng.sample(MIDDLES, len(MIDDLES)) + list(CLOSINGS):
        if len(text) >= 200:
            break
        if len(text) + 1 + len(sentence) <= 400:
            text += " " + sentence
    return text


def _lines(
    rng: random.Random,
    incident_id: int,
    lost: list[tuple[int, bool]],
    stores: list[Any],
    kind: str,
    area: str,
    occurred: datetime,
) -> list[tuple[dict[str, Any], bool]]:
    """Return 1–4 lines of destroyed or seized items; about one in five was still our stock."""
    result = []
    for item_id, shelter in rng.sample(lost, rng.randint(1, 4)):
        from_stock = rng.random() < 0.2
        result.append(
            (
                {
                    "incident_id": incident_id,
                    "item_id": item_id,
                    "quantity": rng.randint(1, 40 if shelter else 60),
                    "origin": "from_stock" if from_stock else "after_distribution",
                    "action": "contaminated"
                    if kind == "gas_contamination"
                    else rng.choice(("destroyed", "seized", "slashed")),
                    "marked_property": shelter and rng.random() < 0.5,
                    "site_id": rng.choice(stores).id if from_stock else None,
                    "distribution_id": None,
                },
                shelter,
            )
        )
    return result


def _loss(
    org: int, user: int, line: dict[str, Any], kind: str, area: str, occurred: datetime
) -> dict[str, Any]:
    """Return the loss movement a from-stock line writes, as services.incidents notes it."""
    return {
        "organisation_id": org,
        "site_id": line["site_id"],
        "item_id": line["item_id"],
        "quantity": -line["quantity"],
        "kind": "loss",
        "occurred_at": occurred,
        "recorded_at": occurred + timedelta(hours=2),
        "recorded_by_id": user,
        "source": "",
        "note": f"{line['action'].capitalize()} ({kind.replace('_', ' ')}, {area})",
        "incident_id": line["incident_id"],
    }


def _evidence(
    rng: random.Random, incident_id: int, occurred: datetime, user: int
) -> list[dict[str, Any]]:
    """Return 1–4 evidence metadata rows (files stored by hash, not generated here)."""
    rows = []
    for index in range(rng.randint(1, 4)):
        name, media_type, low, high = rng.choice(MEDIA)
        captured = occurred + timedelta(minutes=rng.randint(0, 120))
        digest = hashlib.sha256(f"{incident_id}:{index}".encode()).hexdigest()
        rows.append(
            {
                "incident_id": incident_id,
                "file_name": name.format(stamp=f"{captured:%Y%m%d_%H%M%S}", day=f"{captured:%F}"),
                "media_type": media_type,
                "size_bytes": rng.randint(low, high),
                "sha256": digest,
                "captured_at": captured if media_type != "application/pdf" else None,
                "uploaded_at": captured + timedelta(hours=rng.randint(1, 30)),
                "uploaded_by_id": user,
            }
        )
    return rows


def _opening_stock(
    rows: Rows,
    org: int,
    user: int,
    taken: dict[tuple[int, int], int],
    when: datetime,
    rng: random.Random,
) -> None:
    """Give each (site, item) that lost stock an opening count covering it, and its level."""
    for (site_id, item_id), lost in sorted(taken.items()):
        left = rng.randint(5, 60)
        rows.openings.append(
            {
                "organisation_id": org,
                "site_id": site_id,
                "item_id": item_id,
                "quantity": lost + left,
                "kind": "adjustment",
                "occurred_at": when,
                "recorded_at": when,
                "recorded_by_id": user,
                "source": "",
                "note": "Opening stocktake",
                "incident_id": None,
            }
        )
        rows.levels.append(
            {"organisation_id": org, "site_id": site_id, "item_id": item_id, "quantity": left}
        )


def main() -> None:
    """Generate (or reuse) the cached incidents file from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    path, summary = ensure_incidents(args.count, regenerate=args.regenerate)
    print(path)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
