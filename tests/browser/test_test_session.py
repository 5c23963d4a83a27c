"""A test session in a real browser: no account, a real curl, live on the page."""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from events.models import Event
from testsessions.models import TestSession

pytestmark = pytest.mark.django_db(transaction=True)

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "test-session.png"


def open_session_from_login(page: Page) -> str:
    page.goto("/accounts/login/")
    page.click("#get-a-url")
    expect(page).to_have_url(re.compile(r"/t/ts_[a-z0-9]+/$"))
    expect(page.locator("#session-live")).to_have_text("LIVE")
    return page.locator("#test-session").get_attribute("data-session-id")


def curl(url: str, *args: str) -> str:
    done = subprocess.run(["curl", "-sS", "--max-time", "10", url, *args], capture_output=True, text=True, check=True)
    return done.stdout


def test_a_curl_request_appears_live_without_signing_in(page: Page, server) -> None:
    session_id = open_session_from_login(page)
    ingest_url = page.locator("#ingest-url").text_content().strip()
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^23:59:\d\d$"))
    page.evaluate("window.__sameDocument = true")
    body = b'{"type": "charge.succeeded", "amount": 4200}'

    answer = curl(
        f"{ingest_url}/stripe/charges?live=1",
        "-H", "content-type: application/json", "-H", "X-Trace: <b>not markup</b>",
        "--data-binary", body.decode(),
    )

    event_id = re.search(r'"event_id": "(evt_[a-z0-9]+)"', answer).group(1)
    item = page.locator(f'#requests li[data-event-id="{event_id}"]')
    expect(item).to_be_visible()
    expect(item.locator(".method")).to_have_text("POST")
    expect(item.locator(".path")).to_have_text("/stripe/charges?live=1")
    detail = page.locator("#request-detail")
    expect(detail.locator('[data-field="id"]')).to_have_text(event_id)
    expect(detail.locator('[data-field="body_kind"]')).to_have_text("json")
    expect(detail.locator('[data-field="event_type"]')).to_have_text("charge.succeeded")
    expect(detail.locator('[data-field="sha256"]')).to_have_text(hashlib.sha256(body).hexdigest())
    expect(detail.locator("#request-body")).to_contain_text('"amount": 4200')
    expect(detail.locator("#request-headers")).to_contain_text("<b>not markup</b>")
    assert detail.locator("#request-headers b").count() == 0
    detail.locator('[data-view="hex"]').click()
    expect(detail.locator("#request-body")).to_contain_text("00000000  7b 22 74 79 70 65")
    assert page.evaluate("window.__sameDocument") is True
    assert Event.objects.get(public_id=event_id).endpoint.test_session.public_id == session_id

    curl(f"{ingest_url}/github", "-H", "content-type: application/json", "--data-binary", '{"zen": "ok"}')
    expect(page.locator("#requests li[data-event-id]")).to_have_count(2)
    expect(page.locator("#request-count")).to_have_text("2")

    detail.locator('[data-view="pretty"]').click()
    expect(detail.locator("#request-body")).to_contain_text('"type": "charge.succeeded",')
    DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
    shot = DOCS_SCREENSHOT.with_suffix(".new.png")
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    shutil.move(shot, DOCS_SCREENSHOT)


def test_requests_sent_before_the_page_opened_are_listed(page: Page, server) -> None:
    session = TestSession.open(None)
    curl(f"{server.url}/in/{session.endpoint.ingest_token}/early", "--data-binary", "early bird")

    page.goto(f"/t/{session.public_id}/")

    expect(page.locator("#requests li[data-event-id]")).to_have_count(1)
    expect(page.locator("#request-body")).to_have_text("early bird")


def test_after_sign_up_the_claim_link_moves_the_session_into_the_account(page: Page, server) -> None:
    session_id = open_session_from_login(page)
    ingest_url = page.locator("#ingest-url").text_content().strip()
    curl(ingest_url, "--data-binary", "keep me")
    expect(page.locator("#requests li[data-event-id]")).to_have_count(1)

    page.click("#claim-link")
    page.fill("#id_username", "carol")
    page.fill("#id_email", "carol@example.com")
    page.fill("#id_password1", "correct-horse-battery-1")
    page.fill("#id_password2", "correct-horse-battery-1")
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/t/{session_id}/claim/$"))
    page.click("#claim")

    expect(page.locator("#endpoint")).to_have_attribute("data-endpoint-id", re.compile(r"^ep_"))
    endpoint = Endpoint.objects.get(owner__username="carol")
    assert [bytes(event.body) for event in endpoint.events.all()] == [b"keep me"]
    assert not TestSession.objects.filter(public_id=session_id).exists()


def test_a_request_opens_in_the_event_pages_inspection_views(page: Page, server) -> None:
    session_id = open_session_from_login(page)
    ingest_url = page.locator("#ingest-url").text_content().strip()
    curl(ingest_url, "-H", "content-type: application/x-www-form-urlencoded", "--data-binary", "name=Ada&role=admin")
    expect(page.locator("#requests li[data-event-id]")).to_have_count(1)

    page.locator("#inspect-link").click()

    expect(page).to_have_url(re.compile(rf"/t/{session_id}/events/evt_[a-z0-9]+/$"))
    page.locator('[data-body-view="form"]').click()
    expect(page.locator('[data-body-panel="form"]')).to_contain_text("Ada")
    expect(page.locator("#curl-command")).to_contain_text("--data-binary")
