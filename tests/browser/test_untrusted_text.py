"""Whatever a sender or a destination puts in a webhook is shown as text."""

import json

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from tests.browser.support import event_row, ingest_url, open_live, send, sign_in, status_badge
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>window.__xss=1</script>"
IMG = "<img src=x onerror=window.__xss=1>"


def assert_nothing_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    expect(page.locator('img[src="x"]')).to_have_count(0)
    assert not page.evaluate("Array.from(document.scripts).some(s => s.textContent.includes('__xss'))")


def test_markup_in_names_bodies_headers_and_responses_stays_text(page: Page, server, worker, alice, receiver) -> None:
    receiver.script(
        Reply(status=503, body=f"{SCRIPT}{IMG}".encode()),
        Reply(status=200, body=f"{SCRIPT}{IMG}".encode(), delay=1.0),
    )
    endpoint = Endpoint.objects.create(owner=alice, name=IMG, destination_url=receiver.url, retry_schedule=[1])
    sign_in(page, alice, server.url)
    open_live(page, "/")

    event_id = send(
        ingest_url(server, endpoint),
        json.dumps({"note": SCRIPT, "img": IMG}).encode(),
        headers={"X-Note": SCRIPT, "X-Img": IMG},
    )

    row = event_row(page, event_id)
    expect(row.locator('[data-field="endpoint"]')).to_have_text(IMG)
    expect(status_badge(row)).to_have_text("retrying")
    assert_nothing_ran(page)

    page.goto(f"/events/{event_id}/")
    expect(page.locator("#body-json")).to_contain_text(SCRIPT)
    expect(page.locator("#body-json")).to_contain_text(IMG)
    headers = page.locator("table.headers")
    expect(headers.locator("tr", has_text="X-Note")).to_contain_text(SCRIPT)
    expect(headers.locator("tr", has_text="X-Img")).to_contain_text(IMG)
    # The second attempt is drawn by live.js (its message, then the API's
    # response excerpt), not by the template.
    second = page.locator('#attempts li.attempt[data-attempt="2"]')
    expect(second.locator(".badge[data-outcome]")).to_have_text("success")
    expect(second.locator("pre.response")).to_have_text(f"{SCRIPT}{IMG}")
    expect(page.locator('#event [data-field="status"] .badge')).to_have_text("delivered")
    assert_nothing_ran(page)
