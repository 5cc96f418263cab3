"""Needs as docs/needs.md describes them, alerts that open, escalate and resolve, and delivery."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header

import pytest
from servers import free_port, smtp_server, webhook_server
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.jobs import run_job, send_due_deliveries
from logistics.models import AlertChange, Delivery
from logistics.services import accounts, alerts, catalogue, distributions, ledger, needs
from logistics.services.distributions import OutcomeInput

SECRET = "a-webhook-secret-of-some-length"


def _receive(world, item: str, quantity: int, site: str = "main", days_ago: float = 30) -> None:
    ledger.receive(
        world.org_id,
        None,
        site_id=world.sites[site],
        item_id=world.items[item],
        quantity=quantity,
        occurred_at=datetime.now(UTC) - timedelta(days=days_ago),
    )


def _one_off(world, item: str, quantity: int, starts_at: datetime):
    return distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=starts_at,
        lines=[(world.items[item], quantity)],
    )


def _by_item(world, now) -> dict[int, needs.Need]:
    return {n.item_id: n for n in needs.compute_needs(world.org_id, now=now)}


def test_needs_equal_a_hand_calculation(world):
    now = datetime.now(UTC)
    # Blankets: 80 at the main warehouse, 20 in Grande-Synthe, 5 left at a point (not held).
    _receive(world, "blanket", 150)
    _receive(world, "blanket", 20, site="gs_store")
    ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["point"],
        item_id=world.items["blanket"],
        quantity=5,
        occurred_at=now - timedelta(days=29),
    )
    # Used in the last 28 days: 56 lost to CS gas and 28 given out = 84, so 3 a day.
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["blanket"],
        quantity=56,
        reason="CS gas",
        occurred_at=now - timedelta(days=5),
    )
    given = _one_off(world, "blanket", 30, now - timedelta(days=2))
    distributions.record_outcome(
        world.org_id,
        None,
        given.id,
        OutcomeInput("held", 300, given=[(world.items["blanket"], 28)]),
    )
    # Committed: 30 in 1 h and 25 in 30 h (48 h: 55), 50 in 3 days; 999 in 8 days is outside.
    for quantity, hours in ((30, 1), (25, 30), (50, 72), (999, 192)):
        _one_off(world, "blanket", quantity, now + timedelta(hours=hours))
    # Water: people estimates, the latest per area: Calais 100 (not the older 50) + GS 20.
    catalogue.save_item(
        world.org_id,
        {
            "name": "Drinking water",
            "category": "water",
            "unit": "litre",
            "per_person_per_day": 15,
            "min_stock": 500,
        },
        item_id=world.items["water"],
    )
    for area, people, days_ago in (
        ("Calais", 50, 20),
        ("Calais", 100, 2),
        ("Grande-Synthe", 20, 9),
    ):
        needs.record_estimate(
            world.org_id, None, area=area, people=people, as_of=date.today() - timedelta(days_ago)
        )
    _receive(world, "water", 3000)
    db.session.commit()

    figures = _by_item(world, now)
    blanket = figures[world.items["blanket"]]
    held = 150 - 56 - 28 + 20  # the 5 moved to the point are held there too
    assert blanket.held == held == 86
    assert blanket.consumption_rate == pytest.approx(3.0)
    assert (blanket.committed, blanket.committed_48h) == (105, 55)
    assert blanket.need == max(105, 3.0 * 7, 0) + 10 == 115
    assert blanket.shortfall == 115 - 86
    assert blanket.days_of_cover == pytest.approx(86 / 3)  # unrounded: pages round
    assert blanket.status == "warning"
    assert blanket.short_by == now + timedelta(hours=72)  # 86 - 30 - 25 - 50 < 0 there

    water = figures[world.items["water"]]
    assert water.people == 120
    assert water.need_from_people == pytest.approx(120 * 15 * 7)
    assert water.need == 12_600 + 500
    assert water.shortfall == 12_600 + 500 - 3000
    assert water.days_of_cover is None
    assert water.status == "warning"

    tent = figures[world.items["tent"]]
    assert (tent.held, tent.need, tent.status) == (0, 10, "warning")


def test_critical_when_the_next_48_hours_cannot_be_covered(world):
    now = datetime.now(UTC)
    _receive(world, "tent", 200)
    _one_off(world, "tent", 30, now + timedelta(hours=20))
    db.session.commit()
    assert _by_item(world, now)[world.items["tent"]].status == "ok"
    _one_off(world, "tent", 190, now + timedelta(hours=40))
    db.session.commit()
    assert _by_item(world, now)[world.items["tent"]].status == "critical"


def test_alerts_open_escalate_resolve_without_duplicates(world):
    now = datetime.now(UTC)
    catalogue.save_item(
        world.org_id,
        {
            "name": "Tent",
            "size": "2-person",
            "category": "shelter",
            "min_stock": 10,
            "cover_target_days": 0,
        },
        item_id=world.items["tent"],
    )
    _receive(world, "tent", 50)
    for key in ("blanket", "sleeping_bag", "tarp", "water", "shoes42"):
        catalogue.set_item_active(world.org_id, world.items[key], False)
    channel = alerts.save_channel(
        world.org_id, kind="webhook", target="http://127.0.0.1:9/x", secret=SECRET
    )
    critical_only = alerts.save_channel(
        world.org_id, kind="email", target="lead@example.org", min_severity="critical"
    )
    db.session.commit()
    assert alerts.reconcile(world.org_id, now) == []

    _one_off(world, "tent", 45, now + timedelta(days=4))  # need 55 > 50 held: warning
    db.session.commit()
    (opened,) = alerts.reconcile(world.org_id, now)
    assert (opened.change, opened.severity, opened.figures["shortfall"]) == ("opened", "warning", 5)
    assert opened.alert.key == f"item:{world.items['tent']}"
    assert alerts.reconcile(world.org_id, now) == []  # no second alert

    tonight = _one_off(world, "tent", 60, now + timedelta(hours=10))  # 60 in 48 h > 50 held
    db.session.commit()
    escalated, short_tonight = alerts.reconcile(world.org_id, now)
    assert (escalated.change, escalated.severity) == ("escalated", "critical")
    assert escalated.alert_id == opened.alert_id
    assert (short_tonight.change, short_tonight.alert.key) == (
        "opened",
        f"distribution:{tonight.id}",
    )
    assert short_tonight.figures["lines"][0]["missing"] == 10
    assert escalated.batch_id == short_tonight.batch_id != opened.batch_id

    _receive(world, "tent", 500, days_ago=0)
    db.session.commit()
    resolved = alerts.reconcile(world.org_id, now)
    assert [(c.change, c.alert.kind) for c in resolved] == [
        ("resolved", "item"),
        ("resolved", "distribution"),
    ]
    db.session.commit()
    assert alerts.open_alerts_of(world.org_id) == []
    queued = {(d.channel_id, d.batch_id) for d in db.session.scalars(select(Delivery))}
    # One delivery per channel per batch; the critical-only channel hears the escalation
    # and that the critical is over, not the first warning.
    assert queued == {
        (channel.id, opened.batch_id),
        (channel.id, escalated.batch_id),
        (critical_only.id, escalated.batch_id),
        (channel.id, resolved[0].batch_id),
        (critical_only.id, resolved[0].batch_id),
    }


def test_an_item_resolves_only_past_the_margin_and_a_met_critical_eases(world):
    now = datetime.now(UTC)
    for key in ("blanket", "sleeping_bag", "tent", "tarp", "water"):
        catalogue.set_item_active(world.org_id, world.items[key], False)
    # Shoes: min stock 10, nothing planned, 4 held: a warning.
    _receive(world, "shoes42", 4)
    db.session.commit()
    (opened,) = alerts.reconcile(world.org_id, now)
    assert (opened.change, opened.severity) == ("opened", "warning")
    # A donation brings it to its need (10): ok, but within the 10 % margin (11): stays open.
    _receive(world, "shoes42", 6, days_ago=0)
    db.session.commit()
    assert alerts.reconcile(world.org_id, now) == []
    assert [a.key for a in alerts.open_alerts_of(world.org_id)] == [opened.alert.key]
    # One pair lost: short again, but the alert never closed, so nothing new is said.
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["shoes42"],
        quantity=1,
        reason="worn out",
        occurred_at=now - timedelta(hours=1),
    )
    db.session.commit()
    assert alerts.reconcile(world.org_id, now) == []
    # The lost pair made a use rate, so the need is 11 now: 13 held = ceil(11 × 1.1) resolves.
    _receive(world, "shoes42", 4, days_ago=0)
    db.session.commit()
    (resolved,) = alerts.reconcile(world.org_id, now)
    assert (resolved.change, resolved.alert_id) == ("resolved", opened.alert_id)

    # A critical that is met again eases to a warning (with a change) until past the margin.
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["gs_store"],
        starts_at=now + timedelta(hours=30),
        lines=[(world.items["shoes42"], 20)],
    )
    db.session.commit()
    changes = alerts.reconcile(world.org_id, now)
    item_change = next(c for c in changes if c.alert.kind == "item")
    assert (item_change.change, item_change.severity) == ("opened", "critical")
    _receive(world, "shoes42", 18, days_ago=0)  # 31 held, need 30, threshold 33
    db.session.commit()
    changes = alerts.reconcile(world.org_id, now)
    eased = next(c for c in changes if c.alert.kind == "item")
    assert (eased.change, eased.severity, eased.alert.severity) == ("eased", "warning", "warning")
    assert alerts.wants("critical", eased)  # a critical-only channel hears it is over


def _short_blankets(world) -> None:
    """Set up one critical shortage: 10 blankets held, 40 planned tonight."""
    for key in ("sleeping_bag", "tent", "tarp", "water", "shoes42"):
        catalogue.set_item_active(world.org_id, world.items[key], False)
    _receive(world, "blanket", 10)
    _one_off(world, "blanket", 40, datetime.now(UTC) + timedelta(hours=6))
    db.session.commit()


def test_email_and_signed_webhook_arrive_and_a_dead_channel_is_retried(app, world):
    _short_blankets(world)
    with smtp_server() as (inbox, port), webhook_server() as (hooks, url):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        alerts.save_channel(world.org_id, kind="email", target="coordinator@example.org")
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        dead = alerts.save_channel(
            world.org_id, kind="webhook", target=f"http://127.0.0.1:{free_port()}/", secret=SECRET
        )
        db.session.commit()
        summary = run_job(app, "check-shortages")
        # The item and tonight's distribution: one message per channel listing both.
        assert "2 alert change(s); 2 delivered, 1 failed." in summary
        (mail,) = inbox.messages
        assert mail["To"] == "coordinator@example.org"
        subject = str(make_header(decode_header(mail["Subject"])))
        assert subject.startswith("[Calais Aid] 2 critical: Verrotières point ")
        assert subject.endswith(", Blanket")
        assert mail["Date"] and mail["Message-ID"].endswith("@127.0.0.1>")
        body = mail.get_payload(decode=True).decode()
        assert "Blanket: 10 pieces held, 40 committed in 48 h, runs out " in body
        assert "Main warehouse holds 10 of 40 Blanket — 30 pieces spare nowhere" in body
        assert body.index("Verrotières point") < body.index("Blanket: 10 pieces held")
        assert f"http://127.0.0.1:5000/needs#item-{world.items['blanket']}" in body
        (hook,) = hooks
        expected = hmac.new(SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
        assert hook.headers["X-Logistics-Signature"] == expected
        assert hook.json["event"] == "alerts"
        shortage, item = hook.json["changes"]
        assert (shortage["kind"], shortage["site"]["name"]) == ("distribution", "Verrotières point")
        assert item["item"]["label"] == "Blanket"
        assert item["figures"]["held"] == 10 and item["figures"]["shortfall"] == 40
        failed = db.session.scalar(select(Delivery).where(Delivery.channel_id == dead.id))
        assert (failed.status, failed.attempts) == ("pending", 1)
        assert "Connection refused" in failed.last_error or "refused" in failed.last_error.lower()
        assert failed.next_attempt_at > datetime.now(UTC)
        # A rerun sends nothing twice, and the dead channel waits for its backoff.
        assert "0 alert change(s); 0 delivered, 0 failed." in run_job(app, "check-shortages")
        assert len(inbox.messages) == 1 and len(hooks) == 1


def test_a_failing_delivery_gives_up_after_the_limit(world):
    _short_blankets(world)
    channel = alerts.save_channel(world.org_id, kind="webhook", target="http://x/", secret=SECRET)
    db.session.commit()
    alerts.reconcile(world.org_id)
    db.session.commit()
    (delivery_id,) = alerts.due_delivery_ids()
    moment = datetime.now(UTC)
    for attempt in range(1, alerts.MAX_ATTEMPTS + 1):
        assert alerts.claim(delivery_id, moment) is not None
        delivery = alerts.record_attempt(delivery_id, "refused", moment)
        assert delivery.attempts == attempt
        moment = delivery.next_attempt_at
    assert (delivery.status, delivery.attempts, channel.id) == ("failed", 5, delivery.channel_id)
    assert alerts.claim(delivery_id, moment + timedelta(days=1)) is None


def test_two_schedulers_at_once_deliver_each_alert_once(app, world, database_url, tmp_path):
    _short_blankets(world)
    catalogue.set_item_active(world.org_id, world.items["tent"], True)
    _one_off(world, "tent", 5, datetime.now(UTC) + timedelta(hours=3))
    db.session.commit()
    with smtp_server() as (inbox, port), webhook_server() as (hooks, url):
        alerts.save_channel(world.org_id, kind="email", target="all@example.org")
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        db.session.commit()
        env = {
            **os.environ,
            "LOGISTICS_DATABASE_URL": database_url,
            "LOGISTICS_INSTANCE_DIR": str(tmp_path / "instance"),
            "LOGISTICS_SMTP_HOST": "127.0.0.1",
            "LOGISTICS_SMTP_PORT": str(port),
            "LOGISTICS_WEBHOOK_ALLOW_PRIVATE": "1",
        }
        command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "logistics",
            "run-job",
            "check-shortages",
        ]
        runs = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
    opened = db.session.scalar(
        select(func.count(AlertChange.id)).where(AlertChange.change == "opened")
    )
    assert opened == 4  # blankets and tents, and the two distributions they are short for
    assert len(inbox.messages) == 1  # one batch: one message per channel
    (hook,) = hooks
    labels = sorted(c["item"]["label"] for c in hook.json["changes"] if c["kind"] == "item")
    assert labels == ["Blanket", "Tent (2-person)"]


def test_run_job_refuses_an_unknown_job_and_lists_the_real_ones(app):
    result = app.test_cli_runner().invoke(args=["run-job", "no-such-job"])
    assert result.exit_code != 0
    assert "check-shortages" in result.output and "daily-digest" in result.output


def test_daily_digest_is_queued_once_per_day_and_lists_open_alerts(app, world):
    _short_blankets(world)
    alerts.reconcile(world.org_id)
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        member = accounts.user_by_email(world.email("coordinator")).memberships[0]
        alerts.set_subscription(world.org_id, member, "digest")
        db.session.commit()
        assert alerts.subscription_of(world.org_id, member.id) == "digest"
        today = date(2026, 11, 26)
        assert alerts.queue_digests(world.org_id, today) == 1
        assert alerts.queue_digests(world.org_id, today) == 0
        db.session.commit()
        assert send_due_deliveries() == (1, 0)
    (mail,) = inbox.messages
    assert mail["To"] == world.email("coordinator")
    # Tonight's distribution short of blankets, and blankets short across the organisation.
    assert mail["Subject"] == "[Calais Aid] Shortages on Thu 26 Nov: 2 critical, 0 warning"
    body = mail.get_payload(decode=True).decode()
    assert "- Blanket (critical): 10 pieces held, need 50, short by 40" in body
    assert "30 missing at its sources" in body


def test_a_delivery_that_cannot_be_composed_is_logged_and_others_still_go(app, world, tmp_path):
    from logistics.services import reports

    _short_blankets(world)
    with webhook_server() as (hooks, url):
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        member = accounts.user_by_email(world.email("donor")).memberships[0]
        reports.set_report_subscription(world.org_id, member, True)
        report = reports.generate(
            world.org_id, None, reports.ReportRequest("shortfall"), tmp_path / "archive"
        )
        reports.queue_report_deliveries(report, datetime.now(UTC) - timedelta(minutes=1))
        (tmp_path / "archive" / report.file_path).unlink()  # the archive lost the file
        db.session.commit()
        summary = run_job(app, "check-shortages")
    assert "1 delivered, 1 failed" in summary
    assert len(hooks) == 1
    broken = db.session.scalar(select(Delivery).where(Delivery.report_id == report.id))
    assert (broken.status, broken.attempts) == ("pending", 1)
    assert "missing" in broken.last_error


def test_critical_looks_48_hours_ahead_even_with_a_one_day_horizon(world):
    now = datetime.now(UTC)
    _receive(world, "tent", 10)
    _one_off(world, "tent", 30, now + timedelta(hours=36))
    db.session.commit()
    tent = {n.item_id: n for n in needs.compute_needs(world.org_id, horizon_days=1, now=now)}[
        world.items["tent"]
    ]
    assert (tent.committed, tent.committed_48h, tent.status) == (0, 30, "critical")


def test_correcting_an_old_outcome_does_not_lower_todays_rate(world):
    now = datetime.now(UTC)
    _receive(world, "blanket", 500, days_ago=60)
    old = _one_off(world, "blanket", 40, now - timedelta(days=40))
    recent = _one_off(world, "blanket", 56, now - timedelta(days=3))
    for distribution, given in ((old, 40), (recent, 56)):
        distributions.record_outcome(
            world.org_id,
            None,
            distribution.id,
            OutcomeInput("held", 100, given=[(world.items["blanket"], given)]),
        )
    db.session.commit()
    before = _by_item(world, now)[world.items["blanket"]].consumption_rate
    distributions.record_outcome(  # the old one was really cancelled
        world.org_id, None, old.id, OutcomeInput("cancelled")
    )
    db.session.commit()
    assert before == _by_item(world, now)[world.items["blanket"]].consumption_rate == 2.0


def test_correcting_a_recent_outcome_takes_it_out_of_todays_rate(world):
    now = datetime.now(UTC)
    _receive(world, "blanket", 500, days_ago=60)
    recent = _one_off(world, "blanket", 56, now - timedelta(days=3))
    distributions.record_outcome(
        world.org_id,
        None,
        recent.id,
        OutcomeInput("held", 100, given=[(world.items["blanket"], 56)]),
    )
    db.session.commit()
    assert _by_item(world, now)[world.items["blanket"]].consumption_rate == 2.0
    distributions.record_outcome(world.org_id, None, recent.id, OutcomeInput("cancelled"))
    db.session.commit()
    assert _by_item(world, now)[world.items["blanket"]].consumption_rate == 0.0


def test_meals_cooked_on_the_day_are_not_a_shortage(world):
    now = datetime.now(UTC)
    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    ledger.record(
        world.org_id,
        None,
        site_id=world.sites["kitchen"],
        item_id=meals.id,
        quantity=400,
        kind="production",
        occurred_at=now - timedelta(days=1, hours=4),
    )
    given = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        starts_at=now - timedelta(days=1),
        lines=[(meals.id, 400)],
    )
    distributions.record_outcome(
        world.org_id, None, given.id, OutcomeInput("held", 400, given=[(meals.id, 400)])
    )
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        starts_at=now + timedelta(hours=5),
        lines=[(meals.id, 420)],
    )
    db.session.commit()
    meal = _by_item(world, now)[meals.id]
    assert (meal.held, meal.consumption_rate, meal.committed, meal.status) == (0, 0.0, 0, "ok")


def test_only_meals_from_a_kitchen_are_left_out_of_the_committed_stock(world):
    now = datetime.now(UTC)
    meals = catalogue.save_item(
        world.org_id, {"name": "Packed meal", "category": "food", "unit": "meal"}
    )
    for source, item_id, quantity in (
        ("main", meals.id, 40),  # packed meals held in a warehouse: taken from stock
        ("kitchen", world.items["blanket"], 7),  # a kitchen giving out blankets: stock too
        ("kitchen", meals.id, 500),  # cooked on the day: not stock
    ):
        distributions.create_one_off(
            world.org_id,
            site_id=world.sites["point"],
            source_site_id=world.sites[source],
            starts_at=now + timedelta(hours=5),
            lines=[(item_id, quantity)],
        )
    db.session.commit()
    figures = _by_item(world, now)
    assert figures[meals.id].committed == 40
    assert figures[world.items["blanket"]].committed == 7
