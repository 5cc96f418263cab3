"""PDF reports: they open, carry the right figures, keep secrets out, and archive by hash."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.jobs import run_job
from logistics.models import Distribution, Organisation, Report
from logistics.services import catalogue, distributions, incidents, ledger, reports
from logistics.services.distributions import OutcomeInput
from logistics.services.errors import NotFound
from logistics.services.incidents import IncidentInput, LineInput
from logistics.services.reports import ReportRequest

SECRET_DESCRIPTION = "Tents cut open behind the Lidl car park at dawn."
SECRET_FORCES = "4 gendarmerie vans, 1 PAF van"


def pdf_text(data: bytes) -> str:
    """Return every page's text, whitespace folded, after pypdf has read each page."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def scenario(world):
    """A week in Calais: stock, two distributions (one disrupted), an eviction."""
    now = datetime.now(UTC)
    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    for key, quantity in (("blanket", 60), ("tent", 40), ("water", 2000)):
        ledger.receive(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items[key],
            quantity=quantity,
            occurred_at=now - timedelta(days=20),
        )
    ledger.receive(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=meals.id,
        quantity=900,
        occurred_at=now - timedelta(days=20),
    )
    today = distributions.local_today(world.org_id)
    series = distributions.create_series(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        weekdays=range(7),
        local_time=time(18),
        starts_on=today - timedelta(days=3),
        ends_on=None,
        lines=[(meals.id, 350), (world.items["blanket"], 30)],
    )
    past = sorted(
        (
            d
            for d in db.session.scalars(
                select(Distribution).where(Distribution.series_id == series.id)
            )
            if d.local_date < today
        ),
        key=lambda d: d.local_date,
    )
    distributions.record_outcome(
        world.org_id,
        None,
        past[0].id,
        OutcomeInput("held", 420, given=[(meals.id, 400), (world.items["tent"], 20)]),
    )
    distributions.record_outcome(
        world.org_id,
        None,
        past[1].id,
        OutcomeInput("disrupted", 130, note="CRS stopped it at 18:20", given=[(meals.id, 130)]),
    )
    distributions.record_outcome(world.org_id, None, past[2].id, OutcomeInput("cancelled"))
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=now - timedelta(days=1),
            kind="eviction",
            area="Calais",
            site_id=world.sites["point"],
            forces_present=SECRET_FORCES,
            people_affected=180,
            shelters_affected=45,
            description=SECRET_DESCRIPTION,
            lines=[LineInput(world.items["tent"], 5, "after_distribution", "slashed")],
        ),
    )
    db.session.commit()
    return {"meals": meals, "today": today}


def _make(app, world, request: ReportRequest) -> Report:
    report = reports.generate(
        world.org_id, world.users["coordinator"], request, Path(app.config["REPORTS_DIR"])
    )
    db.session.commit()
    return report


def _read(app, report: Report) -> bytes:
    return (Path(app.config["REPORTS_DIR"]) / report.file_path).read_bytes()


def test_donor_report_carries_the_figures_and_no_secrets(app, world, scenario):
    today = scenario["today"]
    report = _make(app, world, ReportRequest("shortfall", today - timedelta(days=6), today))
    data = _read(app, report)
    text = pdf_text(data)
    assert "Calais Aid · Shortfall report" in text
    assert re.search(r"Page 1 of \d+", text)
    # What happened: 1 held, 1 disrupted, 1 cancelled; 550 people; 530 meals.
    assert "Distributions held 1" in text
    assert "Distributions disrupted 1" in text
    assert "Distributions cancelled 1" in text
    assert "People served (counts at held and disrupted distributions) 550" in text
    assert "Meals served 530" in text
    # Losses: 5 tents slashed after 20 given out = 25%.
    assert "Tent (2-person) shelter 0 5 20 25%" in text
    assert "1 incidents in the period; 180 people and 45 shelters affected" in text
    # Needed now: blankets planned 30 a night against 60 held.
    assert "Blanket" in text and "How these figures are computed" in text
    for secret in (
        SECRET_DESCRIPTION,
        SECRET_FORCES,
        "Rue des Verrotières",
        "Unit 4",
        "behind the gym",
        "CRS stopped",
    ):
        assert secret not in text
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    local_day = datetime.now(reports.organisation_zone(world.org_id)).date()
    assert report.file_path == f"calais-aid/shortfall-{local_day}.pdf"


