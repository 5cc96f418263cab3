"""Organisations, users, memberships, passwords, API tokens and the login throttle."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import delete, select, update
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..i18n import LANGUAGES, clean_language
from ..models import (
    ROLES,
    ApiToken,
    Invitation,
    LoginThrottle,
    Membership,
    Organisation,
    PasswordReset,
    User,
)
from ..models.types import utcnow
from . import signins
from .errors import Conflict, NotFound, ValidationError
from .rows import owned
from .tokens import hash_token, new_secret

MIN_PASSWORD_LENGTH = 8
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_organisation(
    name: str, slug: str, timezone: str = "Europe/Paris", locale: str = "en"
) -> Organisation:
    """Create an organisation with a unique URL-safe slug and its default language."""
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise ValidationError(
            _l("A slug is 3 to 60 lower-case letters, digits or dashes."), {"slug": "invalid"}
        )
    if not name.strip():
        raise ValidationError(_l("Give the organisation a name."), {"name": "required"})
    if timezone not in available_timezones():
        raise ValidationError(
            _l("Unknown time zone %(zone)s; use a name like Europe/Paris.", zone=timezone),
            {"timezone": "unknown"},
        )
    if db.session.scalar(select(Organisation).where(Organisation.slug == slug)):
        raise Conflict(
            _l("An organisation with slug %(slug)s already exists.", slug=slug), {"slug": "taken"}
        )
    organisation = Organisation(
        name=name.strip(), slug=slug, timezone=timezone, locale=_language(locale)
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def organisation_by_slug(slug: str) -> Organisation:
    """Return the organisation with this slug or raise NotFound."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFound(_l("No organisation with slug %(slug)s.", slug=slug))
    return organisation


def set_resolve_margin(organisation_id: int, percent: int) -> Organisation:
    """Set how far above the need stock must be before an alert resolves (0 to 100 %)."""
    if percent is None or not 0 <= percent <= 100:
        raise ValidationError(
            _l("The margin is a whole number from 0 to 100."),
            {"resolve_margin_percent": _l("from 0 to 100")},
        )
    organisation = db.session.get(Organisation, organisation_id)
    organisation.resolve_margin_percent = percent
    db.session.flush()
    return organisation


def set_organisation_language(organisation_id: int, locale: str) -> Organisation:
    """Set the language the organisation's members read unless they chose their own."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_l("No such organisation."))
    organisation.locale = _language(locale)
    db.session.flush()
    return organisation


def set_user_language(user_id: int, locale: str) -> User:
    """Set a member's own language; empty follows the organisation's."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    user.locale = "" if not locale else _language(locale)
    db.session.flush()
    return user


def reading_language(user: User, fallback: str) -> str:
    """Return the language to write to a person in: their own, else their organisation's.

    Their organisation is the one they used last, else their first; with none, fallback.
    """
    own = clean_language(user.locale)
    if own is not None:
        return own
    organisation_id = user.last_organisation_id or next(
        (m.organisation_id for m in user.memberships), None
    )
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    return clean_language(organisation.locale if organisation else None) or fallback


def _language(locale: str) -> str:
    """Return a language we speak or refuse it."""
    language = clean_language(locale)
    if language is None or language != locale.strip().lower():
        raise ValidationError(
            _l("Choose English (en) or French (fr)."), {"locale": "one of: " + ", ".join(LANGUAGES)}
        )
    return language


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
        raise ValidationError(_l("That is not an e-mail address."), {"email": "invalid"})
    user = user_by_email(address)
    if user is None:
        if password is None:
            raise ValidationError(_l("A new user needs a password."), {"password": "required"})
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
            _l("%(email)s is already a member; change their role in the list.", email=address),
            {"email": "already a member"},
        )
    membership = Membership(user_id=user.id, organisation_id=organisation_id, role=role)
    db.session.add(membership)
    db.session.flush()
    return membership


