"""Incidents from the crew, with photos: one submit, bare thumbnails, reading back one's own.

Real JPEGs made with Pillow carry EXIF with a GPS position, as a phone's photos do; they go
through the report form, the evidence upload and the API as a browser or a script sends them.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import inline_script
from flask import Flask
from PIL import ExifTags, Image
from pypdf import PdfReader
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Evidence, Incident, Organisation
from logistics.services import distributions, reports

LATITUDE = (50.0, 57.0, 30.0)  # the woods by the hospital in Calais: what must not leak


def phone_photo(colour: tuple[int, int, int], size: tuple[int, int] = (1600, 1200)) -> bytes:
    """Return a JPEG as a phone writes it: EXIF with make, GPS and orientation, and a comment.

    Orientation 6 means "turn 90° clockwise to view": the blue band on the stored image's left
    is at the top of the upright photo.
    """
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "FieldPhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (1.0, 51.0, 0.0)
    image = Image.new("RGB", size, colour)
    image.paste((20, 20, 200), (0, 0, size[0] // 4, size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"Calais woods, by the hospital", quality=85)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)[2] == LATITUDE
    return data


def png_claiming(width: int, height: int) -> bytes:
    """Return a tiny PNG whose header claims width × height pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def report_form(world, token: str, **extra) -> dict:
    """Return the essentials of an eviction report, as the phone form sends them."""
    zone = distributions.organisation_zone(world.org_id)
    started = datetime.now(zone) - timedelta(hours=1)
    return {
        "occurred_at": started.strftime("%Y-%m-%dT%H:%M"),
        "kind": "eviction",
        "area": "Calais",
        "site_id": "0",
        "people_affected": "60",
        "shelters_affected": "25",
        "bailiff_present": "unknown",
        "interpreter_present": "unknown",
        "legal_basis_shown": "unknown",
        "shelter_offered": "unknown",
        "request_token": token,
        **extra,
    }


def report(client, world, token: str, **files) -> tuple[int, object]:
    """Send a report with files (field name -> [(bytes, name)]); return (incident id, response)."""
    data = report_form(world, token)
    for name, sent in files.items():
        data[name] = [(io.BytesIO(content), file_name) for content, file_name in sent]
    response = client.post("/incidents/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1]), response


def add_files(client, incident_id: int, token: str, *sent: tuple[bytes, str]):
    return client.post(
        f"/incidents/{incident_id}/evidence",
        data={
            "file": [(io.BytesIO(content), name) for content, name in sent],
            "request_token": token,
        },
        content_type="multipart/form-data",
    )


def stored(app: Flask, sha256: str) -> Path:
    return Path(app.config["EVIDENCE_DIR"]) / sha256[:2] / sha256


def files_of(incident_id: int) -> list[Evidence]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Evidence).where(Evidence.incident_id == incident_id).order_by(Evidence.id)
        )
    )


def pictures_on(page) -> list[bytes]:
    """Return the images a PDF page draws, as stored (a JPEG's own bytes, DCTDecode)."""
    objects = page.get("/Resources", {}).get("/XObject", {})
    images = [ref.get_object() for ref in objects.values()]
    return [image.get_data() for image in images if image["/Subtype"] == "/Image"]


