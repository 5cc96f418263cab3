"""E-mails, webhook text and PDFs in their reader's language: a member's own, else the group's."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import factories
from conftest import form_token
from pypdf import PdfReader
from servers import smtp_server, webhook_server
from sqlalchemy import select

from logistics.extensions import db
from logistics.jobs import run_job, send_due_deliveries
from logistics.models import Item, Membership, Organisation, Report
from logistics.services import accounts, alerts, catalogue, distributions, reports
from logistics.services.reports import ReportRequest

SECRET = "a-webhook-secret-of-some-length"
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 7))


def _subject(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def _body(mail) -> str:
    return mail.get_payload(decode=True).decode()


def _pdf_text(data: bytes) -> str:
    """Return every page's text, whitespace folded."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _short_of_blankets(world) -> None:
    """Blankets, "Couverture" in French: 10 held and 40 planned tonight (critical)."""
    for key, item_id in world.items.items():
        if key != "blanket":
            catalogue.set_item_active(world.org_id, item_id, False)
    db.session.get(Item, world.items["blanket"]).name_fr = "Couverture"
    factories.receive(world, "main", "blanket", 10)
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=(datetime.now(UTC) + timedelta(hours=6)).replace(second=0, microsecond=0),
        lines=[(world.items["blanket"], 40)],
    )
    db.session.commit()


def _speaking(world, role: str, language: str) -> Membership:
    """Give a member their own language ("" follows the organisation's); return the membership."""
    user = accounts.user_by_email(world.email(role))
    user.locale = language
    return user.memberships[0]


def _organisation_speaks(world, language: str) -> None:
    db.session.get(Organisation, world.org_id).locale = language


def _mails_by_recipient(inbox) -> dict[str, str]:
    return {mail["To"]: f"{_subject(mail)}\n{_body(mail)}" for mail in inbox.messages}


def test_an_alert_reaches_each_member_in_their_own_language(app, world):
    _short_of_blankets(world)
    french = _speaking(world, "coordinator", "fr")
    english = _speaking(world, "warehouse", "")  # follows the organisation: English
    alerts.set_subscription(world.org_id, french, "all")
    alerts.set_subscription(world.org_id, english, "all")
    db.session.commit()
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        assert "2 delivered, 0 failed" in run_job(app, "check-shortages")
    mails = _mails_by_recipient(inbox)
    french_mail, english_mail = mails[world.email("coordinator")], mails[world.email("warehouse")]
    # The item as each reads it, in the item's line and in the distribution's.
    assert "Couverture: " in french_mail and "a 10 sur 40 Couverture" in french_mail
    assert "Blanket" not in french_mail
    assert "Blanket: " in english_mail and "holds 10 of 40 Blanket" in english_mail
    assert "Couverture" not in english_mail


def test_a_digest_is_dated_and_named_in_each_members_language(app, world):
    _short_of_blankets(world)
    alerts.reconcile(world.org_id)
    for role, language in (("coordinator", "fr"), ("warehouse", "en")):
        alerts.set_subscription(world.org_id, _speaking(world, role, language), "digest")
    db.session.commit()
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        assert alerts.queue_digests(world.org_id, date(2026, 11, 26)) == 2
        db.session.commit()
        assert send_due_deliveries() == (2, 0)
    mails = _mails_by_recipient(inbox)
    french, english = mails[world.email("coordinator")], mails[world.email("warehouse")]
    assert "jeu. 26 nov." in french and "- Couverture (" in french
    assert "Thu 26 Nov" in english and "- Blanket (" in english
    assert "Couverture" not in english and "Blanket" not in french


def test_the_group_address_and_webhooks_speak_the_organisations_language(app, world):
    _short_of_blankets(world)
    _organisation_speaks(world, "fr")
    english = _speaking(world, "coordinator", "en")  # her own choice wins for her own address
    alerts.set_subscription(world.org_id, english, "all")
    with smtp_server() as (inbox, port), webhook_server() as (hooks, url):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        alerts.save_channel(world.org_id, kind="email", target="group@example.org")
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        db.session.commit()
        assert "3 delivered, 0 failed" in run_job(app, "check-shortages")
    mails = _mails_by_recipient(inbox)
    assert "Couverture" in mails["group@example.org"]
    assert "Blanket" not in mails["group@example.org"]
    assert "Blanket" in mails[world.email("coordinator")]
    (hook,) = hooks
    # Machine names stay: the keys and the enum values; only the text is the reader's.
    assert set(hook.json) == {"event", "organisation", "batch_id", "changes", "text"}
    assert {change["kind"] for change in hook.json["changes"]} == {"item", "distribution"}
    assert {change["severity"] for change in hook.json["changes"]} == {"critical"}
    assert "Couverture" in hook.json["text"] and "Blanket" not in hook.json["text"]


