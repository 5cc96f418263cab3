"""The waybill that travels with a shipment: who sends what to whom, and a QR code to receive it."""

from __future__ import annotations

from flask_babel import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from .. import i18n
from ..labels import label
from ..services.shipments import ShipmentView
from .base import ReportFrame, paragraph, render, table
from .sheets import unit_label

QR_SIZE = 45 * mm


def qr_code(link: str, size: float = QR_SIZE) -> Drawing:
    """Return a square QR code of a link, to draw as a flowable."""
    # The widget draws its modules to fill barWidth × barHeight, quiet zone included.
    widget = QrCodeWidget(link, barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    drawing.add(widget)
    return drawing


def build(frame: ReportFrame, view: ShipmentView, receive_link: str) -> bytes:
    """Render the waybill: sender and receiver, sites by name only, lines, and the QR code."""
    shipment = view.shipment
    places = [
        [_("From"), f"{view.sender.name} · {view.from_site.name}"],
        [_("To"), view.receiver.name + (f" · {view.to_site.name}" if view.to_site else "")],
        [_("Status"), label("shipment_status", shipment.status)],
    ]
    if shipment.sent_at is not None:
        places.append([_("Sent"), i18n.when(shipment.sent_at, "date_time")])
    story: list[Flowable] = [
        paragraph(frame.title, "title"),
        table(
            [_("Shipment"), _("No. %(number)s", number=shipment.id)],
            places,
            widths=[30 * mm, 140 * mm],
        ),  # fmt: skip
        paragraph(_("Lines"), "h2"),
        table(
            [_("Item"), _("Unit"), _("Sent"), _("Counted on arrival")],
            [
                [
                    line.item.label,
                    unit_label(line.item.unit),
                    i18n.number(line.line.quantity),
                    "" if line.line.received is None else i18n.number(line.line.received),
                ]
                for line in view.lines
            ],
            widths=[80 * mm, 25 * mm, 25 * mm, 40 * mm],
            numeric=(2, 3),
        ),
        paragraph(_("To receive it"), "h2"),
        paragraph(
            _(
                "The receiving organisation scans this code, or opens the link, "
                "and counts each line."
            )
        ),
        qr_code(receive_link),
        paragraph(receive_link, "small"),
    ]
    return render(frame, story)
