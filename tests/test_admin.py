"""Member administration: add members, change roles, never demote oneself, stay in one's org."""

from __future__ import annotations

from conftest import PASSWORD, form_token, login
from sqlalchemy import select

from logistics.extensions import db
from logistics.models import Membership
from logistics.services import accounts


def membership_id(world, role: str) -> int:
    return db.session.scalar(
        select(Membership.id).where(
            Membership.organisation_id == world.org_id,
            Membership.user_id == world.users[role],
        )
    )


def role_of(membership: int) -> str:
    db.session.expire_all()
    return db.session.get(Membership, membership).role


def test_admin_adds_a_member_who_can_log_in(app, client_as, world) -> None:
    admin = client_as("admin")
    page = admin.get("/members").get_data(as_text=True)
    assert world.email("kitchen") in page and "Warehouse volunteer" in page
    data = {
        "request_token": form_token(admin.get("/members/new").get_data(as_text=True)),
        "email": " Amina@Example.org ",
        "display_name": "Amina",
        "role": "warehouse",
        "password": "night shift 2024",
    }
    assert admin.post("/members/new", data=data).status_code == 302
    assert admin.post("/members/new", data=data).status_code == 302  # sent twice
    assert "amina@example.org" in admin.get("/members").get_data(as_text=True)

    newcomer = app.test_client()
    assert login(newcomer, "amina@example.org", "night shift 2024").status_code == 302
    home = newcomer.get("/").get_data(as_text=True)
    assert "Calais Aid" in home and 'class="badge">warehouse' in home
    assert newcomer.get("/members").status_code == 403


def test_a_new_member_needs_a_good_password(client_as, world) -> None:
    admin = client_as("admin")
    token = form_token(admin.get("/members/new").get_data(as_text=True))
    base = {"request_token": token, "email": "sam@example.org", "role": "donor"}
    for password in ("", "short"):
        response = admin.post("/members/new", data={**base, "password": password})
        assert response.status_code == 200
        assert 'class="error"' in response.get_data(as_text=True)
    assert accounts.user_by_email("sam@example.org") is None


def test_an_existing_user_is_added_without_touching_their_account(
    app, client_as, world, other_world
) -> None:
    admin = client_as("admin")
    email = other_world.email("coordinator")
    data = {
        "request_token": form_token(admin.get("/members/new").get_data(as_text=True)),
        "email": email,
        "display_name": "Renamed",
        "role": "donor",
        "password": "taken over now",
    }
    assert admin.post("/members/new", data=data).status_code == 302
    user = accounts.user_by_email(email)
    roles = {m.organisation_id: m.role for m in user.memberships}
    assert roles == {other_world.org_id: "coordinator", world.org_id: "donor"}
    assert user.display_name != "Renamed"
    assert login(app.test_client(), email, "taken over now").status_code == 401
    assert login(app.test_client(), email, PASSWORD).status_code == 302


def test_admin_changes_a_role_but_never_their_own(client_as, world) -> None:
    admin = client_as("admin")
    warehouse = membership_id(world, "warehouse")
    response = admin.post(f"/members/{warehouse}/role", data={"role": "coordinator"})
    assert response.status_code == 303
    assert role_of(warehouse) == "coordinator"

    own = membership_id(world, "admin")
    refused = admin.post(f"/members/{own}/role", data={"role": "donor"})
    assert refused.status_code == 422
    assert "You cannot take away your own admin role." in refused.get_data(as_text=True)
    # Re-adding oneself with another role is no way round it.
    data = {
        "request_token": form_token(admin.get("/members/new").get_data(as_text=True)),
        "email": world.email("admin"),
        "role": "donor",
    }
    again = admin.post("/members/new", data=data)
    assert again.status_code == 200 and "already a member" in again.get_data(as_text=True)
    assert role_of(own) == "admin"


def test_only_admins_manage_members(client_as, world) -> None:
    coordinator = client_as("coordinator")
    donor = membership_id(world, "donor")
    assert coordinator.get("/members").status_code == 403
    assert coordinator.get("/members/new").status_code == 403
    assert coordinator.post(f"/members/{donor}/role", data={"role": "admin"}).status_code == 403
    assert role_of(donor) == "donor"


def test_another_organisations_membership_is_not_found(client_as, world, other_world) -> None:
    admin = client_as("admin")
    theirs = membership_id(other_world, "warehouse")
    assert admin.post(f"/members/{theirs}/role", data={"role": "admin"}).status_code == 404
    assert role_of(theirs) == "warehouse"
    assert other_world.email("warehouse") not in admin.get("/members").get_data(as_text=True)
