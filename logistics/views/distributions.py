"""Distribution pages: agenda, scheduling, run sheet, outcomes and figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from .. import i18n
from ..auth import current_org_id, current_role, current_user_id, requires
from ..forms.common import choices
from ..forms.distributions import (
    BLANK_LINES,
    SAME_SOURCE,
    WEEKDAYS,
    EndSeriesForm,
    GiveOutForm,
    OneOffForm,
    OutcomeForm,
    PlanForm,
    SeriesForm,
)
from ..labels import DISTRIBUTION_STATUS_LABELS
from ..models import Distribution, DistributionSeries, Site
from ..models.types import utcnow
from ..permissions import can
from ..services import catalogue, distributions, ledger
from ._submit import filled_rows, or_404, query_date, query_id, query_whole, submit_once

bp = Blueprint("distributions", __name__)
AGENDA_DAYS = 7
ONE_DAY = timedelta(days=1)
# A hand-out line's source choice meaning "the point itself" (goods moved there ahead).
POINT_ITSELF = 0


@bp.route("/distributions")
@requires("view_distributions")
def agenda() -> str:
    org_id = current_org_id()
    today = distributions.local_today(org_id)
    first = query_date("day") or today
    # The week shown stops at the last date anyone may ask about, and a busy week (a
    # federation plans eighty a day) at the last whole day of a window of AGENDA_MOST, which
    # is then read a page of AGENDA_PAGE distributions at a time.
    week_end = min(first + timedelta(days=AGENDA_DAYS - 1), distributions.LATEST_DAY)
    last = distributions.agenda_last_day(org_id, first, week_end)
    shown = distributions.agenda_page(org_id, first, last, query_whole("page") or 1)
    overdue = distributions.planned_between(
        org_id, today - timedelta(days=14), today, starting_before=utcnow()
    )
    return render_template(
        "distributions/agenda.html",
        shown=shown,
        entries=shown.entries,
        figure=i18n.number,
        statuses={status: str(name) for status, name in DISTRIBUTION_STATUS_LABELS.items()},
        first=first,
        last=last,
        today=today,
        previous=first - timedelta(days=AGENDA_DAYS),
        following=first + timedelta(days=AGENDA_DAYS) if last == week_end else last + ONE_DAY,
        more_days=last < week_end,
        overdue=overdue,
        sees_details=lambda day: sees_details(day, today),
    )


@bp.route("/distributions/<int:distribution_id>")
@requires("view_distributions")
def run_sheet(distribution_id: int) -> str:
    distribution = _distribution_or_404(distribution_id)
    today = distributions.local_today(current_org_id())
    return render_template(
        "distributions/run_sheet.html",
        distribution=distribution,
        details=sees_details(distribution.local_date, today),
        held=distributions.held_at_sources(distribution),
        several_sources=distributions.several_sources(distribution),
        movements=distributions.live_movements(distribution),
    )


@bp.route("/distributions/new", methods=["GET", "POST"])
@requires("plan_distributions")
def new_one_off() -> str | Response:
    form = OneOffForm()
    _offer_places(form)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            distribution = distributions.create_one_off(
                current_org_id(),
                site_id=form.site_id.data,
                source_site_id=form.source_site_id.data,
                starts_at=_aware(form.starts_at.data),
                lines=_lines(form),
            )
            return {
                "distribution_id": distribution.id,
                "message": _("Distribution scheduled."),
            }

        result = submit_once(form, "distribution_create", action)
        if result is not None:
            return redirect(url_for(".run_sheet", distribution_id=result["distribution_id"]))
    return _form_page("distributions/one_off.html", form)


def weekday_names(days: list[int]) -> str:
    """Name a series' weekdays in the reader's language, as its form offers them: "Mon, Wed"."""
    names = {choice.value: str(choice.label) for choice in WEEKDAYS}
    return ", ".join(names[day] for day in sorted(days))


@bp.route("/series")
@requires("view_distributions")
def series_list() -> str:
    org_id = current_org_id()
    return render_template(
        "distributions/series_list.html",
        series=distributions.list_series(org_id, include_ended=bool(request.args.get("ended"))),
        weekday_names=weekday_names,
    )


@bp.route("/series/new", methods=["GET", "POST"])
@requires("plan_distributions")
def new_series() -> str | Response:
    form = SeriesForm()
    _offer_places(form)
    if request.method == "GET":
        form.starts_on.data = distributions.local_today(current_org_id())
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            series = distributions.create_series(current_org_id(), **_series_values(form))
            return {"series_id": series.id, "message": _("Series created and scheduled.")}

        if submit_once(form, "series_create", action) is not None:
            return redirect(url_for(".agenda"))
    return _form_page("distributions/series_form.html", form, series=None)


@bp.route("/series/<int:series_id>/edit", methods=["GET", "POST"])
@requires("plan_distributions")
def edit_series(series_id: int) -> str | Response:
    org_id = current_org_id()
    series = or_404(distributions.get_series, org_id, series_id)
    form = SeriesForm()
    if request.method == "GET":
        _fill_series_form(form, series)
    _offer_places(form)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            distributions.update_series(org_id, series.id, **_series_values(form))
            return {
                "series_id": series.id,
                "message": _("Series saved; future distributions follow it."),
            }

        if submit_once(form, "series_edit", action) is not None:
            return redirect(url_for(".series_list"))
    return _form_page(
        "distributions/series_form.html", form, series=series, end_form=EndSeriesForm()
    )


@bp.route("/series/<int:series_id>/end", methods=["POST"])
@requires("plan_distributions")
def end_series(series_id: int) -> Response:
    org_id = current_org_id()
    series = or_404(distributions.get_series, org_id, series_id)
    form = EndSeriesForm()
    if form.validate_on_submit():
        submit_once(
            form,
            "series_end",
            lambda: {
                "message": _(
                    "Series ended; %(n)s future distributions removed.",
                    n=distributions.end_series(org_id, series.id),
                )
            },
        )
    return redirect(url_for(".series_list"))


@bp.route("/distributions/<int:distribution_id>/plan", methods=["GET", "POST"])
@requires("plan_distributions")
def edit_plan(distribution_id: int) -> str | Response:
    distribution = _distribution_or_404(distribution_id)
    form = PlanForm()
    if request.method == "GET":
        form.starts_at.data = _local(distribution.starts_at)
        _fill_lines(form, _planned_rows(distribution.lines, distribution.source_site_id))
    _offer_line_sources(form)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            distributions.edit_occurrence(
                current_org_id(),
                distribution.id,
                starts_at=_aware(form.starts_at.data),
                lines=_lines(form),
            )
            return {"message": _("This distribution's plan was changed; the series is unchanged.")}

        if submit_once(form, "distribution_plan", action) is not None:
            return redirect(url_for(".run_sheet", distribution_id=distribution.id))
    return _form_page("distributions/plan.html", form, distribution=distribution)


@bp.route("/distributions/<int:distribution_id>/outcome", methods=["GET", "POST"])
@requires("record_outcomes")
def outcome(distribution_id: int) -> str | Response:
    distribution = _distribution_or_404(distribution_id)
    form = OutcomeForm()
    if request.method == "GET":
        _fill_outcome_form(form, distribution)
    elif form.validate_on_submit():

        def action() -> dict[str, Any]:
            distributions.check_not_early(
                distribution, form.status.data, bool(form.confirm_early.data)
            )
            recorded = distributions.record_outcome(
                current_org_id(),
                current_user_id(),
                distribution.id,
                distributions.OutcomeInput(
                    status=form.status.data,
                    headcount=form.headcount.data,
                    headcount_minors=form.headcount_minors.data,
                    headcount_women=form.headcount_women.data,
                    note=form.note.data or "",
                    given=_lines(form),
                ),
            )
            return {"message": _("Outcome recorded: %(status)s.", status=_(recorded.status))}

        if submit_once(form, "distribution_outcome", action) is not None:
            return redirect(url_for(".run_sheet", distribution_id=distribution.id))
    return _form_page("distributions/outcome.html", form, distribution=distribution)


@bp.route("/distributions/figures")
@requires("view_distributions")
def figures() -> str:
    org_id = current_org_id()
    today = distributions.local_today(org_id)
    first = query_date("from") or today.replace(day=1)
    last = query_date("to") or today
    site_id = query_id("site_id", ledger.get_site)
    return render_template(
        "distributions/figures.html",
        figures=distributions.figures(org_id, first, last, site_id),
        site_id=site_id,
        points=[s for s in catalogue.list_sites(org_id) if s.kind == "distribution_point"],
    )


@bp.route("/give-out", methods=["GET", "POST"])
@requires("record_hand_outs")
def give_out() -> str | Response:
    """Record a hand-out nobody planned, as it happens: one held distribution."""
    org_id = current_org_id()
    form = GiveOutForm()
    points = _offer_hand_out_places(form)
    if request.method == "GET":
        _fill_shelf(form)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            recorded = distributions.give_out_now(
                org_id,
                current_user_id(),
                distributions.HandOut(
                    site_id=form.site_id.data,
                    headcount=form.headcount.data,
                    given=_hand_out_lines(form),
                    note=form.note.data or "",
                    headcount_minors=form.headcount_minors.data,
                    headcount_women=form.headcount_women.data,
                    at=_aware(form.occurred_at.data) if form.occurred_at.data else None,
                ),
            )
            what = _hand_out_summary(recorded)
            return {
                "distribution_id": recorded.id,
                "message": _("Recorded: %(what)s.", what=what),
                "summary": what,
            }

        if submit_once(form, "distribution_give_out", action) is not None:
            return redirect(url_for(".give_out"))
    return render_template(
        "distributions/give_out.html",
        form=form,
        points=points,
    )


def sees_details(day: date, today: date) -> bool:
    """Tell whether the reader sees the precise details of a point on a day: crews on the day."""
    role = current_role()
    return can(role, "view_site_details") or (can(role, "see_point_on_the_day") and day == today)


# --- helpers ---------------------------------------------------------------------------------


def _offer_hand_out_places(form: GiveOutForm) -> list[Site]:
    """Offer the active points, and every site as a line's source (preset: the usual one)."""
    org_id = current_org_id()
    sites = catalogue.list_sites(org_id)
    points = [s for s in sites if s.kind == "distribution_point"]
    form.site_id.choices = choices((s.id, f"{s.name} ({s.area})") for s in points)
    sources = choices([(POINT_ITSELF, _("The point itself")), *((s.id, s.name) for s in sites)])
    usual = distributions.default_source(org_id, current_user_id()) or POINT_ITSELF
    for row in form.lines:
        row.source.choices = sources
        if row.source.data is None:
            row.source.data = usual
    if request.method == "GET" and len(points) == 1:
        form.site_id.data = points[0].id
    return points


