"""The event page's attempts timeline grows while the event is delivered."""

import re

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from tests.browser.support import expect_live, ingest_url, send, sign_in
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def test_attempts_appear_one_by_one_with_a_countdown_to_the_retry(page: Page, server, worker, alice, receiver) -> None:
    # The destination takes its time, so the page is open before each
    # attempt ends and sees both arrive.
    receiver.script(Reply(status=503, delay=2.0), Reply(status=200, delay=2.0))
    endpoint = Endpoint.objects.create(owner=alice, name="Slow", destination_url=receiver.url, retry_schedule=[1])
    sign_in(page, alice, server.url)
    event_id = send(ingest_url(server, endpoint))

    page.goto(f"/events/{event_id}/")
    expect_live(page)
    attempts = page.locator("#attempts li.attempt")
    status = page.locator('#event [data-field="status"] .badge')
    expect(page.locator("#attempts li.empty")).to_be_visible()

    first = page.locator('#attempts li.attempt[data-attempt="1"]')
    expect(first).to_have_attribute("data-outcome", "http_error")
    expect(first.locator(".status-code")).to_have_text("HTTP 503")
    expect(first.locator(".countdown")).to_have_text(re.compile(r"^(in \d+ s|retrying now…)$"))
    expect(status).to_have_text("retrying")
    expect(status).to_have_attribute("data-status", "retrying")
    expect(page.locator('dd[data-field="next_attempt_at"] time')).to_have_count(1)
    expect(attempts).to_have_count(1)
    expect(page.locator("#attempts li.empty")).to_have_count(0)

    second = page.locator('#attempts li.attempt[data-attempt="2"]')
    expect(second).to_have_attribute("data-outcome", "success", timeout=15_000)
    expect(second.locator(".status-code")).to_have_text("HTTP 200")
    expect(second.locator(".badge")).to_have_text("success")
    expect(status).to_have_text("delivered")
    expect(attempts).to_have_count(2)
    expect(page.locator("#attempts .countdown")).to_have_count(0)
    expect(page.locator('dd[data-field="next_attempt_at"]')).to_have_text("none due")
    # Completed from the API: the destination URL and start time, as the template shows them.
    expect(second.locator("code.url")).to_have_text(receiver.url + "/")
    expect(first.locator(".attempt-head time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
