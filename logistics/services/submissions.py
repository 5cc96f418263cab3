"""Idempotent submissions: a request token records once, a replay gets the first answer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Submission
from .errors import ValidationError

MAX_TOKEN_LENGTH = 100


def run_once(
    organisation_id: int,
    request_token: str | None,
    kind: str,
    produce: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Run produce once per token; return (its result, whether this was a replay)."""
    token = (request_token or "").strip()
    if not token:
        return produce(), False
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValidationError(
            "The request token is too long.", {"request_token": f"at most {MAX_TOKEN_LENGTH}"}
        )
    earlier = _find(organisation_id, token)
    if earlier is not None:
        return earlier.result or {}, True
    submission = Submission(organisation_id=organisation_id, request_token=token, kind=kind)
    try:
        # Claim the token first: a concurrent twin waits here, then finds ours.
        with db.session.begin_nested():
            db.session.add(submission)
    except IntegrityError:
        earlier = _find(organisation_id, token)
        return (earlier.result if earlier else None) or {}, True
    result = produce()
    submission.result = result
    db.session.flush()
    return result, False


def _find(organisation_id: int, token: str) -> Submission | None:
    return db.session.scalar(
        select(Submission).where(
            Submission.organisation_id == organisation_id,
            Submission.request_token == token,
        )
    )


def fresh_if_used(organisation_id: int, request_token: str | None) -> str:
    """Return this request token, or a new one if it has already recorded something."""
    token = (request_token or "").strip()
    if token and _find(organisation_id, token) is None:
        return token
    return uuid.uuid4().hex
