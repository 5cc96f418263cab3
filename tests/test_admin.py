"""Member administration: change roles, never demote oneself, stay in one's org.

Invitations, removal and deactivation are in test_accounts.py.
"""

from __future__ import annotations

import re
from html import unescape

from conftest import form_token
from factories import membership_id

from logistics.extensions import db
from logistics.models import Membership, Organisation


def role_of(membership: int) -> str:
    db.session.expire_all()
    return db.session.get(Membership, membership).role


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


def margin_of(world) -> int:
    db.session.expire_all()
    return db.session.get(Organisation, world.org_id).resolve_margin_percent


def test_an_admin_sets_the_resolve_margin_from_0_to_100(client_as, world, other_world) -> None:
    admin = client_as("admin")
    page = admin.get("/members").get_data(as_text=True)
    label = "Resolve alerts only when stock is this much above the need (%)"
    assert label in unescape(page) and margin_of(world) == 10
    assert re.search(r'name="resolve_margin_percent"[^>]*value="10"', page)
    response = admin.post(
        "/members/alert-settings",
        data={"resolve_margin_percent": "25", "request_token": form_token(page)},
    )
    assert response.status_code == 303
    assert margin_of(world) == 25 and margin_of(other_world) == 10
    assert "Alerts now resolve only when stock is 25% above the need." in unescape(
        admin.get("/members").get_data(as_text=True)
    )
    for bad in ("-1", "101", "12.5", "abc", "", "9" * 30):
        refused = admin.post(
            "/members/alert-settings",
            data={"resolve_margin_percent": bad, "request_token": f"margin-{bad}"},
        )
        assert refused.status_code == 422, bad
        text = unescape(refused.get_data(as_text=True))
        assert re.search(r'<div class="error">[^<]+</div>', text), bad
        assert margin_of(world) == 25, bad
    assert "from 0 to 100" in unescape(
        admin.post(
            "/members/alert-settings", data={"resolve_margin_percent": "101", "request_token": "x"}
        ).get_data(as_text=True)
    )
    zero = admin.post(
        "/members/alert-settings", data={"resolve_margin_percent": "0", "request_token": "m-0"}
    )
    assert zero.status_code == 303 and margin_of(world) == 0
    coordinator = client_as("coordinator")
    forbidden = coordinator.post(
        "/members/alert-settings", data={"resolve_margin_percent": "50", "request_token": "m-c"}
    )
    assert forbidden.status_code == 403 and margin_of(world) == 0