def test_evidence_report_has_every_field_amendment_and_hash(app, world, scenario):
    incident = db.session.scalar(select(incidents.Incident))
    incidents.lock(world.org_id, None, incident.id)
    incidents.amend(world.org_id, world.users["coordinator"], incident.id, "Bailiff left at 07:40.")
    db.session.commit()
    today = scenario["today"]
    text = pdf_text(
        _read(app, _make(app, world, ReportRequest("evidence", today - timedelta(days=7), today)))
    )
    for expected in (
        SECRET_DESCRIPTION,
        SECRET_FORCES,
        "People affected 180",
        "Tent (2-person) 5 slashed given out earlier",
        "Bailiff left at 07:40.",
    ):
        assert expected in text


def test_stocktake_sheet_and_run_sheet(app, world, scenario):
    sheet = pdf_text(
        _read(app, _make(app, world, ReportRequest("stocktake", site_id=world.sites["main"])))
    )
    assert "Stocktake count sheet" in sheet and "Main warehouse (Calais)" in sheet
    assert "Blanket piece 60" in sheet and "Tent 2-person piece 20" in sheet
    upcoming = db.session.scalar(
        select(Distribution).where(Distribution.local_date == scenario["today"])
    )
    run = pdf_text(
        _read(app, _make(app, world, ReportRequest("run_sheet", distribution_id=upcoming.id)))
    )
    assert "Verrotières point (Calais)" in run and "Hot meal meal 350 370" in run


def test_another_organisations_site_or_distribution_is_not_found(app, world, other_world):
    with pytest.raises(NotFound):
        reports.render_pdf(
            db.session.get(Organisation, world.org_id),
            ReportRequest("stocktake", site_id=other_world.sites["main"]),
            datetime.now(UTC),
        )


def test_weekly_job_makes_one_report_per_organisation_even_run_twice(app, world, other_world):
    for organisation in db.session.scalars(select(Organisation)):
        organisation.weekly_report_weekday = datetime.now(UTC).weekday()
        organisation.weekly_report_hour = 0
    db.session.commit()
    assert "2 weekly report(s) made" in run_job(app, "weekly-reports")
    assert "0 weekly report(s) made" in run_job(app, "weekly-reports")
    assert db.session.scalar(select(func.count(Report.id))) == 2


def test_share_links_stop_working_when_expired_or_revoked(world):
    link, token = reports.create_share_link(world.org_id, None, label="Parish newsletter")
    db.session.commit()
    assert reports.resolve_share_token(token).id == link.id
    assert link.token_hash != token and token not in link.token_hash
    reports.revoke_share_link(world.org_id, link.id)
    db.session.commit()
    with pytest.raises(NotFound):
        reports.resolve_share_token(token)
    old, old_token = reports.create_share_link(world.org_id, None, days=1)
    old.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(NotFound):
        reports.resolve_share_token(old_token)


def test_kitchen_plan_sheet_lists_meals_and_ingredients(app, world):
    from logistics.services import kitchen

    meals = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    onions = catalogue.save_item(
        world.org_id, {"name": "Onions", "category": "ingredient", "unit": "kg"}
    )
    today = distributions.local_today(world.org_id)
    tomorrow = today + timedelta(days=1)
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        starts_at=datetime.combine(
            tomorrow, time(12), tzinfo=reports.organisation_zone(world.org_id)
        ),
        lines=[(meals.id, 400)],
    )
    recipe = kitchen.save_recipe(
        world.org_id, name="Dal and rice", dietary_notes="vegetarian", lines=[(onions.id, "13.6")]
    )
    kitchen.choose_menu(world.org_id, None, world.sites["kitchen"], tomorrow, recipe.id)
    db.session.commit()
    text = pdf_text(_read(app, _make(app, world, ReportRequest("kitchen", tomorrow))))
    assert "Kitchen plan sheet" in text and "Community kitchen: 400 meals planned" in text
    assert "Verrotières point Hot meal" in text and "Dal and rice" in text
    # 400 meals × 13.6 kg per 100 = 54.4 kg, rounded up; none held.
    assert "Community kitchen Onions kg 55 0 55" in text
