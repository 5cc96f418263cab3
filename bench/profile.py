"""Explain a missed target: where the time of a write or of levels_as_of goes.

`python -m bench.profile writes` times each step of ledger.record on a copy of the 10k ledger;
`python -m bench.profile as-of` shows how much of levels_as_of is garbage collection;
add `--cprofile` for the 25 most expensive functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .generate import ORG_SLUG, ensure_sqlite, make_app, member_email
from .writes import _copy_sqlite

# The steps of services.ledger.record, in the order they run.
LEDGER_STEPS = ("_check_owner", "_move_level", "_insert_movement")


def profile_writes(count: int, use_cprofile: bool) -> None:
    """Record donations one per transaction and print the cost of each step."""
    from sqlalchemy import select

    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import Item
    from logistics.services import accounts, ledger

    copy = Path(tempfile.mkdtemp(prefix="logistics-bench-profile-")) / "ledger.sqlite3"
    _copy_sqlite(str(ensure_sqlite(10_000)), copy)
    app = make_app(f"sqlite:///{copy}")
    spent: dict[str, list[float]] = defaultdict(list)
    with app.app_context():
        org_id = accounts.organisation_by_slug(ORG_SLUG).id
        user = accounts.user_by_email(member_email("warehouse"))
        assert user is not None
        user_id = user.id
        dated = set(db.session.scalars(select(Item.id).where(Item.dated.is_(True))))
        db.session.rollback()
        rng = random.Random(4)

        def write() -> None:
            with _timed(spent, "receive (whole service call)"):
                item = rng.randint(1, 500)
                ledger.receive(
                    org_id,
                    user_id,
                    site_id=rng.randint(1, 7),
                    item_id=item,
                    quantity=rng.randint(1, 50),
                    best_before=date.today() + timedelta(days=400) if item in dated else None,
                )
            with _timed(spent, "db.session.commit"):
                db.session.commit()

        with write_intent(), _wrapped(ledger, LEDGER_STEPS, spent):
            for _ in range(30):
                write()
            spent.clear()
            started = time.perf_counter()
            profiler = cProfile.Profile() if use_cprofile else None
            if profiler:
                profiler.enable()
            for _ in range(count):
                write()
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - started
    print(f"{count} writes, {count / elapsed:,.0f}/s; median time per write of each step:")
    for step, samples in spent.items():
        print(f"  {step:32s} {statistics.median(samples) * 1e6:8.0f} µs  (× {len(samples)})")
    median = {step: statistics.median(samples) for step, samples in spent.items()}
    rest = median["receive (whole service call)"] - sum(median[step] for step in LEDGER_STEPS)
    label = "checks, flush of pending objects"
    print(f"  {label:32s} {rest * 1e6:8.0f} µs")
    if profiler:
        _print_profile(profiler)


def profile_as_of(repeat: int, use_cprofile: bool) -> None:
    """Time levels_as_of(30 days back) on the 1M ledger with the collector on, off, frozen."""
    from sqlalchemy import func, select

    from logistics.extensions import db
    from logistics.models import StockMovement
    from logistics.services import accounts, stock

    app = make_app(f"sqlite:///{ensure_sqlite(1_000_000)}")
    with app.app_context():
        org_id = accounts.organisation_by_slug(ORG_SLUG).id
        end = db.session.scalar(select(func.max(StockMovement.occurred_at)))
        at = end - timedelta(days=30)

        def as_of() -> None:
            stock.levels_as_of(org_id, at)
            db.session.rollback()

        as_of()
        print(f"objects tracked by the garbage collector: {len(gc.get_objects()):,}")
        for label, prepare, undo in (
            ("collector on", lambda: None, lambda: None),
            ("collector off", gc.disable, gc.enable),
            ("after gc.freeze()", _freeze, gc.unfreeze),
        ):
            prepare()
            samples = [_seconds(as_of) for _ in range(repeat)]
            undo()
            print(
                f"  {label:20s} median {statistics.median(samples) * 1000:6.1f} ms, "
                f"best {min(samples) * 1000:6.1f} ms"
            )
        if use_cprofile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(repeat):
                as_of()
            profiler.disable()
            _print_profile(profiler)


def _freeze() -> None:
    gc.collect()
    gc.freeze()


def _seconds(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextmanager
def _timed(spent: dict[str, list[float]], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        spent[name].append(time.perf_counter() - started)


@contextmanager
def _wrapped(module: Any, names: tuple[str, ...], spent: dict[str, list[float]]) -> Iterator[None]:
    """Time calls to module functions for the duration of the block, then put them back."""
    originals = {name: getattr(module, name) for name in names}

    def timing(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _timed(spent, name):
                return function(*args, **kwargs)

        return wrapper

    for name, function in originals.items():
        setattr(module, name, timing(name, function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(module, name, function)


def _print_profile(profiler: cProfile.Profile) -> None:
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(25)


def main() -> None:
    """Profile one benchmark from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("what", choices=("writes", "as-of"))
    parser.add_argument("--count", type=int, default=500, help="writes to profile")
    parser.add_argument("--repeat", type=int, default=15, help="as-of repetitions")
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    if args.what == "writes":
        profile_writes(args.count, args.cprofile)
    else:
        profile_as_of(args.repeat, args.cprofile)


if __name__ == "__main__":
    main()
