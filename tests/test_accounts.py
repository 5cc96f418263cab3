"""Accounts that can change and end: sign-ins, passwords, resets, invitations, last organisation."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
from conftest import PASSWORD, api_token, build_world, form_token, login, make_app
from factories import membership_id
from servers import smtp_server
from sqlalchemy import select, update

from logistics.extensions import db
from logistics.models import Membership, PasswordReset, User, UserSession
from logistics.models.types import utcnow
from logistics.services import accounts

NEW_PASSWORD = "cold warehouse 2026"


def _api_status(app, token: str) -> int:
    return app.test_client().get("/api/v1/stock", headers={"Authorization": f"Bearer {token}"})


def _copy_cookies(source, target) -> None:
    for name in ("session", "remember_token"):
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


# --- redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D%0ALocation:%20http://evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
    ],
)
def test_login_never_sends_anyone_off_the_site(app, world, target) -> None:
    client = app.test_client()
    response = client.post(
        f"/login?next={target}", data={"email": world.email("warehouse"), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_a_path_on_this_site(app, world) -> None:
    client = app.test_client()
    response = client.post(
        "/login?next=/distributions%3Fday%3D2026-12-04",
        data={"email": world.email("warehouse"), "password": PASSWORD},
    )
    assert response.headers["Location"] == "/distributions?day=2026-12-04"
    # Already signed in, the login page sends on the same way, and never off the site.
    assert client.get("/login?next=/%09/evil.example").headers["Location"] == "/"


# --- sessions end when they should ---------------------------------------------------------


def test_logout_ends_the_session_on_the_server(app, client_as) -> None:
    phone = client_as("warehouse")
    thief = app.test_client()
    _copy_cookies(phone, thief)
    assert _signed_in(thief)
    phone.post("/logout")
    assert not _signed_in(phone)
    assert not _signed_in(thief)  # the copied cookie died with the sign-in


def test_keep_me_signed_in_survives_a_closed_browser_until_ended(app, world) -> None:
    phone = app.test_client()
    phone.post(
        "/login", data={"email": world.email("warehouse"), "password": PASSWORD, "remember": "y"}
    )
    reopened = app.test_client()
    reopened.set_cookie("remember_token", phone.get_cookie("remember_token").value)
    assert _signed_in(reopened)  # no session cookie: the remember cookie alone signs in
    signin = db.session.scalar(select(UserSession).where(UserSession.remember.is_(True)))
    assert timedelta(days=29) < signin.expires_at - signin.created_at <= timedelta(days=30)

    laptop = app.test_client()
    login(laptop, world.email("warehouse"))
    page = laptop.get("/account").get_data(as_text=True)
    assert page.count("Sign out</button>") == 1  # the phone; not the laptop itself
    laptop.post(f"/account/devices/{signin.id}/end")
    fresh = app.test_client()
    fresh.set_cookie("remember_token", phone.get_cookie("remember_token").value)
    assert not _signed_in(fresh)
    assert _signed_in(laptop)


def test_a_sign_in_without_keep_me_ends_after_its_hours(app, client_as) -> None:
    client = client_as("warehouse")
    db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not _signed_in(client)


def test_someone_cannot_end_another_persons_device(app, client_as, world) -> None:
    client_as("coordinator")
    theirs = db.session.scalar(
        select(UserSession.id).where(UserSession.user_id == world.users["coordinator"])
    )
    assert client_as("warehouse").post(f"/account/devices/{theirs}/end").status_code == 404
    assert db.session.get(UserSession, theirs).ended_at is None


def test_changing_the_password_ends_other_sign_ins_and_api_tokens(app, client_as, world) -> None:
    phone = client_as("warehouse")
    laptop = client_as("warehouse")
    token = api_token(world, "warehouse")
    assert _api_status(app, token).status_code == 200

    wrong = laptop.post(
        "/account/password",
        data={"current_password": "guess", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert "Your current password is not that." in wrong.get_data(as_text=True)
    assert _signed_in(phone)

    changed = laptop.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    assert _signed_in(laptop)  # the device that changed it stays in
    assert not _signed_in(phone)
    assert _api_status(app, token).status_code == 401
    assert login(app.test_client(), world.email("warehouse")).status_code == 401
    assert login(app.test_client(), world.email("warehouse"), NEW_PASSWORD).status_code == 302


def test_removing_a_member_ends_their_sessions_and_tokens_there(app, client_as, world) -> None:
    warehouse = client_as("warehouse")
    token = api_token(world, "warehouse")
    membership = membership_id(world, "warehouse")
    admin = client_as("admin")
    assert admin.post(f"/members/{membership}/remove").status_code == 303
    assert not _signed_in(warehouse)
    assert _api_status(app, token).status_code == 401
    assert db.session.get(Membership, membership) is None
    # They can still log in, but belong to nothing here.
    again = app.test_client()
    login(again, world.email("warehouse"))
    assert again.get("/receive").status_code == 403
    # An admin cannot remove themselves.
    own = membership_id(world, "admin")
    refused = admin.post(f"/members/{own}/remove")
    assert refused.status_code == 422
    assert "You cannot remove yourself" in refused.get_data(as_text=True)


def test_deactivating_an_account_ends_everything_until_reactivated(
    app, client_as, world, other_world
) -> None:
    kitchen = client_as("kitchen")
    token = api_token(world, "kitchen")
    admin = client_as("admin")
    membership = membership_id(world, "kitchen")
    assert admin.post(f"/members/{membership}/deactivate").status_code == 303
    assert not _signed_in(kitchen)
    assert _api_status(app, token).status_code == 401
    assert login(app.test_client(), world.email("kitchen")).status_code == 401
    assert "deactivated" in admin.get("/members").get_data(as_text=True)
    assert admin.post(f"/members/{membership}/reactivate").status_code == 303
    assert login(app.test_client(), world.email("kitchen")).status_code == 302

    # Someone who also belongs elsewhere can only be removed from here.
    accounts.add_member(world.org_id, other_world.email("donor"), "donor")
    db.session.commit()
    shared = membership_id(world, "donor", user_of=other_world)
    refused = admin.post(f"/members/{shared}/deactivate")
    assert refused.status_code == 409
    assert "also belongs to other organisations" in refused.get_data(as_text=True)
    assert login(app.test_client(), other_world.email("donor")).status_code == 302


def test_another_organisations_member_cannot_be_removed_or_deactivated(
    client_as, world, other_world
) -> None:
    admin = client_as("admin")
    theirs = membership_id(other_world, "warehouse")
    for action in ("remove", "deactivate", "reactivate"):
        assert admin.post(f"/members/{theirs}/{action}").status_code == 404
    assert db.session.get(Membership, theirs) is not None


# --- forgotten passwords ---------------------------------------------------------------------


def _links(inbox) -> list[str]:
    return [
        re.search(r"https?://\S+", message.get_payload(decode=True).decode()).group(0)
        for message in inbox.messages
    ]


def test_a_forgotten_password_is_reset_once_by_an_emailed_link(app, client_as, world) -> None:
    signed_in_phone = client_as("coordinator")
    token = api_token(world, "coordinator")
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, BASE_URL="https://aid.example")
        client = app.test_client()
        known = client.post("/password/forgot", data={"email": world.email("coordinator")})
        unknown = client.post("/password/forgot", data={"email": "nobody@example.org"})
    # The same answer either way; one e-mail, to the account's address only.
    assert known.status_code == unknown.status_code == 303
    first, second = (client.get("/login").get_data(as_text=True) for _ in range(2))
    assert "If an account exists for that address" in first
    (mail,) = inbox.messages
    assert mail["To"] == world.email("coordinator")
    (link,) = _links(inbox)
    assert link.startswith("https://aid.example/password/reset/")
    path = link.removeprefix("https://aid.example")

    mismatch = client.post(path, data={"password": NEW_PASSWORD, "confirm": "other words"})
    assert mismatch.status_code == 200 and "The two differ." in mismatch.get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert login(app.test_client(), world.email("coordinator"), NEW_PASSWORD).status_code == 302
    assert not _signed_in(signed_in_phone)
    assert _api_status(app, token).status_code == 401
    # Single use.
    again = client.post(path, data={"password": "third password", "confirm": "third password"})
    assert again.status_code == 404
    assert "expired or was already used" in again.get_data(as_text=True)


def test_a_reset_link_dies_after_an_hour(app, world) -> None:
    found = accounts.request_password_reset(world.email("donor"), timedelta(hours=1))
    reset = db.session.scalar(select(PasswordReset))
    assert timedelta(minutes=59) < reset.expires_at - reset.created_at <= timedelta(hours=1)
    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = app.test_client().get(f"/password/reset/{found[1]}")
    assert page.status_code == 404
    assert login(app.test_client(), world.email("donor")).status_code == 302


# --- invitations -----------------------------------------------------------------------------


def _invite(admin, email: str, role: str = "warehouse"):
    token = form_token(admin.get("/members/new").get_data(as_text=True))
    return admin.post("/members/new", data={"email": email, "role": role, "request_token": token})


def test_a_new_address_joins_by_invitation_and_chooses_a_password(app, client_as, world) -> None:
    admin = client_as("admin")
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        assert _invite(admin, " Amina@Example.org ").status_code == 303
    (mail,) = inbox.messages
    assert mail["To"] == "amina@example.org" and "Calais Aid" in mail["Subject"]
    path = _links(inbox)[0].removeprefix(app.config["BASE_URL"].rstrip("/"))
    members_page = admin.get("/members").get_data(as_text=True)
    assert "amina@example.org" in members_page.split("Invitations waiting")[1]
    assert accounts.user_by_email("amina@example.org") is None  # not a member until accepted

    newcomer = app.test_client()
    page = newcomer.get(path).get_data(as_text=True)
    assert "Join Calais Aid" in page and "Warehouse volunteer" in page
    short = newcomer.post(path, data={"display_name": "Amina", "password": "x", "confirm": "x"})
    assert "at least 8" in short.get_data(as_text=True) or "Field must be" in short.get_data(
        as_text=True
    )
    joined = newcomer.post(
        path, data={"display_name": "Amina", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert joined.status_code == 303
    home = newcomer.get("/").get_data(as_text=True)
    assert "Calais Aid" in home and 'class="badge">Warehouse volunteer' in home
    assert newcomer.get(path).status_code == 404  # used
    assert login(app.test_client(), "amina@example.org", NEW_PASSWORD).status_code == 302


def test_an_existing_account_accepts_by_logging_in_and_keeps_its_password(
    app, client_as, world, other_world
) -> None:
    admin = client_as("admin")
    email = other_world.email("coordinator")
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        answers = []
        for address in (email, "someone.new@example.org"):
            response = _invite(admin, address, "donor")
            page = admin.get(response.headers["Location"]).get_data(as_text=True)
            (flash,) = re.findall(r'class="flash"[^>]*>([^<]*)<', page)
            answers.append((response.status_code, flash.replace(address, "ADDRESS")))
    # The answer does not say whether the address already had an account.
    assert answers[0] == answers[1]
    assert "Invitation sent to ADDRESS" in answers[0][1]
    path = _links(inbox)[0].removeprefix(app.config["BASE_URL"].rstrip("/"))

    user = accounts.user_by_email(email)
    assert {m.organisation_id for m in user.memberships} == {other_world.org_id}
    stranger = client_as("warehouse")  # signed in, but as somebody else
    assert "This invitation is for" in stranger.get(path).get_data(as_text=True)
    assert stranger.post(path).status_code == 200
    anonymous = app.test_client()
    assert "Log in as" in anonymous.get(path).get_data(as_text=True)
    # A password cannot be set for an address that has an account.
    anonymous.post(path, data={"display_name": "X", "password": "taken over", "confirm": "x"})
    assert login(app.test_client(), email, "taken over").status_code == 401

    invited = app.test_client()
    assert login(invited, email).status_code == 302
    assert invited.post(path).status_code == 303
    db.session.expire_all()
    roles = {m.organisation_id: m.role for m in accounts.user_by_email(email).memberships}
    assert roles == {other_world.org_id: "coordinator", world.org_id: "donor"}
    assert "Calais Aid" in invited.get("/").get_data(as_text=True)


def test_a_withdrawn_invitation_no_longer_works(app, client_as, world) -> None:
    admin = client_as("admin")
    invitation, token = accounts.invite(
        world.org_id, "late@example.org", "donor", world.users["admin"], timedelta(days=7)
    )
    db.session.commit()
    assert admin.post(f"/members/invitations/{invitation.id}/cancel").status_code == 303
    assert app.test_client().get(f"/invitations/{token}").status_code == 404
    other = build_world("Paris Solidarity", "paris-solidarity")
    theirs, _secret = accounts.invite(
        other.org_id, "x@example.org", "donor", other.users["admin"], timedelta(days=7)
    )
    db.session.commit()
    assert admin.post(f"/members/invitations/{theirs.id}/cancel").status_code == 404


def test_inviting_a_member_again_says_so(client_as, world) -> None:
    response = _invite(client_as("admin"), world.email("kitchen"))
    assert response.status_code == 200 and "already a member" in response.get_data(as_text=True)


# --- the organisation used last ----------------------------------------------------------------


def test_login_lands_in_the_organisation_used_last(app, world, other_world) -> None:
    accounts.add_member(other_world.org_id, world.email("warehouse"), "donor")
    db.session.commit()
    client = app.test_client()
    login(client, world.email("warehouse"))
    client.post(f"/switch/{other_world.org_id}")
    client.post("/logout")
    login(client, world.email("warehouse"))
    assert "Paris Solidarity" in client.get("/").get_data(as_text=True)
    assert db.session.get(User, world.users["warehouse"]).last_organisation_id == (
        other_world.org_id
    )


# --- login timing --------------------------------------------------------------------------------


def test_unknown_addresses_cost_the_same_hash_work(database_url, tmp_path) -> None:
    # A deliberately slow hash makes the work visible above the noise of a request.
    app = make_app(database_url, tmp_path, PASSWORD_HASH_METHOD="pbkdf2:sha256:400000")
    with app.app_context():
        world = build_world("Calais Aid", "calais-aid")
        client = app.test_client()

        def median_seconds(email: str) -> float:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                assert login(client, email, "not the password").status_code == 401
                times.append(time.perf_counter() - started)
            return statistics.median(times)

        median_seconds("warm-up@example.org")
        known = median_seconds(world.email("warehouse"))
        unknown = median_seconds("nobody@example.org")
        db.session.remove()
        db.engine.dispose()
    assert unknown > 0.5 * known, (known, unknown)


def test_set_password_from_the_command_line_ends_sign_ins_and_tokens(app, client_as, world):
    phone = client_as("kitchen")
    token = api_token(world, "kitchen")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-password", world.email("kitchen")], input="short\n")
    assert result.exit_code == 1 and "at least 8 characters" in result.output
    assert _signed_in(phone)
    result = runner.invoke(args=["set-password", world.email("kitchen")], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert not _signed_in(phone)
    assert _api_status(app, token).status_code == 401
    assert login(app.test_client(), world.email("kitchen"), NEW_PASSWORD).status_code == 302
    result = runner.invoke(args=["set-password", "nobody@example.org", "--password", "x" * 9])
    assert result.exit_code == 1 and "No account with the address" in result.output