def _fill_shelf(form: GiveOutForm) -> None:
    """Fill the first line from a shelf label's link (?item_id=&source_site_id=)."""
    first = form.lines[0]
    item_id = query_whole("item_id")
    if item_id is not None:
        item = next((i for i in catalogue.list_items(current_org_id()) if i.id == item_id), None)
        if item is not None:
            first.item.data = item.label
    # Only a source offered (the organisation's own active sites) is taken.
    source = query_whole("source_site_id")
    if source in {choice.value for choice in first.source.choices}:
        first.source.data = source


def _hand_out_lines(form: GiveOutForm) -> list[tuple[int, int, int | None]]:
    """Turn the filled rows into (item_id, quantity, source); "the point itself" is the point."""
    return [
        (item.id, row.quantity.data or 0, _hand_out_source(row.source.data, form.site_id.data))
        for row, item in filled_rows(form.lines)
    ]


def _hand_out_source(chosen: int | None, point_id: int) -> int | None:
    """Return a line's source: as chosen, the point itself, or None for the usual one."""
    return point_id if chosen == POINT_ITSELF else chosen


def _hand_out_summary(distribution: Distribution) -> str:
    """Return "60 Hot meal given at Calais Hospital car park to 58 people"."""
    return ngettext(
        "%(given)s given at %(point)s to %(num)s person",
        "%(given)s given at %(point)s to %(num)s people",
        distribution.headcount or 0,
        given=distributions.hand_out_summary(distribution),
        point=distribution.site.name,
    )


