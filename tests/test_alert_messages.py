"""Alert messages people act on: one per channel per check, what to move where, and resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import factories
import pytest
from servers import smtp_server, webhook_server
from sqlalchemy import select

from logistics import wording
from logistics.demo import DEMO_SLUG, seed
from logistics.extensions import db
from logistics.jobs import run_job
from logistics.models import Alert, Delivery, NeedsChange
from logistics.notify import compose
from logistics.scheduler import build_scheduler
from logistics.services import accounts, alerts, catalogue, distributions, ledger

SECRET = "a-webhook-secret-of-some-length"
PARIS = ZoneInfo("Europe/Paris")


def _subject(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def _body(mail) -> str:
    return mail.get_payload(decode=True).decode()


def _only(world, *keys: str) -> None:
    """Watch only these items, so each test reads the alerts it made."""
    for key, item_id in world.items.items():
        if key not in keys:
            catalogue.set_item_active(world.org_id, item_id, False)


def _calais_east(world) -> tuple[int, datetime]:
    """20 Blanket at Main warehouse, 86 at Grande-Synthe store, 40 planned soon at Calais East."""
    _only(world, "blanket")
    east = factories.site(world.org_id, "Calais East", "distribution_point", "Calais").id
    factories.receive(world, "main", "blanket", 20)
    factories.receive(world, "gs_store", "blanket", 86)
    starts = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    distributions.create_one_off(
        world.org_id,
        site_id=east,
        source_site_id=world.sites["main"],
        starts_at=starts,
        lines=[(world.items["blanket"], 40)],
    )
    db.session.commit()
    return east, starts


def _deadline(starts: datetime) -> str:
    local = starts.astimezone(PARIS)
    today = datetime.now(UTC).astimezone(PARIS).date()
    return f"{local:%H:%M} today" if local.date() == today else f"tomorrow {local:%H:%M}"


def test_calais_east_names_the_distribution_the_source_and_the_transfer_then_resolves(app, world):
    east, starts = _calais_east(world)
    with smtp_server() as (inbox, port), webhook_server() as (hooks, url):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        alerts.save_channel(world.org_id, kind="email", target="coordinator@example.org")
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        db.session.commit()
        assert "2 delivered, 0 failed" in run_job(app, "check-shortages")
        (mail,) = inbox.messages
        body = _body(mail)
        local = starts.astimezone(PARIS)
        assert f"Calais East, {local:%a} {local.day} {local:%b %H:%M}: " in body
        assert (
            "Main warehouse holds 20 of 40 Blanket — Move 20 Blanket from Grande-Synthe store "
            f"to Main warehouse before {_deadline(starts)}"
        ) in body
        link = (
            f"http://127.0.0.1:5000/stock/transfer?item_id={world.items['blanket']}"
            f"&from_site_id={world.sites['gs_store']}&to_site_id={world.sites['main']}"
            "&quantity=20"
        )
        assert link in body
        today = datetime.now(UTC).astimezone(PARIS).date()
        when = f"{local:%H:%M}" if local.date() == today else f"{local:%a %H:%M}"
        assert _subject(mail) == f"[Calais Aid] 1 critical: Calais East {when}"
        # The webhook carries the site, the distribution and the suggested transfer.
        (hook,) = hooks
        (change,) = hook.json["changes"]
        assert (hook.json["event"], change["kind"], change["change"]) == (
            "alerts",
            "distribution",
            "opened",
        )
        assert change["site"] == {"id": east, "name": "Calais East", "area": "Calais"}
        assert change["distribution"]["starts_at"] == starts.isoformat()
        (transfer,) = change["transfers"]
        assert (transfer["quantity"], transfer["from_site"], transfer["to_site"]) == (
            20,
            "Grande-Synthe store",
            "Main warehouse",
        )
        assert transfer["url"] == link

        # The coordinator makes the move: the next check says it is solved.
        ledger.transfer(
            world.org_id,
            None,
            from_site_id=world.sites["gs_store"],
            to_site_id=world.sites["main"],
            item_id=world.items["blanket"],
            quantity=20,
        )
        db.session.commit()
        run_job(app, "check-shortages")
        assert len(inbox.messages) == 2 and len(hooks) == 2
        resolved = inbox.messages[1]
        assert _subject(resolved).startswith("[Calais Aid] 1 resolved: Calais East")
        assert "Resolved: Calais East, " in _body(resolved)
        assert hooks[1].json["changes"][0]["change"] == "resolved"
        assert alerts.open_alerts_of(world.org_id) == []


def test_shoes_donation_then_one_lost_pair_sends_nothing_new(app, world):
    _only(world, "shoes42")
    factories.receive(world, "main", "shoes42", 3)  # min stock 10: a warning
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        alerts.save_channel(world.org_id, kind="email", target="coordinator@example.org")
        db.session.commit()
        run_job(app, "check-shortages")
        (first,) = inbox.messages
        assert "Shoes (42): 3 pairs held, below its minimum stock of 10 — warning" in _body(first)
        factories.receive(world, "main", "shoes42", 7)  # a donation: exactly the need
        db.session.commit()
        run_job(app, "check-shortages")
        ledger.record_loss(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items["shoes42"],
            quantity=1,
            reason="worn out",
        )
        db.session.commit()
        run_job(app, "check-shortages")
        assert len(inbox.messages) == 1  # no "resolved" then "opened" again for one pair
    (alert,) = alerts.open_alerts_of(world.org_id)
    assert [c.change for c in alert.changes] == ["opened"]


def test_first_run_over_a_fresh_demo_sends_one_message_per_channel(app):
    assert seed(if_empty=False)
    organisation = accounts.organisation_by_slug(DEMO_SLUG)
    with smtp_server() as (inbox, port), webhook_server() as (hooks, url):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        alerts.save_channel(organisation.id, kind="email", target="all@example.org")
        alerts.save_channel(
            organisation.id, kind="email", target="lead@example.org", min_severity="critical"
        )
        alerts.save_channel(organisation.id, kind="webhook", target=url, secret=SECRET)
        db.session.commit()
        summary = run_job(app, "check-shortages")
        assert len(inbox.messages) == 2, summary
        assert len(hooks) == 1
    assert sorted(m["To"] for m in inbox.messages) == ["all@example.org", "lead@example.org"]
    # The message lists every change, most urgent first, each in its own paragraph.
    changes = hooks[0].json["changes"]
    assert len(changes) >= 2
    ranks = [_urgency(c["change"], c["severity"]) for c in changes]
    assert ranks == sorted(ranks)


def test_every_email_parses_with_a_date_and_a_unique_message_id(app, world):
    _calais_east(world)
    with smtp_server() as (inbox, port):
        app.config.update(
            SMTP_HOST="127.0.0.1", SMTP_PORT=port, BASE_URL="https://aid.example.org/"
        )
        for address in ("a@example.org", "b@example.org", "c@example.org"):
            alerts.save_channel(world.org_id, kind="email", target=address)
        db.session.commit()
        before = datetime.now(UTC) - timedelta(seconds=2)
        run_job(app, "check-shortages")
        raw = [m.as_bytes() for m in inbox.messages]
    assert len(raw) == 3
    ids = set()
    for data in raw:
        mail = BytesParser().parsebytes(data)
        sent = parsedate_to_datetime(mail["Date"])
        assert before <= sent <= datetime.now(UTC) + timedelta(seconds=2)
        assert mail["Message-ID"].startswith("<") and mail["Message-ID"].endswith(
            "@aid.example.org>"
        )
        ids.add(mail["Message-ID"])
        assert message_from_bytes(data).get_payload(decode=True)
    assert len(ids) == 3


def _age_marks(seconds: int) -> None:
    """Make the needs-change marks look this much older (the debounce counts from them)."""
    for mark in db.session.scalars(select(NeedsChange)):
        mark.at -= timedelta(seconds=seconds)
    db.session.commit()


def test_check_changed_picks_up_a_write_after_its_debounce_and_never_twice(app, world):
    _only(world, "tent")
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        alerts.save_channel(world.org_id, kind="email", target="coordinator@example.org")
        db.session.commit()
        run_job(app, "check-shortages")  # 0 tents, min stock 10: a warning
        assert len(inbox.messages) == 1
        _age_marks(3600)
        run_job(app, "check-changed")  # the set-up's marks: nothing new to say
        assert len(inbox.messages) == 1
        assert run_job(app, "check-changed") == "nothing changed."

        distributions.create_one_off(  # 30 tents tonight: critical
            world.org_id,
            site_id=world.sites["point"],
            source_site_id=world.sites["main"],
            starts_at=datetime.now(UTC) + timedelta(hours=5),
            lines=[(world.items["tent"], 30)],
        )
        db.session.commit()
        assert run_job(app, "check-changed") == "nothing changed."  # writes still settling
        assert len(inbox.messages) == 1
        _age_marks(11)  # past the quiet time
        summary = run_job(app, "check-changed")
        assert "1 delivered" in summary and len(inbox.messages) == 2, summary
        assert "critical" in _subject(inbox.messages[1])
        assert db.session.scalar(select(NeedsChange.id)) is None  # the marks are gone
        assert run_job(app, "check-changed") == "nothing changed."
        run_job(app, "check-shortages")  # the full check agrees: nothing new
        assert len(inbox.messages) == 2


def test_check_changed_shares_the_check_lock_and_the_scheduler_checks_at_start(app, world):
    from logistics.jobs import job_lock

    with job_lock("check-shortages"):
        assert "already running" in run_job(app, "check-changed")
    scheduler = build_scheduler(app, blocking=False)
    scheduler.start(paused=True)
    try:
        check = scheduler.get_job("check-shortages")
        assert check.next_run_time <= datetime.now(UTC) + timedelta(seconds=1)
        changed = scheduler.get_job("check-changed")
        assert changed.trigger.interval == timedelta(seconds=15)
    finally:
        scheduler.shutdown(wait=False)
    result = app.test_cli_runner().invoke(args=["run-job", "check-changed"])
    assert result.exit_code == 0, result.output


def test_a_delivery_queued_before_batches_still_composes_as_one_change(app, world):
    _only(world, "blanket")
    factories.receive(world, "main", "blanket", 4)
    db.session.commit()
    (change,) = alerts.reconcile(world.org_id)
    channel = alerts.save_channel(world.org_id, kind="email", target="old@example.org")
    old = Delivery(organisation_id=world.org_id, channel_id=channel.id, alert_change_id=change.id)
    db.session.add(old)
    db.session.commit()
    message = compose(old, app.config)
    assert message.subject == "[Calais Aid] 1 warning: Blanket"
    assert "Blanket: 4 pieces held, below its minimum stock of 10 — warning" in message.text
    assert message.payload["changes"][0]["change"] == "opened"


def test_messages_order_by_urgency_and_say_resolved(app, world):
    """A batch with a critical, a warning, an eased and a resolved: in that order."""
    now = datetime.now(UTC)
    _only(world, "blanket", "tent", "tarp", "shoes42", "sleeping_bag")
    for key, held in (
        ("blanket", 4),
        ("tent", 50),
        ("tarp", 2),
        ("shoes42", 40),
        ("sleeping_bag", 50),
    ):
        factories.receive(world, "gs_store", key, held)
    for key, planned in (("tent", 60), ("shoes42", 50)):  # both critical in 48 h
        distributions.create_one_off(
            world.org_id,
            site_id=world.sites["point"],
            source_site_id=world.sites["gs_store"],
            starts_at=now + timedelta(hours=30),
            lines=[(world.items[key], planned)],
        )
    db.session.commit()
    alerts.reconcile(world.org_id, now)
    factories.receive(world, "gs_store", "tent", 200)  # tent: resolved
    factories.receive(world, "gs_store", "shoes42", 25)  # shoes: 65 held, need 60: eased
    factories.receive(world, "main", "blanket", 3)  # blanket stays a warning, silently
    distributions.create_one_off(  # sleeping bags: 45 in 4 days, 50 held, need 55: a warning
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["gs_store"],
        starts_at=now + timedelta(days=4),
        lines=[(world.items["sleeping_bag"], 45)],
    )
    distributions.create_one_off(  # tarpaulins: critical now
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=now + timedelta(hours=20),
        lines=[(world.items["tarp"], 30)],
    )
    db.session.commit()
    changes = alerts.reconcile(world.org_id, now)
    by_kind = {(c.alert.kind, c.change) for c in changes}
    assert ("item", "eased") in by_kind and ("item", "resolved") in by_kind
    channel = alerts.save_channel(world.org_id, kind="webhook", target="http://x/", secret=SECRET)
    delivery = Delivery(
        organisation_id=world.org_id, channel_id=channel.id, batch_id=changes[0].batch_id
    )
    db.session.add(delivery)
    db.session.commit()
    message = compose(delivery, app.config, now)
    urgency = [_urgency(c["change"], c["severity"]) for c in message.payload["changes"]]
    assert urgency == sorted(urgency) and set(urgency) == {0, 1, 2, 3}
    text = message.text
    assert text.index("Tarpaulin") < text.index("Sleeping bag: 50 pieces held")
    assert text.index("Sleeping bag") < text.index("Eased: Shoes (42)")
    assert text.index("Eased: Shoes (42)") < text.index("Resolved: Tent")
    assert "eased" in message.subject and "resolved" in message.subject
    assert "short by" not in message.subject  # a subject names, it does not count a quantity


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1, "piece", "1 piece"),
        (20, "piece", "20 pieces"),
        (2, "pair", "2 pairs"),
        (3, "kg", "3 kg"),
        (1.5, "l", "1.5 l"),
        (12, "litre", "12 litres"),
        (4, "box", "4 boxes"),
    ],
)
def test_quantities_read_with_plural_units(app, value, unit, expected):
    assert wording.quantity(value, unit) == expected


def test_dates_show_the_year_beyond_a_week_and_run_outs_to_the_half_day(app):
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # Fri 4 Dec, 10:00 in Paris
    assert wording.day_time(datetime(2026, 12, 5, 17, 0, tzinfo=UTC), now, PARIS) == (
        "Sat 5 Dec 18:00"
    )
    assert wording.day(datetime(2030, 9, 6, 4, 0, tzinfo=UTC), now, PARIS) == "Fri 6 Sep 2030"
    assert wording.day(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), now, PARIS) == "Fri 20 Nov 2026"
    assert wording.half_day(datetime(2026, 12, 5, 14, 37, tzinfo=UTC), now, PARIS) == (
        "Sat 5 Dec, afternoon"
    )
    assert wording.deadline(datetime(2026, 12, 4, 17, 0, tzinfo=UTC), now, PARIS) == "18:00 today"
    assert wording.deadline(datetime(2026, 12, 5, 17, 0, tzinfo=UTC), now, PARIS) == (
        "tomorrow 18:00"
    )


def test_other_organisations_alerts_stay_apart(app, world, other_world):
    _calais_east(world)
    _only(other_world, "tent")  # nothing held, min stock 10: a warning of its own
    alerts.reconcile(world.org_id)
    (theirs,) = alerts.reconcile(other_world.org_id)
    db.session.commit()
    assert theirs.alert.key == f"item:{other_world.items['tent']}"
    distribution_alerts = db.session.scalars(select(Alert).where(Alert.kind == "distribution"))
    assert {a.organisation_id for a in distribution_alerts} == {world.org_id}


def _urgency(change: str, severity: str) -> int:
    if change == "resolved":
        return 3
    if change == "eased":
        return 2
    return 0 if severity == "critical" else 1
