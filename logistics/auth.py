"""Who is asking: the logged-in user or API token, their membership, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, request, session
from flask_login import current_user

from .database import reset_write_intent, set_write_intent
from .extensions import db, login_manager
from .models import Membership, User
from .permissions import can
from .services import accounts

F = TypeVar("F", bound=Callable[..., Any])
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    """Wire the login manager and the per-request membership."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    @app.before_request
    def _mark_writes() -> None:
        # Requests that change things take the SQLite write lock when they begin.
        g._write_intent_token = set_write_intent(request.method in UNSAFE_METHODS)

    @app.teardown_request
    def _unmark_writes(_exc: BaseException | None) -> None:
        token = g.pop("_write_intent_token", None)
        if token is not None:
            reset_write_intent(token)


def current_membership() -> Membership | None:
    """Return the membership this request acts through (token, or the chosen organisation)."""
    if "membership" in g:
        return g.membership
    membership = None
    if current_user.is_authenticated:
        memberships = accounts.memberships_of(current_user.id)
        chosen = session.get("organisation_id")
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


def current_role() -> str | None:
    """Return the role of the current membership, if any."""
    membership = current_membership()
    return membership.role if membership else None


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

        return wrapped  # type: ignore[return-value]

    return decorator