def _form_page(template: str, form: Any, **context: Any) -> str:
    return render_template(template, form=form, **context)


def _offer_places(form: Any) -> None:
    sites = catalogue.list_sites(current_org_id())
    form.site_id.choices = choices(
        (s.id, f"{s.name} ({s.area})") for s in sites if s.kind == "distribution_point"
    )
    # Any site may be a source, a distribution point included (goods moved there ahead are
    # given out there).
    form.source_site_id.choices = choices((s.id, s.name) for s in sites)
    _offer_line_sources(form, sites)


def _offer_line_sources(form: Any, sites: list[Site] | None = None) -> None:
    """Let each planned line choose its source; by default the distribution's own."""
    if sites is None:
        sites = catalogue.list_sites(current_org_id())
    offered = choices(
        [
            (SAME_SOURCE, _("Same as the distribution")),
            *((s.id, s.name) for s in sites),
        ]
    )
    for row in form.lines:
        row.source.choices = offered


def _lines(form: Any) -> list[tuple[int, int, int | None]]:
    """Turn the form's filled rows into (item_id, quantity, source); unknown items are refused."""
    return [
        (item.id, row.quantity.data or 0, _source_of(row)) for row, item in filled_rows(form.lines)
    ]


def _source_of(row: Any) -> int | None:
    source = getattr(row, "source", None)
    if source is None or not source.data:
        return None
    return source.data


