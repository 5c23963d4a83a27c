"""The dashboard in a real browser: rows arrive and change without a reload."""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from tests.browser.support import (
    event_row,
    expect_live,
    ingest_url,
    open_live,
    send,
    sign_in,
    status_badge,
    stream_rows,
)
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db(transaction=True)

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


def test_a_new_user_sees_a_webhook_arrive_and_get_delivered_live(page: Page, server, worker, receiver) -> None:
    page.goto("/accounts/signup/")
    page.fill("#id_username", "alice")
    page.fill("#id_email", "alice@example.test")
    page.fill("#id_password1", "correct-horse-battery-1")
    page.fill("#id_password2", "correct-horse-battery-1")
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/$"))

    page.click("text=New endpoint")
    page.fill("#id_name", "Payments")
    page.fill("#id_destination_url", receiver.url)
    page.click("form.form button[type=submit]")
    expect(page.locator("#endpoint")).to_have_attribute("data-endpoint-id", re.compile(r"^ep_"))
    shown = page.locator("section.card", has_text="Ingest URL").locator("code.url").first.text_content()
    # The page prints PUBLIC_BASE_URL, which the test stack leaves at its
    # default port; the token path is what identifies the endpoint.
    url = server.url + urlsplit(shown.strip()).path
    assert urlsplit(shown).path.startswith("/in/")

    open_live(page, "/")
    expect(page.locator("#event-stream tr.empty")).to_have_count(1)
    page.evaluate("window.__sameDocument = true")

    event_id = send(url, b'{"amount": 4200}')

    row = event_row(page, event_id)
    expect(row).to_be_visible()
    expect(page.locator("#event-stream tr.empty")).to_have_count(0)
    expect(row.locator('[data-field="endpoint"]')).to_have_text("Payments")
    expect(row.locator('[data-field="method"]')).to_have_text("POST")
    expect(row.locator('[data-field="size"]')).to_have_text("16\u00a0bytes")
    expect(row.locator('[data-field="id"] a')).to_have_attribute("href", f"/events/{event_id}/")
    expect(status_badge(row)).to_have_text("delivered")
    expect(status_badge(row)).to_have_attribute("data-status", "delivered")
    endpoint_row = page.locator("#endpoints tr[data-endpoint-id]").first
    expect(endpoint_row.locator('[data-field="events_per_min"]')).to_have_text("1")
    expect(endpoint_row.locator('[data-field="events_24h"]')).to_have_text("1")
    expect(endpoint_row.locator('[data-field="last_event_at"] time')).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True
    assert len(receiver.requests) == 1


def test_filters_hide_rows_and_pause_holds_new_ones_until_resume(page: Page, server, worker, alice, receiver) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    shop = Endpoint.objects.create(owner=alice, name="Shop", destination_url=receiver.url)
    sign_in(page, alice, server.url)
    open_live(page, "/")
    stored = send(ingest_url(server, inbox))
    delivered = send(ingest_url(server, shop))
    expect(status_badge(event_row(page, delivered))).to_have_text("delivered")
    expect(status_badge(event_row(page, stored))).to_have_text("received")

    page.select_option("#stream-filter-status", "delivered")
    expect(event_row(page, stored)).to_be_hidden()
    expect(event_row(page, delivered)).to_be_visible()
    later = send(ingest_url(server, inbox))
    expect(stream_rows(page)).to_have_count(3)
    expect(event_row(page, later)).to_be_hidden()
    expect(page.locator("[data-stream-matches]")).to_have_text("1 of 3 shown")

    page.select_option("#stream-filter-status", "")
    page.select_option("#stream-filter-endpoint", inbox.public_id)
    expect(event_row(page, delivered)).to_be_hidden()
    expect(event_row(page, stored)).to_be_visible()
    expect(event_row(page, later)).to_be_visible()
    page.select_option("#stream-filter-endpoint", "")
    expect(page.locator("#event-stream tr[data-event-id]:visible")).to_have_count(3)

    page.click("#stream-pause")
    expect(page.locator("#stream-pause")).to_have_text("Resume stream")
    while_paused = [send(ingest_url(server, inbox)), send(ingest_url(server, inbox))]
    expect(page.locator("[data-stream-buffered]")).to_have_text("Paused: 2 new events buffered")
    expect(stream_rows(page)).to_have_count(3)

    page.click("#stream-pause")
    expect(stream_rows(page)).to_have_count(5)
    expect(page.locator("[data-stream-buffered]")).to_be_hidden()
    ids = stream_rows(page).evaluate_all("rows => rows.map(row => row.dataset.eventId)")
    assert ids == [while_paused[1], while_paused[0], later, delivered, stored]


def test_a_dashboard_with_events_in_every_state_makes_the_readme_screenshot(
    page: Page, server, worker, alice, receiver, artifacts: Path
) -> None:
    receiver.script(Reply(status=200))
    with Receiver() as failing:
        failing.script(Reply(status=503, body=b"upstream unavailable"))
        payments = Endpoint.objects.create(owner=alice, name="Stripe payments", destination_url=receiver.url)
        pushes = Endpoint.objects.create(owner=alice, name="GitHub pushes", destination_url=failing.url, retry_schedule=[1])
        orders = Endpoint.objects.create(
            owner=alice, name="Orders API", destination_url=failing.url, retry_schedule=[3600]
        )
        crm = Endpoint.objects.create(owner=alice, name="Legacy CRM", destination_url=receiver.url, paused=True)
        inbox = Endpoint.objects.create(owner=alice, name="Debug inbox")
        sign_in(page, alice, server.url)
        open_live(page, "/")

        sent = {
            "delivered": [send(ingest_url(server, payments), b'{"type": "charge.succeeded"}') for _ in range(3)],
            "failed": [send(ingest_url(server, pushes), b'{"ref": "refs/heads/main"}')],
            "retrying": [send(ingest_url(server, orders), b'{"order": 1042}')],
            "held": [send(ingest_url(server, crm), b"contact=42")],
            "received": [send(ingest_url(server, inbox), b"ping")],
        }
        for status, event_ids in sent.items():
            for event_id in event_ids:
                expect(status_badge(event_row(page, event_id))).to_have_text(status, timeout=20_000)
        expect(page.locator(f'#endpoints tr[id="{pushes.public_id}"] .badge[data-health]')).to_have_text("failing")
        payments_row = page.locator(f'#endpoints tr[id="{payments.public_id}"]')
        expect(payments_row.locator('[data-field="events_24h"]')).to_have_text("3")
        expect(payments_row.locator('[data-field="events_per_min"]')).to_have_text("3")
        expect(page.locator("[data-stream-count]")).to_have_text("7")

    expect_live(page)
    page.mouse.move(0, 0)
    shot = artifacts / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)
