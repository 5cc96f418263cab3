"""Logging in and out, the login throttle, switching organisation, roles and CSRF."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, login, make_app

from logistics.extensions import db
from logistics.services import accounts


def test_login_and_logout(app, world):
    client = app.test_client()
    assert client.get("/").status_code == 302  # to the login page
    response = login(client, world.email("warehouse"))
    assert response.status_code == 302
    assert "Calais Aid" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_plainly(app, world):
    response = login(app.test_client(), world.email("warehouse"), "not the password")
    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_repeated_failures_lock_the_address_for_a_while(app, world):
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, world.email("coordinator"), "guess")
    # Even the right password is refused while locked.
    response = login(client, world.email("coordinator"), PASSWORD)
    assert response.status_code == 401
    assert "Too many failed attempts. Try again in 15 minutes." in response.get_data(as_text=True)
    # Other addresses are not affected.
    assert login(client, world.email("warehouse")).status_code == 302


def test_a_user_in_two_organisations_switches_between_them(app, world, other_world):
    accounts.add_member(other_world.org_id, world.email("warehouse"), "donor")
    db.session.commit()
    client = app.test_client()
    login(client, world.email("warehouse"))
    assert "Calais Aid" in client.get("/").get_data(as_text=True)
    client.post(f"/switch/{other_world.org_id}")
    page = client.get("/").get_data(as_text=True)
    assert "Paris Solidarity" in page
    assert client.get("/receive").status_code == 403  # a donor there


def test_switching_to_an_organisation_one_is_not_in_changes_nothing(app, world, other_world):
    client = app.test_client()
    login(client, world.email("warehouse"))
    client.post(f"/switch/{other_world.org_id}")
    assert "Calais Aid" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "may_record", "may_reverse"),
    [
        ("admin", True, True),
        ("coordinator", True, True),
        ("warehouse", True, True),
        ("kitchen", True, False),
        ("donor", False, False),
    ],
)
def test_roles_on_stock_pages(client_as, role, may_record, may_reverse, world):
    client = client_as(role)
    assert client.get("/").status_code == 200
    assert (client.get("/receive").status_code == 200) is may_record
    assert (client.get("/ledger").status_code == 200) is may_record
    response = client.post(
        "/receive",
        data={
            "item": "Blanket",
            "quantity": 5,
            "site_id": world.sites["main"],
            "kind": "donation",
            "request_token": f"t-{role}",
        },
    )
    assert (response.status_code == 302) is may_record
    assert (client.get("/movements/1/reverse").status_code == 200) is may_reverse


def test_csrf_is_enforced_on_forms(database_url, tmp_path):
    app = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from conftest import build_world

        world = build_world("Calais Aid", "calais-aid")
        client = app.test_client()
        # Without the token the login form is refused, and no session starts.
        response = client.post(
            "/login", data={"email": world.email("warehouse"), "password": PASSWORD}
        )
        assert response.status_code == 400
        assert client.get("/").status_code == 302
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={"email": world.email("warehouse"), "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        response = client.post(
            "/receive",
            data={"item": "Blanket", "quantity": 5, "site_id": world.sites["main"]},
        )
        assert response.status_code == 400
        assert "The form had expired" in response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_api_token_created_on_the_account_page_is_shown_once(client_as):
    client = client_as("warehouse")
    page = client.post("/account", data={"label": "spreadsheet"}).get_data(as_text=True)
    assert 'id="new-token"' in page
    assert 'id="new-token"' not in client.get("/account").get_data(as_text=True)
    assert "spreadsheet" in client.get("/account").get_data(as_text=True)


def test_a_double_click_creates_one_api_token_and_shows_it_once(client_as):
    client = client_as("warehouse")
    first = client.post("/account", data={"label": "sheet", "request_token": "t1"})
    second = client.post("/account", data={"label": "sheet", "request_token": "t1"})
    assert 'id="new-token"' in first.get_data(as_text=True)
    page = second.get_data(as_text=True)
    assert 'id="new-token"' not in page and page.count("sheet ·") == 1
