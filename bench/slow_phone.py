"""Benchmark 12: the federation's overview, needs and agenda on a phone over a slow connection.

The HTTP benchmark's server (gunicorn, 2 workers, a copy of the 1M ledger with today's plan)
is opened by Debian's Chromium through Playwright, as a 360×740 phone whose connection Chromium
itself slows (DevTools Network.emulateNetworkConditions: 250 kbit/s down and up, 300 ms round
trip). The coordinator logs in through the form, then opens each page as a returning volunteer
would, without the service worker (its fetches would escape the slowed connection): the first
visit fetches the page's stylesheet, script and icons; each figure is the median of the visits
after it, from the navigation's start to the load event (what the phone
shows complete), read from the page's own Navigation Timing entry. Target: under 1 s each.

Floor: `/login` opened the same way (the app's cheapest page, and the connection's own cost).
`python -m bench.slow_phone` runs it alone; `--visits N` (default 5).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from . import Result
from .generate import PASSWORD, ensure_sqlite, member_email
from .http import prepare, serve

CHROMIUM = Path(os.environ.get("LOGISTICS_CHROMIUM", "/usr/bin/chromium"))
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
# 250 kbit/s each way and 300 ms between a request and its first byte: a weak 3G signal.
NETWORK = {
    "offline": False,
    "latency": 300,
    "downloadThroughput": 250_000 / 8,
    "uploadThroughput": 250_000 / 8,
}
PAGES = (("Stock overview", "/"), ("Needs", "/needs"), ("Agenda", "/distributions"))
ROLE = "coordinator"
VISITS = 5
TARGET_MS = 1000
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def run(visits: int = VISITS, log: Any = print) -> list[Result]:
    """Serve the federation, open each page on a slowed phone, return the load times."""
    from playwright.sync_api import sync_playwright

    from .writes import _copy_sqlite

    if not CHROMIUM.exists():
        log(f"slow phone: {CHROMIUM} missing; skipped")
        return []
    scratch = Path(tempfile.mkdtemp(prefix="logistics-bench-phone-"))
    try:
        database = scratch / "ledger.sqlite3"
        _copy_sqlite(str(ensure_sqlite(1_000_000, log=log)), database)
        prepare(f"sqlite:///{database}")
        with serve(f"sqlite:///{database}", scratch) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            try:
                timings = _visit_all(browser, f"http://{base}", visits)
            finally:
                browser.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    floor = statistics.median(timings["/login"])
    results = []
    for label, path in PAGES:
        median = statistics.median(timings[path])
        log(
            f"slow phone: {label} {path}: median {median:.0f} ms, best {min(timings[path]):.0f} ms"
            f" (login {floor:.0f} ms)"
        )
        results.append(
            Result(
                "12",
                f"{label} on a phone, 250 kbit/s, 300 ms round trip (load event)",
                median / 1000,
                "s",
                floor=floor / 1000,
                floor_name="/login the same way",
                target="< 1 s",
                passed=median < TARGET_MS,
                best=min(timings[path]) / 1000,
            )
        )
    return results


def _visit_all(browser: Any, base: str, visits: int) -> dict[str, list[float]]:
    """Log in on a slowed phone, then open each page visits + 1 times (the first warms up)."""
    # No service worker: Chromium would fetch through it, outside the slowed page's network,
    # and serve kept pages. The HTTP cache still keeps the hashed stylesheet and script.
    context = browser.new_context(base_url=base, service_workers="block", **PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", NETWORK)
        timings: dict[str, list[float]] = {"/login": []}
        for _ in range(visits + 1):
            timings["/login"].append(_load_ms(page, "/login"))
        page.fill("input[name=email]", member_email(ROLE))
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main form [type=submit]")
        for _, path in PAGES:
            timings[path] = [_load_ms(page, path) for _ in range(visits + 1)]
        return {path: times[1:] for path, times in timings.items()}
    finally:
        context.close()


def _load_ms(page: Any, path: str) -> float:
    """Open a page and return its navigation's start-to-load-event time in milliseconds."""
    response = page.goto(path, wait_until="load")
    if response is None or response.status != 200:
        raise RuntimeError(f"{path} answered {response and response.status}")
    entry = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
    timing = json.loads(entry)
    return float(timing["loadEventEnd"] - timing["startTime"])


def main() -> None:
    """Run the slow-phone benchmark alone."""
    from . import table

    parser = argparse.ArgumentParser(prog="python -m bench.slow_phone", description=__doc__)
    parser.add_argument("--visits", type=int, default=VISITS, help="timed visits per page")
    args = parser.parse_args()
    print(table(run(args.visits)))


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
