"""Who is asking: the logged-in user or API token, their membership, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request, session
from flask_login import current_user, login_user
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from .database import reset_write_intent, set_write_intent, write_intent
from .extensions import db, login_manager
from .models import Membership, User, UserSession
from .models.types import utcnow
from .permissions import can
from .services import accounts, signins

F = TypeVar("F", bound=Callable[..., Any])
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# How stale "last seen" on the devices list may get before a request writes it again.
LAST_SEEN_EVERY = timedelta(minutes=10)


def init_app(app: Flask) -> None:
    """Wire the login manager and the per-request membership."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(key: str) -> User | None:
        # Flask-Login keeps the sign-in's key (User.get_id), in the session and the
        # remember cookie alike: a sign-in ended on the server ends every copy of it.
        found = signins.live_by_key(key)
        if found is None:
            return None
        signin, user = found
        user.session_key = key
        user.session_id = signin.id
        if signins.is_stale(signin.last_seen_at, LAST_SEEN_EVERY):
            _note_seen(signin.id)
        return user

    @app.before_request
    def _mark_writes() -> None:
        # Requests that change things take the SQLite write lock when they begin.
        g._write_intent_token = set_write_intent(request.method in UNSAFE_METHODS)

    @app.teardown_request
    def _unmark_writes(_exc: BaseException | None) -> None:
        token = g.pop("_write_intent_token", None)
        if token is not None:
            reset_write_intent(token)


def sign_in(user: User, *, remember: bool) -> None:
    """Start a sign-in for this browser: a fresh session, in the organisation used last."""
    config = current_app.config
    lifetime = (
        timedelta(days=config["REMEMBER_DAYS"])
        if remember
        else timedelta(hours=config["SESSION_HOURS"])
    )
    user.session_key = signins.start(
        user.id,
        lifetime=lifetime,
        remember=remember,
        user_agent=request.headers.get("User-Agent", ""),
    )
    session.clear()
    if user.last_organisation_id is not None:
        session["organisation_id"] = user.last_organisation_id
    login_user(user, remember=remember, duration=lifetime)


def _note_seen(session_id: int) -> None:
    """Write a sign-in's last-seen time in a short transaction of its own.

    A reading request must not turn its own transaction into a writer (on SQLite that can
    fail at once); missing one update only makes "last seen" a little older.
    """
    touch = update(UserSession).where(UserSession.id == session_id).values(last_seen_at=utcnow())
    if request.method in UNSAFE_METHODS:
        # This request is a writer already (and on SQLite holds the lock a second
        # connection would wait for): the update rides in the request's transaction.
        db.session.execute(touch)
        return
    try:
        with write_intent(), db.engine.begin() as connection:
            connection.execute(touch)
    except OperationalError:
        current_app.logger.info("Could not note sign-in %s as seen; will try later.", session_id)


def current_membership() -> Membership | None:
    """Return the membership this request acts through (token, or the chosen organisation)."""
    if "membership" in g:
        return g.membership
    membership = None
    if current_user.is_authenticated:
        memberships = accounts.memberships_of(current_user.id)
        chosen = session.get("organisation_id", current_user.last_organisation_id)
        membership = next(
            (m for m in memberships if m.organisation_id == chosen),
            memberships[0] if memberships else None,
        )
    g.membership = membership
    return membership


def current_org_id() -> int:
    """Return the organisation id of the current membership (a view already checked it)."""
    membership = current_membership()
    assert membership is not None
    return membership.organisation_id


def current_user_id() -> int:
    """Return the id of the user acting through the current membership (a view checked it)."""
    membership = current_membership()
    assert membership is not None
    return membership.user_id


def current_role() -> str | None:
    """Return the role of the current membership, if any."""
    membership = current_membership()
    return membership.role if membership else None


def mark_required(view: F, capability: str) -> F:
    """Record on a view the capability it requires, for required_capability to tell."""
    view.required_capability = capability  # type: ignore[attr-defined]
    return view


def required_capability(view: Callable[..., Any]) -> str | None:
    """Return the capability a view requires (requires or the API's check), or None."""
    return getattr(view, "required_capability", None)


def requires(capability: str) -> Callable[[F], F]:
    """Let a page through only for a logged-in member whose role has the capability."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_membership() is None:
                abort(403)
            if not can(current_role(), capability):
                abort(403)
            return view(*args, **kwargs)

        return mark_required(wrapped, capability)  # type: ignore[return-value]

    return decorator
