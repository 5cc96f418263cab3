"""E-mail subscribers of the weekly donor report, end to end against a real SMTP server."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import SITES, form_token
from itsdangerous import TimestampSigner
from servers import free_port, smtp_server
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.jobs import send_due_deliveries
from logistics.models import Channel, Delivery, DonorSubscriber, Report, ShareLink, Submission
from logistics.models.alerts import REPORT_MODE
from logistics.services import accounts, incidents, ledger, reports, subscribers
from logistics.services.incidents import IncidentInput, LineInput
from logistics.services.reports import ReportRequest

SECRET_DESCRIPTION = "Tents slashed behind the Lidl car park at dawn."
PERIOD = (date(2026, 11, 23), date(2026, 11, 29))
ADDRESS = "donor@example.org"


@pytest.fixture
def eventful(world):
    """Blankets held, and an eviction whose description and site details must never leak."""
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=60
    )
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=datetime(2026, 11, 25, 6, tzinfo=UTC),
            kind="eviction",
            area="Calais",
            site_id=world.sites["point"],
            description=SECRET_DESCRIPTION,
            lines=[LineInput(world.items["tent"], 4, "after_distribution", "slashed")],
        ),
    )
    db.session.commit()


@pytest.fixture
def link(world) -> str:
    """Return the token of a live share link."""
    _, token = reports.create_share_link(world.org_id, None, label="Parish newsletter")
    db.session.commit()
    return token


@pytest.fixture
def inbox(app):
    """Run a real SMTP server and point the app at it; yield its inbox."""
    with smtp_server() as (received, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        yield received


def _subject(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def _text(mail) -> str:
    """Return the plain-text part, lines unfolded, no-break spaces as spaces."""
    part = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    return " ".join(part.get_payload(decode=True).decode().split())


def _path(url: str) -> str:
    return urlsplit(url).path


def _subscribe(client, token: str, email: str = ADDRESS, request_token: str = "t1", **extra):
    data = {"email": email, "request_token": request_token, **extra}
    return client.post(f"/share/{token}/subscribe", data=data)


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _no_secrets(text: str) -> None:
    for secret in (SECRET_DESCRIPTION, *(details for *_, details in SITES.values())):
        assert secret not in text


def _confirm_url(mail) -> str:
    match = re.search(r"(https?://\S+/subscribe/\S+)", _text(mail))
    assert match, _text(mail)
    return match.group(1)


def test_a_donor_subscribes_confirms_gets_the_weekly_report_and_leaves_in_one_click(
    app, world, eventful, link, inbox
):
    visitor = app.test_client()
    visitor.set_cookie("lang", "fr")  # the share page was read in French
    answer = _subscribe(visitor, link, email="  Donor@Example.org ")
    assert answer.status_code == 200
    assert "Vérifiez votre boîte de réception" in answer.text
    assert f'href="/share/{link}"' in answer.text  # the way back to the share page
    _no_secrets(answer.text)
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert '<meta name="robots" content="noindex' in answer.text
    # A double tap records once and mails once.
    assert _subscribe(visitor, link, email="  Donor@Example.org ").status_code == 200
    (mail,) = inbox.messages
    assert mail["To"] == ADDRESS
    assert _subject(mail) == "[Calais Aid] Confirmez votre abonnement au rapport hebdomadaire"
    body = _text(mail)
    assert "en PDF" in body and "supprimée d'ici une semaine" in body
    _no_secrets(body)
    confirm_url = _confirm_url(mail)
    assert confirm_url.startswith(app.config["BASE_URL"] + "/subscribe/")
    subscriber = db.session.scalar(select(DonorSubscriber))
    assert (subscriber.email, subscriber.locale, subscriber.confirmed_at) == (ADDRESS, "fr", None)

    # A mail scanner opening the link confirms nothing: only the button does.
    scanner = app.test_client()
    shown = scanner.get(_path(confirm_url))
    assert shown.status_code == 200 and 'id="confirm-form"' in shown.text
    assert shown.headers["Cache-Control"] == "private, no-store"
    db.session.rollback()
    assert db.session.scalar(select(DonorSubscriber)).confirmed_at is None
    assert _count(Channel) == 0
    for _attempt in range(2):  # confirming twice is confirming once
        confirmed = visitor.post(_path(confirm_url))
        assert confirmed.status_code == 200
        assert "Vous recevrez le rapport hebdomadaire." in confirmed.text
    channel = db.session.scalar(select(Channel))
    assert (channel.kind, channel.target, channel.mode, channel.membership_id, channel.active) == (
        "email",
        ADDRESS,
        REPORT_MODE,
        None,
        True,
    )
    assert db.session.scalar(select(DonorSubscriber)).channel_id == channel.id
    assert _count(Channel) == 1 and subscribers.count(world.org_id) == 1

    # The weekly report: to the subscriber in French, to a member in English, named for its period.
    member = accounts.user_by_email(world.email("donor")).memberships[0]
    reports.set_report_subscription(world.org_id, member, True)
    report = reports.generate(
        world.org_id, None, ReportRequest("shortfall", *PERIOD), Path(app.config["REPORTS_DIR"])
    )
    assert reports.queue_report_deliveries(report, datetime.now(UTC) - timedelta(minutes=1)) == 2
    db.session.commit()
    inbox.messages.clear()
    assert send_due_deliveries() == (2, 0)
    mails = {m["To"]: m for m in inbox.messages}
    donor_mail, member_mail = mails[ADDRESS], mails[world.email("donor")]
    (attachment,) = [p for p in donor_mail.walk() if p.get_filename()]
    assert attachment.get_filename() == "rapport-donateurs-2026-11-23-au-2026-11-29.pdf"
    assert hashlib.sha256(attachment.get_payload(decode=True)).hexdigest() == report.sha256
    (member_attachment,) = [p for p in member_mail.walk() if p.get_filename()]
    assert member_attachment.get_filename() == "donor-report-2026-11-23-to-2026-11-29.pdf"
    text = _text(donor_mail)
    stop_url = re.search(r"(https?://\S+/unsubscribe/\S+)$", text).group(1)
    assert donor_mail["List-Unsubscribe"] == f"<{stop_url}>"
    assert donor_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/reports" not in text  # no staff page for someone without an account
    assert "rapport hebdomadaire" in text and "contact" in text
    _no_secrets(text + _subject(donor_mail))
    assert member_mail["List-Unsubscribe"] is None
    assert "Reports page: " in _text(member_mail)

    # One click from the mail client: a POST without any CSRF token, CSRF switched on.
    app.config["WTF_CSRF_ENABLED"] = True
    assert (
        visitor.post(f"/share/{link}/subscribe", data={"email": "x@example.org"}).status_code == 400
    )
    assert app.test_client().post(_path(confirm_url)).status_code == 400
    gone = app.test_client().post(_path(stop_url), data={"List-Unsubscribe": "One-Click"})
    assert gone.status_code == 200 and "désabonné" not in gone.text  # a mail client: English
    assert "You are unsubscribed" in gone.text
    assert _count(DonorSubscriber) == 0 and _count(Channel) == 1  # the member's own stays
    assert db.session.scalar(select(func.count(Delivery.id))) == 1
    assert db.session.scalar(select(Channel.id).where(Channel.target == ADDRESS)) is None
    again = app.test_client().post(_path(stop_url))
    assert again.status_code == 200 and "You are unsubscribed" in again.text
    assert app.test_client().get(_path(stop_url)).status_code == 200
    # The confirmation link of a deleted subscriber is dead.
    assert app.test_client().get(_path(confirm_url)).status_code == 410


def test_the_unsubscribe_page_shows_a_button_and_its_post_deletes(app, world, link, inbox):
    visitor = app.test_client()
    _subscribe(visitor, link)
    visitor.post(_path(_confirm_url(inbox.messages[0])))
    subscriber = db.session.scalar(select(DonorSubscriber))
    token = subscribers.unsubscribe_token(app.config["SECRET_KEY"], subscriber)
    page = visitor.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and 'id="unsubscribe-form"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert _count(DonorSubscriber) == 1  # opening the page deletes nothing
    assert visitor.post(f"/unsubscribe/{token}").status_code == 200
    assert _count(DonorSubscriber) == 0 and _count(Channel) == 0


def test_a_filled_honeypot_gets_the_same_answer_and_nothing_is_kept_or_sent(
    app, world, link, inbox
):
    answer = _subscribe(app.test_client(), link, website="http://spam.example")
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert _count(DonorSubscriber) == 0 and _count(Submission) == 0
    assert inbox.messages == []


def test_a_confirmed_address_gets_the_same_answer_and_no_second_mail(app, world, link, inbox):
    visitor = app.test_client()
    _subscribe(visitor, link)
    visitor.post(_path(_confirm_url(inbox.messages[0])))
    again = _subscribe(app.test_client(), link, request_token="t2")
    assert again.status_code == 200 and "Check your inbox" in again.text
    assert len(inbox.messages) == 1
    assert subscribers.count(world.org_id) == 1


def test_an_unconfirmed_address_asked_again_later_gets_a_new_mail(app, world, link, inbox):
    _subscribe(app.test_client(), link)
    _subscribe(app.test_client(), link, request_token="t2")  # moments later: no second mail
    assert len(inbox.messages) == 1
    subscriber = db.session.scalar(select(DonorSubscriber))
    subscriber.created_at = datetime.now(UTC) - timedelta(hours=1)
    db.session.commit()
    assert _subscribe(app.test_client(), link, request_token="t3").status_code == 200
    assert len(inbox.messages) == 2 and _count(DonorSubscriber) == 1
    # Both links work until the week is over.
    for mail in inbox.messages:
        assert app.test_client().get(_path(_confirm_url(mail))).status_code == 200


def test_not_an_address_is_refused_with_a_message_and_nothing_kept(app, world, link, inbox):
    refused = _subscribe(app.test_client(), link, email="not an address")
    assert refused.status_code == 422 and "That is not an e-mail address." in refused.text
    assert 'id="subscribe-form"' in refused.text  # the form comes back to fix
    empty = _subscribe(app.test_client(), link, email="", request_token="t2")
    assert empty.status_code == 422 and "Enter your e-mail address." in empty.text
    assert _count(DonorSubscriber) == 0 and inbox.messages == []


def test_one_link_brings_at_most_ten_subscriptions_an_hour(app, world, link, inbox):
    for number in range(subscribers.PER_HOUR):
        made = _subscribe(app.test_client(), link, f"d{number}@example.org", f"t{number}")
        assert made.status_code == 200
    refused = _subscribe(app.test_client(), link, "late@example.org", "late")
    assert refused.status_code == 429 and "Too many subscriptions" in refused.text
    assert _count(DonorSubscriber) == subscribers.PER_HOUR
    assert len(inbox.messages) == subscribers.PER_HOUR
    # Another link of the same organisation is counted on its own.
    _, other = reports.create_share_link(world.org_id, None)
    db.session.commit()
    assert _subscribe(app.test_client(), other, "late@example.org", "late2").status_code == 200


def test_the_daily_allowance_counts_the_last_24_hours(app, world):
    link_row, _ = reports.create_share_link(world.org_id, None)
    start = datetime(2026, 11, 30, 0, tzinfo=UTC)
    for number in range(subscribers.PER_DAY):
        moment = start + timedelta(hours=number * 0.7)  # under ten an hour
        subscribers.subscribe(world.org_id, f"d{number}@example.org", "en", link_row.id, moment)
    late = start + timedelta(hours=22)
    with pytest.raises(subscribers.TooManySubscriptions):
        subscribers.subscribe(world.org_id, "late@example.org", "en", link_row.id, late)
    next_day = start + timedelta(hours=30)
    assert subscribers.subscribe(world.org_id, "late@example.org", "en", link_row.id, next_day)


def test_a_dead_share_link_takes_no_subscription(app, world, link, inbox):
    link_row = db.session.scalar(select(ShareLink))
    reports.revoke_share_link(world.org_id, link_row.id)
    db.session.commit()
    for token in (link, "made-up-token", "x" * 400):
        assert _subscribe(app.test_client(), token).status_code == 404
        assert app.test_client().get(f"/share/{token}/subscribe").status_code == 404
    assert _count(DonorSubscriber) == 0 and inbox.messages == []


def test_bad_or_old_tokens_show_an_expired_page(app, world, link, inbox, monkeypatch):
    _subscribe(app.test_client(), link)
    subscriber = db.session.scalar(select(DonorSubscriber))
    secret = app.config["SECRET_KEY"]
    forged = subscribers.confirm_token("another-secret-key", subscriber)
    wrong_kind = subscribers.unsubscribe_token(secret, subscriber)  # not a confirmation
    real_time = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real_time()) - 8 * 86400)
    old = subscribers.confirm_token(secret, subscriber)
    monkeypatch.undo()
    client = app.test_client()
    for token in ("garbage", forged, wrong_kind, old, "a" * 2000):
        for answer in (client.get(f"/subscribe/{token}"), client.post(f"/subscribe/{token}")):
            assert answer.status_code == 410 and "This link has expired" in answer.text
    for token in ("garbage", subscribers.unsubscribe_token("another-secret-key", subscriber)):
        assert client.post(f"/unsubscribe/{token}").status_code == 410
        assert client.get(f"/unsubscribe/{token}").status_code == 410
    db.session.rollback()
    assert db.session.scalar(select(DonorSubscriber)).confirmed_at is None
    assert _count(DonorSubscriber) == 1


def test_a_token_never_reaches_a_later_subscriber_given_the_same_id(app, world):
    first = subscribers.subscribe(world.org_id, "a@example.org", "en", None, datetime.now(UTC))
    db.session.commit()
    secret = app.config["SECRET_KEY"]
    token = subscribers.unsubscribe_token(secret, first)
    first_id = first.id
    subscribers.unsubscribe(first_id)
    later = DonorSubscriber(id=first_id, organisation_id=world.org_id, email="b@example.org")
    db.session.add(later)
    db.session.commit()
    assert app.test_client().post(f"/unsubscribe/{token}").status_code == 200
    assert _count(DonorSubscriber) == 1  # b@ is still subscribed


def test_unconfirmed_addresses_are_forgotten_after_a_week(app, world):
    now = datetime.now(UTC)
    week_old = now - timedelta(days=7, minutes=1)
    for email, created, confirmed in (
        ("old@example.org", week_old, None),
        ("kept@example.org", week_old, week_old),
        ("new@example.org", now - timedelta(days=6), None),
    ):
        db.session.add(
            DonorSubscriber(
                organisation_id=world.org_id,
                email=email,
                created_at=created,
                confirmed_at=confirmed,
            )
        )
    db.session.commit()
    assert subscribers.forget_unconfirmed(now) == 1
    db.session.commit()
    left = set(db.session.scalars(select(DonorSubscriber.email)))
    assert left == {"kept@example.org", "new@example.org"}
    assert subscribers.forget_unconfirmed(now) == 0


def test_a_mail_server_down_says_try_later_and_a_later_try_mails(app, world, link):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens
    down = _subscribe(app.test_client(), link)
    assert down.status_code == 503
    assert "could not be sent. Please try again later." in down.text
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_PORT=port)
        assert _subscribe(app.test_client(), link, request_token="t2").status_code == 200
    assert len(inbox.messages) == 1 and _count(DonorSubscriber) == 1


def test_admins_see_how_many_subscribe_never_who(app, world, link, inbox, client_as):
    visitor = app.test_client()
    _subscribe(visitor, link)
    _subscribe(visitor, link, "pending@example.org", "t2")  # unconfirmed: not counted
    visitor.post(_path(_confirm_url(inbox.messages[0])))
    report = reports.generate(
        world.org_id, None, ReportRequest("shortfall", *PERIOD), Path(app.config["REPORTS_DIR"])
    )
    reports.queue_report_deliveries(report, datetime.now(UTC))
    db.session.commit()
    admin = client_as("admin")
    page = admin.get("/reports/share-links").text
    assert "1 address receives the weekly report by e-mail" in page
    channels = admin.get("/alerts/channels").text
    assert "a donor who subscribed" in channels  # the delivery log names no address
    for text in (page, channels):
        assert ADDRESS not in text and "pending@example.org" not in text
    channel = db.session.scalar(select(Channel))
    form = {"active": "0", "request_token": form_token(channels)}
    assert admin.post(f"/alerts/channels/{channel.id}/active", data=form).status_code == 404
    assert db.session.scalar(select(Channel)).active
    assert _count(Report) == 1


def test_the_confirm_button_carries_its_csrf_token(app, world, link, inbox):
    _subscribe(app.test_client(), link)
    app.config["WTF_CSRF_ENABLED"] = True
    person = app.test_client()
    page = person.get(_path(_confirm_url(inbox.messages[0]))).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    done = person.post(_path(_confirm_url(inbox.messages[0])), data={"csrf_token": csrf})
    assert done.status_code == 200 and "You will receive the weekly report." in done.text
    assert subscribers.count(world.org_id) == 1


def test_the_api_never_lists_or_switches_a_donors_channel(app, world, api):
    subscriber = subscribers.subscribe(
        world.org_id, "dana@example.net", "en", None, datetime.now(UTC)
    )
    subscribers.confirm(world.org_id, subscriber.id)
    db.session.commit()
    admin = api("admin")
    listed = admin.get("/channels").get_json()
    assert "dana@example.net" not in str(listed)
    for path in ("deactivate", "activate"):
        answer = admin.post(f"/channels/{subscriber.channel_id}/{path}")
        assert answer.status_code == 404, answer.get_json()
    assert admin.get(f"/channels/{subscriber.channel_id}/deliveries").status_code == 404
