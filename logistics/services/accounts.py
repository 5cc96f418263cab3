"""Organisations, users, memberships, API tokens and the login throttle."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ROLES, ApiToken, LoginThrottle, Membership, Organisation, User
from ..models.types import utcnow
from .errors import Conflict, NotFound, ValidationError

MIN_PASSWORD_LENGTH = 8
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_organisation(name: str, slug: str, timezone: str = "Europe/Paris") -> Organisation:
    """Create an organisation with a unique URL-safe slug."""
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            "A slug is 3 to 60 lower-case letters, digits or dashes.", {"slug": "invalid"}
        )
    if not name.strip():
        raise ValidationError("Give the organisation a name.", {"name": "required"})
    if timezone not in available_timezones():
        raise ValidationError(
            f"Unknown time zone {timezone}; use a name like Europe/Paris.", {"timezone": "unknown"}
        )
    if db.session.scalar(select(Organisation).where(Organisation.slug == slug)):
        raise Conflict(f"An organisation with slug {slug} already exists.", {"slug": "taken"})
    organisation = Organisation(name=name.strip(), slug=slug, timezone=timezone)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def organisation_by_slug(slug: str) -> Organisation:
    """Return the organisation with this slug or raise NotFound."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFound(f"No organisation with slug {slug}.")
    return organisation


def organisation_zone(organisation_id: int) -> ZoneInfo:
    """Return the organisation's time zone."""
    organisation = db.session.get(Organisation, organisation_id)
    return ZoneInfo(organisation.timezone if organisation else "Europe/Paris")


def normalise_email(email: str) -> str:
    """Return the e-mail address as stored: trimmed, lower case."""
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    """Return the user with this e-mail address, if any."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def add_member(
    organisation_id: int,
    email: str,
    role: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
) -> Membership:
    """Add a user to an organisation with a role, creating the user when new.

    An existing user keeps their password and name: one organisation's admin must
    not be able to take over an account that also belongs elsewhere.
    """
    _check_role(role)
    address = normalise_email(email)
    if not EMAIL_PATTERN.match(address):
        raise ValidationError("That is not an e-mail address.", {"email": "invalid"})
    user = user_by_email(address)
    if user is None:
        if password is None:
            raise ValidationError("A new user needs a password.", {"password": "required"})
        user = User(
            email=address,
            password_hash=_hash_password(password),
            display_name=(display_name or address.split("@")[0]).strip(),
        )
        db.session.add(user)
        db.session.flush()
    already = db.session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation_id
        )
    )
    if already is not None:
        # Re-adding must not quietly change a role (an admin could demote themselves).
        raise Conflict(
            f"{address} is already a member; change their role in the list.",
            {"email": "already a member"},
        )
    membership = Membership(user_id=user.id, organisation_id=organisation_id, role=role)
    db.session.add(membership)
    db.session.flush()
    return membership


def set_role(organisation_id: int, membership_id: int, role: str, acting_user_id: int) -> None:
    """Change a member's role; an admin cannot demote themselves (someone must stay admin)."""
    _check_role(role)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation_id:
        raise NotFound("No such member.")
    if membership.user_id == acting_user_id and role != "admin":
        raise ValidationError("You cannot take away your own admin role.", {"role": "own"})
    membership.role = role
    db.session.flush()


def memberships_of(user_id: int) -> list[Membership]:
    """Return a user's memberships, by organisation name."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(Organisation)
            .where(Membership.user_id == user_id)
            .order_by(Organisation.name)
        )
    )


def members(organisation_id: int) -> list[Membership]:
    """Return an organisation's memberships, by e-mail."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(User)
            .where(Membership.organisation_id == organisation_id)
            .order_by(User.email)
        )
    )


class LoginRefused(ValidationError):
    """Wrong credentials, or too many recent failures."""


def authenticate(email: str, password: str, *, max_failures: int, lockout: timedelta) -> User:
    """Return the user for these credentials; slow down repeated failures per address."""
    address = normalise_email(email)
    now = utcnow()
    throttle = db.session.get(LoginThrottle, address)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        minutes = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
        raise LoginRefused(
            f"Too many failed attempts. Try again in {minutes} minutes.", {"email": "locked"}
        )
    user = user_by_email(address)
    if user and user.active and check_password_hash(user.password_hash, password):
        if throttle:
            db.session.delete(throttle)
        return user
    _count_failure(address, throttle, now, max_failures, lockout)
    raise LoginRefused("Wrong e-mail or password.", {"password": "wrong"})


def _count_failure(
    address: str,
    throttle: LoginThrottle | None,
    now: datetime,
    max_failures: int,
    lockout: timedelta,
) -> None:
    if throttle is None:
        throttle = LoginThrottle(email=address, failures=0, window_started_at=now)
        db.session.add(throttle)
    if now - throttle.window_started_at > lockout:
        throttle.failures = 0
        throttle.window_started_at = now
    throttle.failures += 1
    if throttle.failures >= max_failures:
        throttle.locked_until = now + lockout
        throttle.failures = 0
        throttle.window_started_at = now
    db.session.flush()


def create_token(membership_id: int, label: str = "") -> str:
    """Create an API token for a membership; return it (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(membership_id=membership_id, token_hash=hash_token(token), label=label.strip())
    )
    db.session.flush()
    return token


def membership_for_token(token: str) -> Membership | None:
    """Return the membership a live token speaks for."""
    api_token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if api_token is None or not api_token.membership.user.active:
        return None
    return api_token.membership


def tokens_of(membership_id: int) -> list[ApiToken]:
    """Return a membership's live tokens."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.membership_id == membership_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at)
        )
    )


def revoke_token(membership_id: int, token_id: int) -> None:
    """Revoke one of a membership's tokens."""
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None or api_token.membership_id != membership_id:
        raise NotFound("No such token.")
    api_token.revoked_at = utcnow()
    db.session.flush()


def hash_token(token: str) -> str:
    """Return the SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
            {"password": "too short"},
        )
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(f"Role must be one of: {', '.join(ROLES)}.", {"role": "unknown"})
