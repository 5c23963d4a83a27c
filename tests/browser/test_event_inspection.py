"""The event page in Chromium: copy as curl reproduces the request, body views switch."""

import http.client
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from events.models import Event
from tests.browser.support import event_row, ingest_url, open_live, send, sign_in
from tests.support import providers

pytestmark = pytest.mark.django_db(transaction=True)

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "event-page.png"


def send_raw(server, path: str, headers: list[tuple[str, str]], body: bytes) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
    for name, value in [("Host", f"127.0.0.1:{server.port}"), *headers, ("Content-Length", str(len(body)))]:
        conn.putheader(name, value)
    conn.endheaders(body)
    answer = conn.getresponse()
    assert answer.status == 200
    return json.loads(answer.read())["event_id"]


def test_the_copied_curl_command_makes_a_byte_identical_event(page: Page, server, alice, tmp_path) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Uploads")
    body = b"\x89PNG\r\n\x1a\n\x00\x00'quote' %d \\ \xff\xfe" + bytes(range(256))
    original_id = send_raw(
        server, f"/in/{endpoint.ingest_token}/files?name=a%20b",
        [("Content-Type", "image/png"), ("X-Upload-Id", "u-42"), ("User-Agent", "uploader/3.1")], body,
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    sign_in(page, alice, server.url)
    page.goto(f"/events/{original_id}/")

    page.click("#copy-curl")
    expect(page.locator("#copy-curl")).to_have_text("Copied")
    command = page.evaluate("navigator.clipboard.readText()")
    done = subprocess.run(["bash", "-c", command + " --silent --show-error"], capture_output=True, cwd=tmp_path, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    copy_id = json.loads(done.stdout)["event_id"]

    original, copy = Event.objects.get(public_id=original_id), Event.objects.get(public_id=copy_id)
    assert copy.body_bytes == original.body_bytes == body
    assert (copy.method, copy.path, copy.query) == (original.method, original.path, original.query)
    assert sorted(map(tuple, copy.headers)) == sorted(map(tuple, original.headers))
    page.goto(f"/events/{copy_id}/")
    expect(page.locator('[data-field="sha256"]')).to_have_text(original.sha256)


def test_a_verified_stripe_event_page_switches_body_views_and_makes_the_readme_screenshot(
    page: Page, server, alice, artifacts: Path
) -> None:
    endpoint = Endpoint(owner=alice, name="Stripe payments", verification_scheme="stripe", verification_mode="reject")
    endpoint.verification_secret = "whsec_test_readme"
    endpoint.save()
    body = json.dumps({
        "id": "evt_1QxYz2", "object": "event", "type": "charge.succeeded", "livemode": False,
        "data": {"object": {"id": "ch_3QxYz2", "amount": 1200, "currency": "usd", "customer": "cus_Ada"}},
    }).encode()
    headers = [("Content-Type", "application/json"), ("User-Agent", "Stripe/1.0 (+https://stripe.test/docs/webhooks)")]
    headers += list(providers.stripe_headers("whsec_test_readme", body).items())
    event_id = send_raw(server, f"/in/{endpoint.ingest_token}", headers, body)
    sign_in(page, alice, server.url)
    page.goto(f"/events/{event_id}/")

    expect(page.locator('[data-field="signature"] .badge')).to_have_text("stripe valid")
    expect(page.locator('[data-field="event_type"]')).to_have_text("charge.succeeded")
    expect(page.locator("#body-json")).to_be_visible()
    expect(page.locator("#body-hex")).to_be_hidden()
    page.click('[data-body-view="hex"]')
    expect(page.locator("#body-hex")).to_be_visible()
    expect(page.locator("#body-json")).to_be_hidden()
    page.click('[data-body-view="json"]')
    expect(page.locator("#body-json")).to_contain_text('"amount": 1200')

    page.mouse.move(0, 0)
    shot = artifacts / "event-page.png"
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)


def test_a_live_row_shows_the_event_type_and_signature_verdict(page: Page, server, alice) -> None:
    endpoint = Endpoint(owner=alice, name="GitHub", verification_scheme="github", verification_mode="flag")
    endpoint.verification_secret = "gh-secret"
    endpoint.save()
    sign_in(page, alice, server.url)
    open_live(page, f"/endpoints/{endpoint.public_id}/")

    body = b'{"ref": "refs/heads/main"}'
    good = send(ingest_url(server, endpoint), body, providers.github_headers("gh-secret", body))
    forged = send(ingest_url(server, endpoint), body, providers.github_headers("not-the-secret", body))

    expect(event_row(page, good).locator('[data-field="signature"] .badge')).to_have_text("github valid")
    expect(event_row(page, good).locator('[data-field="event_type"]')).to_have_text("push")
    badge = event_row(page, forged).locator('[data-field="signature"] .badge')
    expect(badge).to_have_text("github invalid")
    expect(badge).to_have_attribute("data-verdict", "invalid")
