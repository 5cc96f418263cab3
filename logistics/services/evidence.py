"""Evidence files: stored once by SHA-256 outside the web root, checked on the way out."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ..extensions import db
from ..models import Evidence
from .errors import Conflict, NotFound, ValidationError
from .incidents import get_incident

CHUNK = 1024 * 1024
MAX_NAME = 255


@dataclass(frozen=True)
class EvidenceStore:
    """Where evidence lives and what it may be."""

    root: Path
    max_bytes: int
    allowed_types: tuple[str, ...]

    def path_of(self, sha256: str) -> Path:
        """Return where a file with this hash is kept."""
        return self.root / sha256[:2] / sha256


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
    """Store an uploaded file by its hash (once, however often it is sent) and record it."""
    incident = get_incident(organisation_id, incident_id)
    name = os.path.basename((file_name or "").replace("\\", "/")).strip()
    if not name:
        raise ValidationError("Choose a file to upload.", {"file": "required"})
    if len(name) > MAX_NAME:
        raise ValidationError("That file name is too long.", {"file": "name too long"})
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type not in store.allowed_types:
        raise ValidationError(
            f"{name} is a {media_type} file, which is not accepted. Accepted: photos, video, "
            "audio, PDF and text.",
            {"file": "type not allowed"},
        )
    if captured_at is not None and captured_at.tzinfo is None:
        raise ValidationError("Give the capture time with its time zone.", {"captured_at": "tz"})
    sha256, size = _store(store, name, stream)
    evidence = Evidence(
        incident_id=incident.id,
        file_name=name,
        media_type=media_type,
        size_bytes=size,
        sha256=sha256,
        captured_at=captured_at,
        uploaded_by_id=user_id,
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence


def get_evidence(organisation_id: int, evidence_id: int) -> Evidence:
    """Return an evidence record of the organisation or raise NotFound."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound("No such file.")
    get_incident(organisation_id, evidence.incident_id)
    return evidence


def verified_path(store: EvidenceStore, evidence: Evidence) -> Path:
    """Return the stored file's path after proving its bytes still hash to the record."""
    path = store.path_of(evidence.sha256)
    if not path.is_file():
        raise Conflict(f"The stored copy of {evidence.file_name} is missing.")
    if file_sha256(path) != evidence.sha256:
        raise Conflict(
            f"The stored copy of {evidence.file_name} no longer matches its SHA-256: "
            "it has been altered. Do not rely on it."
        )
    return path


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
                        f"{name} is larger than the {limit_mb} MB limit.", {"file": "too large"}
                    )
                digest.update(chunk)
                handle.write(chunk)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    if size == 0:
        temporary.unlink(missing_ok=True)
        raise ValidationError(f"{name} is empty.", {"file": "empty"})
    sha256 = digest.hexdigest()
    target = store.path_of(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        temporary.unlink()
    else:
        os.replace(temporary, target)
        os.chmod(target, 0o440)
    return sha256, size
