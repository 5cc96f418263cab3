"""Evidence files: stored once by SHA-256 outside the web root, checked on the way out.

A photo also gets a thumbnail (services.thumbnails), kept in the same store by its own hash.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Evidence
from . import thumbnails
from .errors import Conflict, NotFound, ValidationError
from .incidents import get_incident, readable_incident

CHUNK = 1024 * 1024
MAX_NAME = 255
# Files one submission may carry: a report's photos, or what is added to it later.
MAX_FILES = 10


@dataclass(frozen=True)
class EvidenceStore:
    """Where evidence lives and what it may be."""

    root: Path
    max_bytes: int
    allowed_types: tuple[str, ...]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EvidenceStore:
        """Return the store the app's settings describe."""
        return cls(
            Path(config["EVIDENCE_DIR"]),
            config["EVIDENCE_MAX_BYTES"],
            tuple(config["EVIDENCE_TYPES"]),
        )

    def path_of(self, sha256: str) -> Path:
        """Return where a file with this hash is kept."""
        return self.root / sha256[:2] / sha256


@dataclass(frozen=True)
class Upload:
    """A file as it arrives: the name the sender gave it and its bytes."""

    file_name: str
    stream: BinaryIO


def add_evidence(
    store: EvidenceStore,
    organisation_id: int,
    user_id: int | None,
    incident_id: int,
    *,
    file_name: str,
    stream: BinaryIO,
    captured_at: datetime | None = None,
) -> Evidence:
    """Store an uploaded file by its hash (once, however often it is sent) and record it.

    A photo Pillow can read gets a metadata-free thumbnail; any other file is kept without one.
    """
    incident = get_incident(organisation_id, incident_id)
    name, media_type = _checked(store, file_name)
    if captured_at is not None and captured_at.tzinfo is None:
        raise ValidationError(
            _l("Give the capture time with its time zone."), {"captured_at": "tz"}
        )
    if stream.seekable():
        stream.seek(0)  # a submission run again after a database race reads the file again
    sha256, size = _store(store, name, stream)
    evidence = Evidence(
        incident_id=incident.id,
        file_name=name,
        media_type=media_type,
        size_bytes=size,
        sha256=sha256,
        thumbnail_sha256=_thumbnail(store, sha256, media_type),
        captured_at=captured_at,
        uploaded_by_id=user_id,
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence


def add_files(
    store: EvidenceStore,
    organisation_id: int,
    user_id: int | None,
    incident_id: int,
    files: Sequence[Upload],
    *,
    captured_at: datetime | None = None,
    field: str = "file",
) -> list[Evidence]:
    """Store several files for an incident, all or none; names and types are checked first."""
    if len(files) > MAX_FILES:
        raise ValidationError(
            _l(
                "Send at most %(most)s files at once (%(sent)s chosen); add the rest after.",
                most=MAX_FILES,
                sent=len(files),
            ),
            {field: _l("too many files")},
        )
    for upload in files:
        _checked(store, upload.file_name, field)
    return [
        add_evidence(
            store,
            organisation_id,
            user_id,
            incident_id,
            file_name=upload.file_name,
            stream=upload.stream,
            captured_at=captured_at,
        )
        for upload in files
    ]


def get_evidence(organisation_id: int, evidence_id: int) -> Evidence:
    """Return an evidence record of the organisation or raise NotFound."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(_l("No such file."))
    get_incident(organisation_id, evidence.incident_id)
    return evidence


def readable_evidence(
    organisation_id: int, evidence_id: int, reader_id: int, *, reads_all: bool
) -> Evidence:
    """Return an evidence record this reader may open, or raise NotFound.

    Those who read every incident open every file; a reporter opens only the files they added
    to an incident they reported (incidents.readable_incident).
    """
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or not (reads_all or evidence.uploaded_by_id == reader_id):
        raise NotFound(_l("No such file."))
    readable_incident(organisation_id, evidence.incident_id, reader_id, reads_all=reads_all)
    return evidence


def shown_evidence(incident_id: int, reader_id: int, *, reads_all: bool) -> list[Evidence]:
    """Return an incident's files this reader may see, oldest first."""
    query = select(Evidence).where(Evidence.incident_id == incident_id)
    if not reads_all:
        query = query.where(Evidence.uploaded_by_id == reader_id)
    return list(db.session.scalars(query.order_by(Evidence.id)))


def verified_path(store: EvidenceStore, evidence: Evidence) -> Path:
    """Return the stored file's path after proving its bytes still hash to the record."""
    return _verified(store, evidence.sha256, evidence.file_name)


def thumbnail_path(store: EvidenceStore, evidence: Evidence) -> Path:
    """Return the stored thumbnail's path, proven against its hash; NotFound if it has none."""
    if evidence.thumbnail_sha256 is None:
        raise NotFound(_l("%(name)s has no thumbnail.", name=evidence.file_name))
    return _verified(store, evidence.thumbnail_sha256, evidence.file_name)


def configured_store() -> EvidenceStore:
    """Return the evidence store of the running app (a request or a job of the app)."""
    return EvidenceStore.from_config(current_app.config)


def picture_lookup(store: EvidenceStore) -> Callable[[str], Path | None]:
    """Return a finder of thumbnails by hash for the evidence report: only intact files."""

    def find(sha256: str) -> Path | None:
        path = store.path_of(sha256)
        return path if path.is_file() and file_sha256(path) == sha256 else None

    return find


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _checked(store: EvidenceStore, file_name: str, field: str = "file") -> tuple[str, str]:
    """Return the file's bare name and media type, or refuse a name or type not accepted."""
    name = os.path.basename((file_name or "").replace("\\", "/")).strip()
    if not name:
        raise ValidationError(_l("Choose a file to upload."), {field: _l("required")})
    if len(name) > MAX_NAME:
        raise ValidationError(_l("That file name is too long."), {field: _l("name too long")})
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type not in store.allowed_types:
        raise ValidationError(
            _l(
                "%(name)s is a %(type)s file, which is not accepted. Accepted: photos, video, "
                "audio, PDF and text.",
                name=name,
                type=media_type,
            ),
            {field: _l("type not allowed")},
        )
    return name, media_type


def _thumbnail(store: EvidenceStore, sha256: str, media_type: str) -> str | None:
    """Make and keep a photo's thumbnail by its own hash; None for other or unreadable files."""
    if media_type not in thumbnails.MEDIA_TYPES:
        return None
    picture = thumbnails.make_thumbnail(store.path_of(sha256))
    if picture is None:
        return None
    return _store(store, "thumbnail", io.BytesIO(picture))[0]


def _verified(store: EvidenceStore, sha256: str, file_name: str) -> Path:
    path = store.path_of(sha256)
    if not path.is_file():
        raise Conflict(_l("The stored copy of %(name)s is missing.", name=file_name))
    if file_sha256(path) != sha256:
        raise Conflict(
            _l(
                "The stored copy of %(name)s no longer matches its SHA-256: it has been "
                "altered. Do not rely on it.",
                name=file_name,
            )
        )
    return path


def _store(store: EvidenceStore, name: str, stream: BinaryIO) -> tuple[str, int]:
    """Copy the stream to a temporary file while hashing; keep it under its hash."""
    limit_mb = store.max_bytes // (1024 * 1024)
    store.root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=store.root, prefix=".upload-", delete=False) as handle:
        temporary = Path(handle.name)
        try:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > store.max_bytes:
                    raise ValidationError(
                        _l("%(name)s is larger than the %(mb)s MB limit.", name=name, mb=limit_mb),
                        {"file": _l("too large")},
                    )
                digest.update(chunk)
                handle.write(chunk)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    if size == 0:
        temporary.unlink(missing_ok=True)
        raise ValidationError(_l("%(name)s is empty.", name=name), {"file": _l("empty")})
    sha256 = digest.hexdigest()
    target = store.path_of(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        temporary.unlink()
    else:
        os.replace(temporary, target)
        os.chmod(target, 0o440)
    return sha256, size