def set_role(organisation_id: int, membership_id: int, role: str, acting_user_id: int) -> None:
    """Change a member's role; an admin cannot demote themselves (someone must stay admin)."""
    _check_role(role)
    membership = member(organisation_id, membership_id)
    if membership.user_id == acting_user_id and role != "admin":
        raise ValidationError(_l("You cannot take away your own admin role."), {"role": "own"})
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
    """Return an organisation's memberships with their users, by e-mail."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(User)
            .options(contains_eager(Membership.user))
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
            lazy_ngettext(
                "Too many failed attempts. Try again in %(num)d minute.",
                "Too many failed attempts. Try again in %(num)d minutes.",
                minutes,
            ),
            {"email": "locked"},
        )
    user = user_by_email(address)
    # Unknown and deactivated addresses cost the same hash work, so timing tells nothing.
    stored = user.password_hash if user else _decoy_hash(_hash_method())
    if check_password_hash(stored, password) and user and user.active:
        if throttle:
            db.session.delete(throttle)
        return user
    _count_failure(address, throttle, now, max_failures, lockout)
    raise LoginRefused(_l("Wrong e-mail or password."), {"password": "wrong"})


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
    token = new_secret()
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
        raise NotFound(_l("No such token."))
    api_token.revoked_at = utcnow()
    db.session.flush()


def revoke_tokens_of(user_id: int) -> None:
    """Revoke a user's live API tokens in every organisation."""
    memberships = select(Membership.id).where(Membership.user_id == user_id)
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.membership_id.in_(memberships), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def change_password(user_id: int, current: str, new: str, *, keep_key: str | None) -> None:
    """Change one's own password; end one's other sign-ins and revoke one's API tokens."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such account."))
    if not check_password_hash(user.password_hash, current):
        raise ValidationError(
            _l("Your current password is not that."), {"current_password": _l("wrong")}
        )
    _replace_password(user, new, keep_key=keep_key)


def set_password(email: str, new: str) -> User:
    """Set a user's password (from the command line); end every sign-in and API token."""
    user = user_by_email(email)
    if user is None:
        raise NotFound(_l("No account with the address %(email)s.", email=email))
    _replace_password(user, new, keep_key=None)
    return user


def _replace_password(user: User, new: str, *, keep_key: str | None) -> None:
    user.password_hash = _hash_password(new)
    signins.end_all(user.id, except_key=keep_key)
    revoke_tokens_of(user.id)
    db.session.flush()


def request_password_reset(email: str, lifetime: timedelta) -> tuple[User, str] | None:
    """Make a single-use reset link for an active account; None when there is none."""
    user = user_by_email(email)
    if user is None or not user.active:
        return None
    token = new_secret()
    now = utcnow()
    db.session.add(
        PasswordReset(
            user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=now + lifetime
        )
    )
    db.session.flush()
    return user, token


