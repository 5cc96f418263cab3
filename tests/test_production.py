"""Production serving as the README describes it: gunicorn workers and a scheduler process.

Real processes on a fresh PostgreSQL database: `flask db upgrade`, then gunicorn with two
workers (both must answer) and `flask scheduler` with check-shortages every 1.2 s, sending
to a real local webhook receiver. Every process is stopped, and the database dropped, even
when the test fails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from conftest import api_token, build_world, require_postgres, scratch_postgres
from servers import free_port, webhook_server

from logistics import create_app
from logistics.config import PROJECT_ROOT
from logistics.extensions import db
from logistics.services import alerts, ledger

pytest.importorskip("gunicorn")

BIN = Path(sys.executable).parent
SECRET = "a-webhook-secret-of-some-length"
CHECK_MINUTES = 0.02  # check-shortages every 1.2 s
DEADLINE_SECONDS = 20  # for any one thing to happen; a passing run needs a few seconds


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """Create an empty PostgreSQL database for this test only; drop it afterwards."""
    require_postgres()
    with scratch_postgres("production") as url:
        yield url


def _environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Return the environment of a production process, as deploy/logistics.env sets it."""
    return os.environ | {
        "LOGISTICS_ENV": "production",
        "LOGISTICS_SECRET_KEY": secrets.token_hex(32),
        "LOGISTICS_DATABASE_URL": database_url,
        "LOGISTICS_INSTANCE_DIR": str(tmp_path / "instance"),
        "LOGISTICS_REPORTS_DIR": str(tmp_path / "reports"),
        "LOGISTICS_SCHEDULER": "off",
        "LOGISTICS_CHECK_SHORTAGES_MINUTES": str(CHECK_MINUTES),
        # The receiver listens on 127.0.0.1, which production refuses by default.
        "LOGISTICS_WEBHOOK_ALLOW_PRIVATE": "1",
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Run a process in a session of its own; stop it and all its children on the way out."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Ask the process group to stop (gunicorn's master stops its workers), then insist."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_for(what: str, check, logs: list[Path]) -> None:  # type: ignore[no-untyped-def]
    """Poll check() until it is true; fail with the processes' output after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    output = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    pytest.fail(f"gave up waiting for {what}\n{output}")


def _http(url: str, token: str = "", body: dict | None = None) -> tuple[int, dict]:
    """Send a GET (or a POST of a JSON body) to a running server; return status and JSON."""
    request = urllib.request.Request(url, method="POST" if body is not None else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def _prepare(database_url: str, tmp_path: Path, hook_url: str) -> tuple[str, dict[str, int]]:
    """Make an organisation short of blankets only, with a webhook channel; return a token."""
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "SECRET_KEY": "only-to-prepare-the-data",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WEBHOOK_ALLOW_PRIVATE": True,
        }
    )
    with app.app_context():
        world = build_world("Calais Aid", "calais-aid")
        # Every item has a minimum of 10: blankets alone stay under it.
        for key, item in world.items.items():
            quantity = 5 if key == "blanket" else 100
            ledger.receive(
                world.org_id, None, site_id=world.sites["main"], item_id=item, quantity=quantity
            )
        alerts.save_channel(world.org_id, kind="webhook", target=hook_url, secret=SECRET)
        db.session.commit()
        token = api_token(world, "warehouse")
        ids = {"site": world.sites["main"], "tent": world.items["tent"]}
        db.session.remove()
        db.engine.dispose()
    return token, ids


def test_two_gunicorn_workers_and_a_scheduler_deliver_a_shortage_once(fresh_postgres, tmp_path):
    env = _environment(fresh_postgres, tmp_path)
    upgrade = subprocess.run(
        [str(BIN / "flask"), "--app", "logistics", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    access_log = tmp_path / "access.log"
    web_log, scheduler_log = tmp_path / "gunicorn.log", tmp_path / "scheduler.log"
    logs = [web_log, scheduler_log, access_log]
    with ExitStack() as stack:
        hooks, hook_url = stack.enter_context(webhook_server())
        token, ids = _prepare(fresh_postgres, tmp_path, hook_url)
        web = [
            str(BIN / "gunicorn"),
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            f"--access-logfile={access_log}",
            "--access-logformat=%(p)s %(m)s %(U)s %(s)s",
            "logistics.wsgi:app",
        ]
        stack.enter_context(_process(web, env, web_log))
        scheduler = [str(BIN / "flask"), "--app", "logistics", "scheduler"]
        stack.enter_context(_process(scheduler, env, scheduler_log))

        def answers() -> bool:
            try:
                return _http(f"{base}/api/v1/openapi.json")[0] == 200
            except OSError:  # not listening yet
                return False

        _wait_for("gunicorn to answer", answers, logs)

        # Both workers serve: send requests in parallel until each worker has answered one.
        def get_stock(_: int) -> int:
            return _http(f"{base}/api/v1/stock", token)[0]

        def worker_pids() -> set[str]:
            with ThreadPoolExecutor(max_workers=6) as pool:
                assert set(pool.map(get_stock, range(12))) == {200}
            served = re.findall(r"^<(\d+)> GET /api/v1/stock 200$", access_log.read_text(), re.M)
            return set(served)

        _wait_for("both workers to answer", lambda: len(worker_pids()) == 2, logs)
        # A write through a worker, replayed: recorded once, and nothing new runs short.
        body = {
            "kind": "donation",
            "site_id": ids["site"],
            "item_id": ids["tent"],
            "quantity": 20,
            "request_token": "van-1",
        }
        first, again = (_http(f"{base}/api/v1/movements", token, body) for _ in range(2))
        assert (first[0], again[0], again[1].get("replayed")) == (201, 201, True)

        _wait_for("the shortage to reach the webhook", lambda: len(hooks) >= 1, logs)
        # Several more runs of check-shortages: the open alert is not sent again.
        time.sleep(CHECK_MINUTES * 60 * 3)
        assert len(hooks) == 1, [hook.json for hook in hooks]
        assert web_log.exists() and "Booting worker" in web_log.read_text()

    message = hooks[0]
    assert message.json["event"] == "alerts"
    (change,) = message.json["changes"]
    assert (change["item"]["label"], change["severity"]) == ("Blanket", "warning")
    signature = hmac.new(SECRET.encode(), message.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, message.headers["X-Logistics-Signature"])