def _planned_rows(lines: list[Any], default_source_id: int) -> list[tuple[str, int | None, int]]:
    """Return (label, planned, source) rows; a line from the default source shows "same"."""
    return [
        (
            line.item.label,
            line.planned_quantity,
            SAME_SOURCE if line.source_site_id == default_source_id else line.source_site_id,
        )
        for line in lines
    ]


def _fill_lines(form: Any, rows: list[tuple[Any, ...]]) -> None:
    while len(form.lines):
        form.lines.pop_entry()
    for label, quantity, *source in rows:
        values = {"item": label, "quantity": quantity}
        if source:
            values["source"] = source[0]
        form.lines.append_entry(values)
    for _blank in range(BLANK_LINES if not rows else 2):
        form.lines.append_entry()


def _fill_series_form(form: SeriesForm, series: DistributionSeries) -> None:
    form.site_id.data = series.site_id
    form.source_site_id.data = series.source_site_id
    form.weekdays.data = list(series.weekdays)
    form.local_time.data = series.local_time
    form.starts_on.data = series.starts_on
    form.ends_on.data = series.ends_on
    _fill_lines(form, _planned_rows(series.lines, series.source_site_id))


def _fill_outcome_form(form: OutcomeForm, distribution: Distribution) -> None:
    recorded = distribution.status != "planned"
    if recorded:
        form.status.data = distribution.status
        form.headcount.data = distribution.headcount
        form.headcount_minors.data = distribution.headcount_minors
        form.headcount_women.data = distribution.headcount_women
        form.note.data = distribution.outcome_note
    rows = [
        (line.item.label, line.given_quantity if recorded else line.planned_quantity)
        for line in distribution.lines
    ]
    _fill_lines(form, rows)


def _series_values(form: SeriesForm) -> dict[str, Any]:
    return {
        "site_id": form.site_id.data,
        "source_site_id": form.source_site_id.data,
        "weekdays": form.weekdays.data or [],
        "local_time": form.local_time.data,
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "lines": _lines(form),
    }


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=distributions.organisation_zone(current_org_id()))


def _local(moment: datetime) -> datetime:
    zone = distributions.organisation_zone(current_org_id())
    return moment.astimezone(zone).replace(tzinfo=None)


def _distribution_or_404(distribution_id: int) -> Distribution:
    return or_404(distributions.get_distribution, current_org_id(), distribution_id)
