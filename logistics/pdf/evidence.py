"""The evidence report: every incident of a period with all it records, for lawyers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether

from ..models import Incident
from .base import ReportFrame, kind_label, paragraph, render, table

FIELD_WIDTHS = [48 * mm, 130 * mm]
LINE_WIDTHS = [58 * mm, 18 * mm, 28 * mm, 52 * mm, 22 * mm]


def build(
    frame: ReportFrame, incidents: Iterable[Incident], zone: Any, users: dict[int, str]
) -> bytes:
    """Render the incidents in time order with fields, lines, amendments and evidence hashes."""
    story: list[Flowable] = [paragraph(frame.title, "title"), paragraph(frame.period, "small")]
    count = 0
    for incident in incidents:
        story += _incident(incident, zone, users)
        count += 1
    if count == 0:
        story.append(paragraph("No incidents in this period."))
    return render(frame, story)


def _incident(incident: Incident, zone: Any, users: dict[int, str]) -> list[Flowable]:
    when = _local(incident.occurred_at, zone)
    if incident.ended_at:
        when += f" – {_local(incident.ended_at, zone)}"
    heading = f"#{incident.id} · {kind_label(incident.kind)} · {incident.area} · {when}"
    fields = [
        ["Site", incident.site.name if incident.site else ""],
        ["Forces present", incident.forces_present],
        ["Bailiff present", incident.bailiff_present],
        ["Interpreter present", incident.interpreter_present],
        ["Legal basis shown", incident.legal_basis_shown],
        ["Shelter offered", incident.shelter_offered],
        ["People affected", _count(incident.people_affected)],
        ["Shelters affected", _count(incident.shelters_affected)],
        ["Witnesses", incident.witnesses],
        ["Description", incident.description],
        ["Locked", _local(incident.locked_at, zone) if incident.locked_at else "not locked"],
    ]
    parts: list[Flowable] = [
        CondPageBreak(40 * mm),
        KeepTogether([paragraph(heading, "h3"), table(["Field", "Record"], fields, FIELD_WIDTHS)]),
    ]
    if incident.lines:
        rows = [
            [
                line.item.label,
                line.quantity,
                line.action,
                "from stock at " + line.site.name
                if line.origin == "from_stock" and line.site
                else "given out earlier",
                "yes" if line.marked_property else "no",
            ]
            for line in incident.lines
        ]
        parts.append(
            table(["Item", "Qty", "Action", "Whose", "Our mark"], rows, LINE_WIDTHS, numeric=(1,))
        )
    for amendment in incident.amendments:
        who = users.get(amendment.created_by_id or 0, "unknown")
        parts.append(
            paragraph(
                f"Amendment {_local(amendment.created_at, zone)} by {who}: {amendment.text}",
                "small",
            )
        )
    for item in incident.evidence:
        captured = f", taken {_local(item.captured_at, zone)}" if item.captured_at else ""
        parts.append(
            paragraph(
                f"Evidence: {item.file_name} ({item.media_type}, {item.size_bytes:,} bytes"
                f"{captured}) SHA-256 {item.sha256}",
                "small",
            )
        )
    return parts


def _local(moment: datetime | None, zone: Any) -> str:
    return moment.astimezone(zone).strftime("%d %b %Y %H:%M") if moment else ""


def _count(value: int | None) -> str:
    return "" if value is None else str(value)
