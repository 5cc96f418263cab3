"""Sign-ins: one row per signed-in browser or phone, so that any of them can be ended."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db
from ..models import User, UserSession
from ..models.types import utcnow
from .errors import NotFound
from .tokens import hash_token, new_secret

USER_AGENT_LENGTH = 200


def start(user_id: int, *, lifetime: timedelta, remember: bool, user_agent: str = "") -> str:
    """Record a new sign-in; return its key (only the hash is kept)."""
    key = new_secret()
    now = utcnow()
    db.session.add(
        UserSession(
            user_id=user_id,
            key_hash=hash_token(key),
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
            remember=remember,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.flush()
    return key


def live_by_key(key: str) -> tuple[UserSession, User] | None:
    """Return the live sign-in with this key and its active user, if there is one."""
    row = db.session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.key_hash == hash_token(key),
            UserSession.ended_at.is_(None),
            UserSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    ).first()
    return (row[0], row[1]) if row else None


def end_by_key(key: str) -> None:
    """End the sign-in with this key (logging out)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.key_hash == hash_token(key), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end(user_id: int, session_id: int) -> None:
    """End one of a user's own sign-ins."""
    ended = db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
    )
    if ended.rowcount == 0:
        raise NotFound(_l("No such sign-in."))


def end_all(user_id: int, *, except_key: str | None = None) -> None:
    """End every sign-in of a user, but the one with except_key when given."""
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if except_key:
        query = query.where(UserSession.key_hash != hash_token(except_key))
    db.session.execute(query.values(ended_at=utcnow()))


def live_of(user_id: int, limit: int = 50) -> list[UserSession]:
    """Return a user's live sign-ins, most recently seen first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.expires_at > utcnow(),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
            .limit(limit)
        )
    )


def is_stale(last_seen_at: datetime, every: timedelta) -> bool:
    """Tell whether a sign-in's last-seen time is old enough to be written again."""
    return utcnow() - last_seen_at >= every