def _donor_report(app, world, language: str | None) -> tuple[Report, str]:
    report = reports.generate(
        world.org_id,
        world.users["coordinator"],
        ReportRequest("shortfall", *NOVEMBER, locale=language),
        Path(app.config["REPORTS_DIR"]),
    )
    db.session.commit()
    return report, _pdf_text((Path(app.config["REPORTS_DIR"]) / report.file_path).read_bytes())


def test_a_donor_report_asked_for_in_french_is_written_in_french(app, world):
    _short_of_blankets(world)
    french, text = _donor_report(app, world, "fr")
    assert french.locale == "fr"
    assert "1 nov. 2026 – 7 nov. 2026" in text and " déc. 2026 " in text  # period, made on
    english, text = _donor_report(app, world, None)  # the organisation's language
    assert english.locale == "en" and english.title == "Shortfall report"
    assert "1 Nov 2026 – 7 Nov 2026" in text and "Blanket" in text
    assert "Couverture" not in text


def test_the_french_donor_report_names_items_in_french(app, world):
    # Passes once services.needs labels a need with item_label(name, size, name_fr).
    _short_of_blankets(world)
    _, text = _donor_report(app, world, "fr")
    assert "Couverture" in text and "Blanket" not in text


def test_scheduled_reports_follow_the_organisation_and_queued_ones_keep_their_language(app, world):
    _organisation_speaks(world, "fr")
    db.session.commit()
    assert "1 weekly report(s) made" in run_job(app, "weekly-reports")
    weekly = db.session.scalar(select(Report).where(Report.schedule_key.is_not(None)))
    assert weekly.locale == "fr"
    queued = reports.queue(world.org_id, None, ReportRequest("evidence", *NOVEMBER, locale="en"))
    db.session.commit()
    assert queued.locale == "en"
    assert "1 report(s) made" in run_job(app, "make-reports")
    db.session.rollback()  # read what the job committed
    made = db.session.get(Report, queued.id)
    text = _pdf_text((Path(app.config["REPORTS_DIR"]) / made.file_path).read_bytes())
    assert "1 Nov 2026 – 7 Nov 2026" in text and "No incidents in this period." in text


def test_the_reports_form_offers_the_language_starting_with_the_organisations(world, client_as):
    _organisation_speaks(world, "fr")
    db.session.commit()
    coordinator = client_as("coordinator")
    page = coordinator.get("/reports").get_data(as_text=True)
    assert '<option selected value="fr">Français</option>' in page
    assert '<option value="en">English</option>' in page
    today = distributions.local_today(world.org_id)
    form = {
        "request_token": form_token(page),
        "kind": "shortfall",
        "first": (today - timedelta(days=6)).isoformat(),
        "last": today.isoformat(),
        "site_id": "0",
        "distribution_id": "0",
        "day": today.isoformat(),
        "locale": "en",
    }
    assert coordinator.post("/reports", data=form).status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(Report.locale)) == "en"


def test_the_api_takes_a_language_and_answers_with_it(api, world):
    _organisation_speaks(world, "fr")
    db.session.commit()
    coordinator = api("coordinator")
    period = {"kind": "shortfall", "from": "2026-11-01", "to": "2026-11-07"}
    default = coordinator.post("/reports", {**period, "request_token": "a"})
    assert default.status_code == 201 and default.get_json()["locale"] == "fr"
    english = coordinator.post("/reports", {**period, "locale": "en", "request_token": "b"})
    assert english.status_code == 201, english.get_json()
    assert (english.get_json()["locale"], english.get_json()["title"]) == ("en", "Shortfall report")
    refused = coordinator.post("/reports", {**period, "locale": "de", "request_token": "c"})
    factories.assert_error(refused, 422, "invalid", "locale")


# --- French words: these read the French catalogue -------------------------------------------
#
# They pass once the catalogue translates these msgids (docs/glossary.md words):
#   "Shortfall report"                  -> "Rapport des manques"
#   "What is needed now"                -> "Ce dont nous avons besoin maintenant"
#   "Losses to destruction"             -> "Pertes dues aux destructions"
#   "Priority"                          -> "Priorité"
#   "Page %(number)s of %(total)s"      -> "Page %(number)s sur %(total)s"
#   "critical" (notify.SEVERITY)        -> "critique"
#   "Needs page: %(url)s"               -> "Page des besoins : %(url)s"


def test_the_french_donor_report_reads_french_headings(app, world):
    _short_of_blankets(world)
    report, text = _donor_report(app, world, "fr")
    assert report.title == "Rapport des manques"
    for heading in (
        "Ce dont nous avons besoin maintenant",
        "Pertes dues aux destructions",
        "Priorité",
        "Page 1 sur 1",
    ):
        assert heading in text


def test_the_french_alert_reads_french_words(app, world):
    _short_of_blankets(world)
    alerts.set_subscription(world.org_id, _speaking(world, "coordinator", "fr"), "all")
    db.session.commit()
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        run_job(app, "check-shortages")
    (mail,) = inbox.messages
    body = _body(mail)
    flat = " ".join(body.split())  # lines folded for e-mail, no-break spaces as spaces
    assert "— critique" in flat and "Page des besoins : " in flat