def assert_bare_thumbnail(data: bytes) -> Image.Image:
    """Assert a thumbnail is a small JPEG carrying no metadata at all; return it opened."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and max(image.size) <= 320
    assert dict(image.getexif()) == {}
    for key in ("exif", "icc_profile", "comment", "xmp", "photoshop"):
        assert key not in image.info, key
    assert b"Exif" not in data and b"FieldPhone" not in data and b"Calais" not in data
    return image


@pytest.mark.postgres
def test_a_crew_report_with_two_photos_keeps_originals_and_shows_bare_thumbnails(
    app, world, client_as
):
    taken, chosen = phone_photo((200, 30, 30)), phone_photo((30, 160, 30))
    client = client_as("warehouse")
    form = client.get("/incidents/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    assert re.search(r'<input[^>]*accept="image/\*"[^>]*capture="environment"', form)
    assert re.search(r'<input[^>]*multiple[^>]*name="photos"', form)

    incident_id, response = report(
        client,
        world,
        "report-1",
        camera=[(taken, "IMG_0001.jpg")],
        photos=[(chosen, "IMG_0002.jpg")],
    )
    # The reporter lands on what they reported, told how many photos went with it.
    assert response.headers["Location"].endswith(f"/incidents/{incident_id}")
    page = client.get(f"/incidents/{incident_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Incident recorded with 2 photos." in html

    rows = files_of(incident_id)
    assert [(e.file_name, e.media_type, e.uploaded_by_id) for e in rows] == [
        ("IMG_0001.jpg", "image/jpeg", world.users["warehouse"]),
        ("IMG_0002.jpg", "image/jpeg", world.users["warehouse"]),
    ]
    for row, original in zip(rows, (taken, chosen), strict=True):
        # The original is the evidence: byte for byte as sent, GPS and all, under its hash.
        assert row.sha256 == hashlib.sha256(original).hexdigest()
        assert row.size_bytes == len(original)
        assert stored(app, row.sha256).read_bytes() == original
        assert row.sha256 in html
        thumbnail = stored(app, row.thumbnail_sha256).read_bytes()
        assert hashlib.sha256(thumbnail).hexdigest() == row.thumbnail_sha256
        upright = assert_bare_thumbnail(thumbnail)
        assert upright.size == (240, 320)  # turned as the phone said: portrait
        top, middle = upright.getpixel((120, 5)), upright.getpixel((120, 300))
        assert top[2] > 150 and middle[2] < 100  # the blue band is at the top
        # Each thumbnail links to its original; the page serves the thumbnail itself.
        thumb_url = f"/evidence/{row.id}/thumbnail"
        assert re.search(rf'<a href="/evidence/{row.id}"><img src="{thumb_url}"', html)
        served = client.get(thumb_url)
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.data == thumbnail
        assert served.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        download = client.get(f"/evidence/{row.id}")
        assert download.status_code == 200 and download.data == original
        assert download.headers["Cache-Control"] == "private, no-store"

    # The same submit again (a second tap on a weak signal) records nothing more.
    again, _ = report(client, world, "report-1", photos=[(chosen, "IMG_0002.jpg")])
    assert again == incident_id
    assert db.session.scalar(select(func.count(Incident.id))) == 1
    assert len(files_of(incident_id)) == 2


@pytest.mark.postgres
def test_each_role_reads_back_only_what_it_may(app, world, client_as):
    crew = {role: client_as(role) for role in ("warehouse", "kitchen", "coordinator", "donor")}
    photo = phone_photo((90, 90, 90))
    ours, _ = report(crew["warehouse"], world, "w1", photos=[(photo, "ours.jpg")])
    # The kitchen may report too, and reads its own report back.
    theirs, _ = report(crew["kitchen"], world, "k1", photos=[(photo, "kitchen.jpg")])
    # A coordinator adds a lawyer's letter to the warehouse's report: not the reporter's to read.
    letter = b"%PDF-1.4 letter from the prefecture"
    assert add_files(crew["coordinator"], ours, "c1", (letter, "letter.pdf")).status_code == 302
    (ours_photo, letter_row), (their_photo,) = files_of(ours), files_of(theirs)
    assert letter_row.thumbnail_sha256 is None

    def statuses(role: str) -> dict[str, int]:
        client = crew[role]
        urls = {
            "ours": f"/incidents/{ours}",
            "theirs": f"/incidents/{theirs}",
            "ours_photo": f"/evidence/{ours_photo.id}",
            "ours_thumb": f"/evidence/{ours_photo.id}/thumbnail",
            "letter": f"/evidence/{letter_row.id}",
            "their_photo": f"/evidence/{their_photo.id}",
            "their_thumb": f"/evidence/{their_photo.id}/thumbnail",
            "edit_ours": f"/incidents/{ours}/edit",
        }
        return {name: client.get(url).status_code for name, url in urls.items()}

    assert statuses("warehouse") == {
        "ours": 200,
        "theirs": 404,  # another's report is not found: its id tells nothing
        "ours_photo": 200,
        "ours_thumb": 200,
        "letter": 404,
        "their_photo": 404,
        "their_thumb": 404,
        "edit_ours": 403,  # reviewing and editing stay with coordinators
    }
    assert statuses("kitchen") == {
        "ours": 404,
        "theirs": 200,
        "ours_photo": 404,
        "ours_thumb": 404,
        "letter": 404,
        "their_photo": 200,
        "their_thumb": 200,
        "edit_ours": 403,
    }
    assert set(statuses("coordinator").values()) == {200}
    assert set(statuses("donor").values()) == {403}

    page = crew["warehouse"].get(f"/incidents/{ours}").get_data(as_text=True)
    assert "ours.jpg" in page and "letter.pdf" not in page and "Lock this incident" not in page
    # The reporter may add a photo forgotten at first; another's report takes none from them.
    late = phone_photo((10, 10, 10))
    assert add_files(crew["warehouse"], ours, "w2", (late, "late.jpg")).status_code == 302
    assert add_files(crew["warehouse"], theirs, "w3", (late, "late.jpg")).status_code == 404
    assert [e.file_name for e in files_of(ours)] == ["ours.jpg", "letter.pdf", "late.jpg"]
    assert [e.file_name for e in files_of(theirs)] == ["kitchen.jpg"]

    mine = crew["warehouse"].get("/incidents/mine").get_data(as_text=True)
    assert f'href="/incidents/{ours}"' in mine and f'href="/incidents/{theirs}"' not in mine
    assert crew["donor"].get("/incidents/mine").status_code == 403


def test_photos_pillow_cannot_read_are_kept_without_a_thumbnail(app, world, client_as):
    client = client_as("coordinator")
    incident_id, _ = report(client, world, "r1")
    broken = b"\xff\xd8\xff\xe0" + b"not really a photo " * 50
    bomb = png_claiming(30_000, 30_000)  # 900 million pixels: past Pillow's limit
    heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200
    response = add_files(
        client, incident_id, "e1", (broken, "broken.jpg"), (bomb, "bomb.png"), (heic, "a.heic")
    )
    assert response.status_code == 302
    rows = files_of(incident_id)
    assert [(e.file_name, e.thumbnail_sha256) for e in rows] == [
        ("broken.jpg", None),
        ("bomb.png", None),
        ("a.heic", None),
    ]
    for row, original in zip(rows, (broken, bomb, heic), strict=True):
        assert stored(app, row.sha256).read_bytes() == original
        assert client.get(f"/evidence/{row.id}/thumbnail").status_code == 404
    page = client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200 and "<img" not in page.get_data(as_text=True)


def test_more_photos_than_one_submit_takes_are_refused_and_nothing_is_recorded(
    app, world, client_as
):
    client = client_as("warehouse")
    photos = [(phone_photo((n * 20, 0, 0), (64, 48)), f"p{n}.jpg") for n in range(11)]
    data = report_form(world, "too-many")
    data["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    response = client.post("/incidents/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Send at most 10 files at once (11 chosen)" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Incident.id))) == 0
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_the_evidence_pdf_pictures_each_photo_in_an_appendix(app, world, client_as):
    client = client_as("coordinator")
    photo = phone_photo((200, 30, 30))
    incident_id, _ = report(client, world, "r1", photos=[(photo, "tents-slashed.jpg")])
    notice = b"%PDF-1.4 eviction notice"
    add_files(client, incident_id, "e1", (notice, "notice.pdf"))
    (photo_row, notice_row) = files_of(incident_id)
    organisation = db.session.get(Organisation, world.org_id)
    today = distributions.local_today(world.org_id)
    pdf = reports.render_pdf(
        organisation,
        # From yesterday: just after midnight, an incident of an hour ago was yesterday.
        reports.ReportRequest("evidence", today - timedelta(days=1), today),
        datetime.now(UTC),
    )
    reader = PdfReader(io.BytesIO(pdf))
    appendix = [
        page for page in reader.pages if "Appendix: photos and files" in page.extract_text()
    ]
    assert len(appendix) == 1
    text = " ".join(appendix[0].extract_text().split())
    for expected in (
        f"#{incident_id} · tents-slashed.jpg",
        f"SHA-256 {photo_row.sha256}",
        f"image/jpeg, {len(photo):,} bytes",
        "uploaded ",
        f"#{incident_id} · notice.pdf",
        f"SHA-256 {notice_row.sha256}",
    ):
        assert expected in text
    # The picture printed is the bare thumbnail itself, not the photo with its GPS.
    (picture,) = pictures_on(appendix[0])
    assert picture == stored(app, photo_row.thumbnail_sha256).read_bytes()
    assert_bare_thumbnail(picture)
    assert b"FieldPhone" not in pdf and b"Calais woods" not in pdf


def test_an_altered_thumbnail_is_neither_served_nor_printed(app, world, client_as):
    client = client_as("coordinator")
    incident_id, _ = report(client, world, "r1", photos=[(phone_photo((9, 9, 9)), "a.jpg")])
    (row,) = files_of(incident_id)
    path = stored(app, row.thumbnail_sha256)
    path.chmod(0o640)
    path.write_bytes(phone_photo((9, 9, 9), (64, 48)))  # someone swapped the picture
    assert client.get(f"/evidence/{row.id}/thumbnail").status_code == 409
    organisation = db.session.get(Organisation, world.org_id)
    today = distributions.local_today(world.org_id)
    pdf = reports.render_pdf(
        organisation,
        # From yesterday: just after midnight, an incident of an hour ago was yesterday.
        reports.ReportRequest("evidence", today - timedelta(days=1), today),
        datetime.now(UTC),
    )
    last = PdfReader(io.BytesIO(pdf)).pages[-1]
    assert "thumbnail is missing from the store or was altered" in last.extract_text()
    assert pictures_on(last) == []


def test_the_api_makes_thumbnails_and_serves_them_to_those_who_read_incidents(app, world, api):
    coordinator = api("coordinator")
    incident_id = (
        api("warehouse")
        .post(
            "/incidents",
            {
                "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
                "kind": "eviction",
                "area": "Calais",
                "shelters_affected": 12,
            },
        )
        .get_json()["id"]
    )
    photo = phone_photo((200, 30, 30))
    response = coordinator.client.post(
        f"/api/v1/incidents/{incident_id}/evidence",
        data={"file": (io.BytesIO(photo), "from-a-script.jpg"), "request_token": "api-1"},
        headers=coordinator.headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["sha256"] == hashlib.sha256(photo).hexdigest() and body["thumbnail_sha256"]
    thumbnail = coordinator.get(f"/evidence/{body['id']}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert hashlib.sha256(thumbnail.data).hexdigest() == body["thumbnail_sha256"]
    assert_bare_thumbnail(thumbnail.data)
    assert api("warehouse").get(f"/evidence/{body['id']}/thumbnail").status_code == 403


def test_the_report_form_puts_the_essentials_and_save_before_the_rest(app, world, client_as):
    html = client_as("kitchen").get("/incidents/new").get_data(as_text=True)
    save = html.index('id="submit"')
    for essential in ("occurred_at", "kind", "area", "people_affected", "shelters_affected"):
        assert html.index(f'name="{essential}"') < save, essential
    assert html.index('name="photos"') < save
    more = html.index("<summary>More details</summary>")
    assert save < more
    for folded in ("forces_present", "bailiff_present", "witnesses", "description"):
        assert html.index(f'name="{folded}"') > more, folded
    assert 'href="/incidents/mine"' in html
    # Nothing of the report needs a script: the whole form posts as it is.
    assert not inline_script(html)
