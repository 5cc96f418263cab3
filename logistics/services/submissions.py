"""Idempotent submissions: a request token records once, its sender's replay gets the answer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import limits
from ..extensions import db
from ..models import Submission
from .errors import Conflict, ValidationError

MAX_TOKEN_LENGTH = limits.MAX_REQUEST_TOKEN


class TokenConflict(Conflict):
    """The request token was used by someone else, or for another kind of request."""


def run_once(
    organisation_id: int,
    request_token: str | None,
    kind: str,
    produce: Callable[[], dict[str, Any]],
    *,
    user_id: int | None = None,
) -> tuple[dict[str, Any], bool]:
    """Run produce once per token; return (its result, whether this was a replay).

    Only the user who sent a token, for the same kind of request, gets its answer back;
    anyone else is refused (TokenConflict) and nothing runs.
    """
    result, first_recorded_at = run_once_dated(
        organisation_id, request_token, kind, produce, user_id=user_id
    )
    return result, first_recorded_at is not None


def run_once_dated(
    organisation_id: int,
    request_token: str | None,
    kind: str,
    produce: Callable[[], dict[str, Any]],
    *,
    user_id: int | None = None,
) -> tuple[dict[str, Any], datetime | None]:
    """Run produce once per token, as run_once; for a replay, also say when it first ran.

    Return (the result, None) the first time and (the earlier result, when it was recorded)
    for a replay, so the sender can be told what was already saved and at what time.
    """
    token = (request_token or "").strip()
    if not token:
        return produce(), None
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValidationError(
            _l("The request token is too long."),
            {"request_token": f"at most {MAX_TOKEN_LENGTH}"},
        )
    earlier = _find(organisation_id, token)
    if earlier is not None:
        return _replay(earlier, user_id, kind), earlier.created_at
    submission = Submission(
        organisation_id=organisation_id, user_id=user_id, request_token=token, kind=kind
    )
    try:
        # Claim the token first: a concurrent twin waits here, then finds ours.
        with db.session.begin_nested():
            db.session.add(submission)
    except IntegrityError:
        earlier = _find(organisation_id, token)
        if earlier is None:
            raise
        return _replay(earlier, user_id, kind), earlier.created_at
    result = produce()
    submission.result = result
    db.session.flush()
    return result, None


def _replay(earlier: Submission, user_id: int | None, kind: str) -> dict[str, Any]:
    """Return the earlier answer to its own sender, for the same kind of request only."""
    # A row from before 0009 has no sender: nobody can prove it was theirs.
    if earlier.user_id != user_id or earlier.kind != kind:
        raise TokenConflict(
            _l(
                "This request token was already used for another request. "
                "Reload the form and try again; nothing was saved."
            ),
            {"request_token": _l("already used")},
        )
    return earlier.result or {}


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
