"""Benchmarks: figures printed beside a floor measured in the same run (see BENCHMARKS.md).

Shared here: timing by median of repetitions, the bare-Flask floor, the result table and a
description of the machine the figures came from.
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from flask import Flask


@dataclass
class Result:
    """One line of the table: a figure, its floor, and the target it is held to."""

    number: str
    name: str
    figure: float
    # "s" for durations (shown in ms), "/s" for rates, "MB" for memory, "KB" for sizes,
    # "n" for counts, "x" for ratios
    unit: str
    floor: float | None = None
    floor_name: str = ""
    target: str = ""
    passed: bool | None = None
    best: float | None = None  # the fastest repetition: how the figure looks without noise

    @property
    def ratio(self) -> float | None:
        """Return the figure's cost in floors (for a rate: how many times slower)."""
        if self.floor is None or not self.figure:
            return None
        return self.floor / self.figure if self.unit == "/s" else self.figure / self.floor

    def as_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON-ready data."""
        return asdict(self) | {"ratio": self.ratio}


def rate_target(share: float) -> str:
    """Return a least share of a floor's rate as the table's cost-in-floors target."""
    return f"≤ {1 / share:g} (rate ≥ {share} × floor)"


def timed(action: Callable[[], Any]) -> float:
    """Return how long one call of the action took, in seconds."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Timing:
    """Median and fastest of the timed repetitions, in seconds."""

    median: float
    best: float


def interleaved(
    actions: dict[str, Callable[[], Any]], repeat: int, warmup: int = 2
) -> dict[str, Timing]:
    """Time several actions in turn, round after round, so drift hits them alike.

    The order is shuffled each round: a garbage collection or a neighbour's burst of work
    that lands at the same point of every round must not always fall on the same action.
    """
    for _ in range(warmup):
        for action in actions.values():
            action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    order = list(actions)
    shuffler = random.Random(0)
    for _ in range(repeat):
        shuffler.shuffle(order)
        for name in order:
            samples[name].append(timed(actions[name]))
    return {name: Timing(statistics.median(xs), min(xs)) for name, xs in samples.items()}


def bare_flask_client() -> Any:
    """Return a test client of a plain Flask app with one trivial route: the request floor."""
    app = Flask("bench_floor")

    @app.get("/")
    def index() -> str:
        return "ok"

    return app.test_client()


def bare_flask_request(client: Any) -> Callable[[], None]:
    """Return an action doing one bare request through the test client."""

    def action() -> None:
        response = client.get("/")
        if response.status_code != 200:
            raise AssertionError(f"floor answered {response.status_code}")

    return action


def fmt(value: float | None, unit: str) -> str:
    """Format a figure for the table."""
    if value is None:
        return "-"
    if unit == "s":
        if value >= 10:
            return f"{value:,.1f} s"
        return f"{value * 1000:.2f} ms" if value < 0.1 else f"{value * 1000:.0f} ms"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "n":
        return f"{value:,.0f}"
    if unit == "KB":
        return f"{value:,.1f} KB"
    return f"{value:.2f}x"


def table(results: list[Result]) -> str:
    """Render results as a Markdown table (readable in a terminal too)."""
    header = ("#", "benchmark", "median", "best", "floor (median)", "x floor", "target", "result")
    rows = [header]
    for r in results:
        verdict = "" if r.passed is None else ("PASS" if r.passed else "MISS")
        floor = f"{fmt(r.floor, r.unit)} ({r.floor_name})" if r.floor is not None else "-"
        ratio = f"{r.ratio:,.1f}" if r.ratio is not None else "-"
        best = fmt(r.best, r.unit) if r.best is not None else "-"
        rows.append(
            (r.number, r.name, fmt(r.figure, r.unit), best, floor, ratio, r.target, verdict)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """Describe the machine and software the figures come from."""
    info = {
        "cpus": str(os.cpu_count()),
        "cpu": _command("lscpu", pattern="Model name").split(":", 1)[-1].strip(),
        "memory": _memory(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
    }
    return info


def _command(*args: str, pattern: str = "") -> str:
    try:
        output = subprocess.run(args, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    lines = [line for line in output.splitlines() if pattern in line]
    return lines[0] if lines else "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kib = int(meminfo.readline().split()[1])
    except (OSError, ValueError, IndexError):
        return "unknown"
    return f"{kib / 1024 / 1024:.1f} GiB"
