"""Who may open what: every route of the URL map against every role, as CAPABILITIES says.

A page (`requires`) or an API operation records the capability it needs on its view
(`auth.required_capability`). For each role, each rule and each of its methods, the answer must
follow from `permissions.CAPABILITIES`: a role that has the capability is let through (not a
403, never a 500), any other role gets a 403. A new route is covered without writing a test;
a route that requires no capability must be listed in OPEN with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ROLES, World
from flask import Flask
from werkzeug.routing import Rule

from logistics import create_app
from logistics.auth import required_capability
from logistics.permissions import ALL_ROLES, CAPABILITIES

# Routes any visitor or any signed-in member may reach: their views check what they need.
OPEN = {
    "static": "stylesheets and scripts",
    "asset": "the stylesheet and icons under their hashed names",
    "favicon": "the icon a browser asks for on any page",
    "auth.login": "signing in",
    "auth.logout": "signing out",
    "auth.forgot_password": "asking for a reset link",
    "auth.reset_password": "the reset link itself is the proof",
    "auth.invitation": "the invitation link itself is the proof",
    "auth.account": "one's own account, whatever the role",
    "auth.change_password": "one's own account, whatever the role",
    "auth.end_device": "one's own sign-ins, whatever the role",
    "auth.end_other_devices": "one's own sign-ins, whatever the role",
    "auth.revoke_token": "one's own API tokens, whatever the role",
    "auth.switch": "choosing among one's own organisations",
    "auth.change_language": "one's own language, whatever the role",
    "auth.switch_language": "the language of the logged-out pages, kept in a cookie",
    "reports.share": "a donor share link is the proof",
    "reports.share_pdf": "a donor share link is the proof",
    "reports.logo": "an organisation's logo, public by its admins' choice",
    "pledges.share_pledge": "a donor share link is the proof",
    "subscribers.subscribe": "a donor share link is the proof",
    "subscribers.subscribe_page": "a donor share link is the proof",
    "subscribers.confirm_page": "the mailed link itself is the proof",
    "subscribers.confirm": "the mailed link itself is the proof",
    "subscribers.unsubscribe_page": "the mailed link itself is the proof",
    "subscribers.unsubscribe": "the mailed link itself is the proof",
    "api.openapi": "the API's description is public",
    "offline.service_worker": "the service worker script: it holds no data",
    "offline.manifest": "the app manifest, for a phone's home screen",
    "offline.fallback": "the page shown without signal: it holds no data",
}
# Views that check a narrower rule inside, for one method: the roles let through are those
# with the route's capability and any one of these.
NARROWER = {
    ("POST", "shipments.receive"): ("manage_shipments",),
    ("GET", "csv_io.index"): ("export_csv", "record_movements"),
    ("POST", "kitchen.cooking"): ("plan_kitchen",),
}
# No row has this id: a role that is let through gets a 404 and changes nothing.
UNUSED_ID = 999_999
SAMPLES = {"action": "deactivate", "day": "2000-01-03", "token": "no-such-token"}
ASKED = ("GET", "POST", "PUT", "PATCH", "DELETE")


def guarded(app: Flask) -> list[tuple[str, str, str, str]]:
    """Return (method, url, endpoint, capability) for every method of every guarded rule."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        capability = required_capability(app.view_functions[rule.endpoint])
        if capability is None:
            continue
        for method in sorted(set(rule.methods or ()) & set(ASKED)):
            url = adapter.build(rule.endpoint, _sample_values(rule), method=method)
            found.append((method, url, rule.endpoint, capability))
    return sorted(found)


def let_through(role: str, method: str, endpoint: str, capability: str) -> bool:
    """Tell whether CAPABILITIES (and NARROWER) let this role use this method of a route."""
    narrower = NARROWER.get((method, endpoint))
    if narrower and not any(role in CAPABILITIES[name] for name in narrower):
        return False
    return role in CAPABILITIES[capability]


def _sample_values(rule: Rule) -> dict[str, Any]:
    values = {}
    for name in rule.arguments:
        if name.endswith("_id"):
            values[name] = UNUSED_ID
        else:
            assert name in SAMPLES, f"{rule.rule}: add a sample value for <{name}> to SAMPLES"
            values[name] = SAMPLES[name]
    return values


def test_every_route_requires_a_known_capability_or_is_deliberately_open(tmp_path) -> None:
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_DIR": str(tmp_path)}
    )
    assert set(ROLES) == ALL_ROLES
    unguarded = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if required_capability(app.view_functions[rule.endpoint]) is None
    }
    assert unguarded == set(OPEN), "guard these routes with requires(...), or list them in OPEN"
    used = {cap for *_, cap in guarded(app)} | {n for names in NARROWER.values() for n in names}
    assert used <= set(CAPABILITIES)
    assert set().union(*CAPABILITIES.values()) == ALL_ROLES


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_each_role_gets_each_route_as_its_capability_says(
    role: str, app: Flask, world: World, client_as, api
) -> None:
    page_client = client_as(role)
    api_client = api(role)
    wrong = []
    for method, url, endpoint, capability in guarded(app):
        if url.startswith("/api/"):
            body = {} if method != "GET" else None
            response = api_client.client.open(
                url, method=method, headers=api_client.headers, json=body
            )
        else:
            response = page_client.open(url, method=method, data={})
        status = response.status_code
        if let_through(role, method, endpoint, capability):
            if status == 403 or status >= 500:
                wrong.append(f"{method} {url} ({endpoint}, {capability}): {status}, let through")
        elif status != 403:
            wrong.append(f"{method} {url} ({endpoint}, {capability}): {status}, not 403")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
