"""The event page's replay form in Chromium: edit a signed webhook and send it to another URL."""

import json
import os
import shutil
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from deliveries.models import DeliveryAttempt
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.browser.support import sign_in
from tests.support import providers
from tests.support.processes import wait_until
from tests.support.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "event-replay.png"
SECRET = "whsec_test_replay"


@pytest.fixture
def laptop():
    """The developer's machine, where the edited copy goes."""
    with Receiver() as running:
        yield running


def test_an_edited_copy_goes_to_another_url_and_links_back_to_its_original(
    page: Page, server, worker, alice, receiver, laptop, artifacts: Path
) -> None:
    endpoint = Endpoint(
        owner=alice, name="Stripe payments", destination_url=receiver.url,
        verification_scheme="stripe", verification_mode="flag",
    )
    endpoint.verification_secret = SECRET
    endpoint.save()
    body = json.dumps({"id": "evt_1QxYz2", "type": "charge.succeeded", "data": {"amount": 1200}}).encode()
    answer = requests.post(
        f"{server.url}/in/{endpoint.ingest_token}", data=body, timeout=10,
        headers={"content-type": "application/json", **providers.stripe_headers(SECRET, body)},
    )
    original_id = answer.json()["event_id"]
    receiver.wait_for(1)
    sign_in(page, alice, server.url)
    page.goto(f"/events/{original_id}/")
    expect(page.locator('[data-field="signature"] .badge')).to_have_text("stripe valid")

    form = page.locator("#replay")
    form.get_by_text("Edit headers and body").click()
    edited = '{"id": "evt_1QxYz2", "type": "charge.succeeded", "data": {"amount": 999}}'
    form.locator("textarea[name=body]").fill(edited)
    form.get_by_label("Another URL, one attempt").check()
    form.locator("input[name=destination_url]").fill(laptop.url + "/webhooks")
    form.get_by_role("button", name="Replay").click()

    copy = wait_until(lambda: Event.objects.filter(replay_of__public_id=original_id).first(), message="the copy")
    expect(page).to_have_url(f"{server.url}/events/{copy.public_id}/")
    expect(page.locator(".messages")).to_contain_text(f"Replayed as a new event, an edited copy of {original_id}.")
    expect(page.locator('[data-field="replay_of"]')).to_have_text(original_id)

    (got,) = laptop.wait_for(1)
    assert (got.path, got.body) == ("/webhooks", edited.encode())
    assert got.header("stripe-signature") == providers_signature(Event.objects.get(public_id=original_id))
    assert got.header("webhook-id") == copy.public_id
    wait_until(lambda: DeliveryAttempt.objects.filter(event=copy).exists(), message="the attempt's row")
    # Sent to the URL only: the copy was not forwarded to the destination.
    assert len(receiver.requests) == 1
    assert Event.objects.get(pk=copy.pk).status == EventStatus.RECEIVED

    page.reload()
    attempt = page.locator('#attempts li.attempt[data-attempt="1"]')
    expect(attempt).to_have_attribute("data-outcome", "success")
    expect(attempt.locator("code.url")).to_have_text(laptop.url + "/webhooks")
    page.goto(f"/events/{original_id}/")
    expect(page.locator('[data-field="replays"]')).to_have_text(copy.public_id)

    page.goto(f"/events/{copy.public_id}/")
    page.mouse.move(0, 0)
    shot = artifacts / "event-replay.png"
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        shutil.copyfile(shot, DOCS_SCREENSHOT)


def providers_signature(event: Event) -> str:
    """The original's Stripe-Signature: an edited copy keeps the headers it was not told to change."""
    return next(value for name, value in event.headers if name.lower() == "stripe-signature")
