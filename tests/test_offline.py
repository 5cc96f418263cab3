"""Working without signal, server side: the service worker, the manifest, what a phone keeps."""

from __future__ import annotations

import gzip
import io
import json
import re
from datetime import datetime, time, timedelta

from PIL import Image

from logistics.config import PROJECT_ROOT
from logistics.extensions import db
from logistics.services import distributions

# The JavaScript a phone receives, compressed as it travels (issue 17: under 30 KB).
JS_BUDGET_BYTES = 30 * 1024


def test_the_service_worker_is_served_fresh_with_workbox_from_this_site(app, client_as):
    worker = app.test_client().get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    imported = re.search(r"importScripts\(([^)]*)\)", worker.text).group(1)
    addresses = json.loads(f"[{imported}]")
    assert [a.split("/")[-1].split(".")[0] for a in addresses] == [
        "workbox-core",
        "workbox-routing",
        "workbox-strategies",
        "workbox-background-sync",
    ]
    for address in addresses:
        assert address.startswith("/assets/vendor/workbox/")
        assert app.test_client().get(address).status_code == 200
    page = client_as("warehouse").get("/receive")
    policy = page.headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "worker-src 'self'", "manifest-src 'self'"):
        assert directive in policy
    script = re.search(r'<script src="([^"]+)" defer></script>', page.text).group(1)
    assert script.startswith("/assets/app.") and 'data-worker="/sw.js"' in page.text


def test_the_javascript_a_phone_receives_stays_under_30_kb_compressed(app):
    client = app.test_client()
    worker = client.get("/sw.js").data
    imported = json.loads(
        "[" + re.search(rb"importScripts\(([^)]*)\)", worker).group(1).decode() + "]"
    )
    files = [worker, (PROJECT_ROOT / "static" / "app.js").read_bytes()]
    files += [client.get(address).data for address in imported]
    total = sum(len(gzip.compress(content, 9)) for content in files)
    print(f"JavaScript sent to a phone: {total} bytes gzip-compressed, in {len(files)} files")
    assert total < JS_BUDGET_BYTES


def test_the_manifest_makes_it_installable(app):
    client = app.test_client()
    answer = client.get("/manifest.webmanifest")
    assert answer.mimetype == "application/manifest+json"
    manifest = answer.get_json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    for size in ("192x192", "512x512"):
        image = Image.open(io.BytesIO(client.get(sizes[size]).data))
        assert f"{image.width}x{image.height}" == size and image.format == "PNG"
    login = client.get("/login").text
    assert 'rel="manifest" href="/manifest.webmanifest"' in login
    # Nobody signed in has nothing to send later: no script at all.
    assert "<script" not in login


def test_each_role_keeps_the_field_pages_it_may_open(app, world, client_as):
    tomorrow = distributions.local_today(world.org_id) + timedelta(days=1)
    planned = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=datetime.combine(
            tomorrow, time(18), distributions.organisation_zone(world.org_id)
        ),
        lines=[(world.items["blanket"], 10)],
    )
    db.session.commit()
    kept = {
        role: set(client_as(role).get("/offline/pages").get_json())
        for role in ("warehouse", "kitchen", "coordinator", "donor")
    }
    field = {"/receive", "/transfer", "/stocktake", "/loss", "/give-out", "/incidents/new"}
    outcome = f"/distributions/{planned.id}/outcome"
    assert kept["warehouse"] == field | {"/outbox", outcome}
    assert kept["donor"] == {"/outbox"}
    assert outcome in kept["coordinator"]
    assert app.test_client().get("/offline/pages").status_code == 302  # to the login page
    assert client_as("donor").get("/outbox").status_code == 200


def test_logging_out_tells_the_phone_to_forget_what_it_kept(app, world, client_as):
    member = client_as("warehouse")
    page = member.get("/receive").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = member.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 302
    assert answer.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert 'data-warning="{n} sent without signal' in page