def live_reset(token: str) -> PasswordReset:
    """Return the unused, unexpired reset with this token, or raise NotFound."""
    reset = db.session.scalar(
        select(PasswordReset).where(
            PasswordReset.token_hash == hash_token(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > utcnow(),
        )
    )
    if reset is None:
        raise NotFound(_l("This link has expired or was already used. Ask for a new one."))
    return reset


def reset_password(token: str, new: str) -> User:
    """Set a new password through a reset link, once; end every sign-in and API token."""
    reset = live_reset(token)
    user = db.session.get(User, reset.user_id)
    # One update uses up this link and every other one sent earlier: of two links (or two
    # tabs) sent at once, the first claims them all and the second finds none left.
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount == 0 or user is None or not user.active:
        raise NotFound(_l("This link has expired or was already used. Ask for a new one."))
    _replace_password(user, new, keep_key=None)
    return user


def remove_member(organisation_id: int, membership_id: int, acting_user_id: int) -> User:
    """Take someone out of the organisation: membership, its tokens and their sign-ins end."""
    membership = member(organisation_id, membership_id)
    if membership.user_id == acting_user_id:
        raise ValidationError(
            _l("You cannot remove yourself; ask another admin."), {"membership": "own"}
        )
    user = membership.user
    db.session.execute(delete(ApiToken).where(ApiToken.membership_id == membership.id))
    db.session.delete(membership)
    if user.last_organisation_id == organisation_id:
        user.last_organisation_id = None
    signins.end_all(user.id)
    db.session.flush()
    return user


def set_active(organisation_id: int, membership_id: int, active: bool, acting_user_id: int) -> User:
    """Deactivate or reactivate a member's account; only one that belongs nowhere else."""
    membership = member(organisation_id, membership_id)
    if membership.user_id == acting_user_id:
        raise ValidationError(_l("You cannot deactivate yourself."), {"membership": "own"})
    elsewhere = db.session.scalar(
        select(Membership.id).where(
            Membership.user_id == membership.user_id,
            Membership.organisation_id != organisation_id,
        )
    )
    if elsewhere is not None:
        # One organisation's admin must not lock someone out of another organisation.
        raise Conflict(
            _l("This person also belongs to other organisations: remove them from this one."),
            {"membership": "shared"},
        )
    user = membership.user
    user.active = active
    if not active:
        signins.end_all(user.id)
        revoke_tokens_of(user.id)
    db.session.flush()
    return user


def invite(
    organisation_id: int, email: str, role: str, invited_by: int, lifetime: timedelta
) -> tuple[Invitation, str]:
    """Invite an address to join with a role; return the invitation and its link's secret.

    Whether the address already has an account changes nothing here, so the answer
    cannot tell an admin who is registered elsewhere.
    """
    _check_role(role)
    address = normalise_email(email)
    if not EMAIL_PATTERN.match(address):
        raise ValidationError(_l("That is not an e-mail address."), {"email": _l("invalid")})
    already = db.session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation_id, User.email == address)
    )
    if already is not None:
        raise Conflict(
            _l("%(email)s is already a member; change their role in the list.", email=address),
            {"email": _l("already a member")},
        )
    now = utcnow()
    # A new invitation replaces any earlier one to the same address.
    db.session.execute(
        update(Invitation)
        .where(*_pending(now), Invitation.organisation_id == organisation_id)
        .where(Invitation.email == address)
        .values(cancelled_at=now)
    )
    token = new_secret()
    invitation = Invitation(
        organisation_id=organisation_id,
        email=address,
        role=role,
        token_hash=hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def pending_invitations(organisation_id: int, limit: int = 100) -> list[Invitation]:
    """Return the organisation's invitations still waiting for an answer, newest first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(*_pending(utcnow()), Invitation.organisation_id == organisation_id)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(limit)
        )
    )


def cancel_invitation(organisation_id: int, invitation_id: int) -> None:
    """Withdraw a pending invitation; its link stops working."""
    cancelled = db.session.execute(
        update(Invitation)
        .where(
            *_pending(utcnow()),
            Invitation.id == invitation_id,
            Invitation.organisation_id == organisation_id,
        )
        .values(cancelled_at=utcnow())
    )
    if cancelled.rowcount == 0:
        raise NotFound(_l("No such invitation."))


def live_invitation(token: str) -> Invitation:
    """Return the pending invitation with this secret, or raise NotFound."""
    invitation = db.session.scalar(
        select(Invitation).where(*_pending(utcnow()), Invitation.token_hash == hash_token(token))
    )
    if invitation is None:
        raise NotFound(_l("This invitation has expired, was withdrawn or was already used."))
    return invitation


def accept_invitation(token: str, user_id: int) -> Membership:
    """Join the organisation through an invitation to this user's own address."""
    invitation = live_invitation(token)
    user = db.session.get(User, user_id)
    if user is None or user.email != invitation.email:
        raise ValidationError(
            _l(
                "This invitation is for %(email)s. Log in with that address.",
                email=invitation.email,
            ),
            {"email": _l("another address")},
        )
    return _join(invitation, user)


def join_with_invitation(token: str, display_name: str, password: str) -> Membership:
    """Create the invited address's account and join with it."""
    invitation = live_invitation(token)
    if user_by_email(invitation.email) is not None:
        raise Conflict(
            _l("An account with this address exists: log in to accept."), {"email": _l("exists")}
        )
    user = User(
        email=invitation.email,
        password_hash=_hash_password(password),
        display_name=display_name.strip() or invitation.email.split("@")[0],
    )
    db.session.add(user)
    db.session.flush()
    return _join(invitation, user)


def _join(invitation: Invitation, user: User) -> Membership:
    claimed = db.session.execute(
        update(Invitation)
        .where(*_pending(utcnow()), Invitation.id == invitation.id)
        .values(accepted_at=utcnow())
    )
    if claimed.rowcount == 0:
        raise NotFound(_l("This invitation has expired, was withdrawn or was already used."))
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == invitation.organisation_id,
        )
    )
    if membership is None:
        membership = Membership(
            user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role
        )
        db.session.add(membership)
    user.last_organisation_id = invitation.organisation_id
    db.session.flush()
    return membership


def _pending(now: datetime) -> tuple:
    return (
        Invitation.accepted_at.is_(None),
        Invitation.cancelled_at.is_(None),
        Invitation.expires_at > now,
    )


def remember_organisation(user_id: int, organisation_id: int) -> None:
    """Keep the organisation a user works in, to land there at the next login."""
    user = db.session.get(User, user_id)
    if user is not None and user.last_organisation_id != organisation_id:
        user.last_organisation_id = organisation_id
        db.session.flush()


def remember_site(organisation_id: int, user_id: int, site_id: int) -> None:
    """Keep the site a member last recorded stock at: their next stock form starts there."""
    db.session.execute(
        update(Membership)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.user_id == user_id,
            Membership.last_site_id.is_distinct_from(site_id),
        )
        .values(last_site_id=site_id)
        .execution_options(synchronize_session="fetch")
    )


def member(organisation_id: int, membership_id: int) -> Membership:
    """Return one of the organisation's memberships, or raise NotFound."""
    return owned(Membership, organisation_id, membership_id, _l("No such member."))


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


@cache
def _decoy_hash(method: str) -> str:
    """Return a hash of a random password, to check unknown addresses against."""
    return generate_password_hash(new_secret(), method=method)


def _hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _l("A password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
            {"password": _l("too short")},
        )
    return generate_password_hash(password, method=_hash_method())


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(
            _l("Role must be one of: %(roles)s.", roles=", ".join(ROLES)), {"role": "unknown"}
        )
