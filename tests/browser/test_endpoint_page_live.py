"""An endpoint's page lists its own new events live, and only those."""

import pytest
from playwright.sync_api import Page, expect

from endpoints.models import Endpoint
from tests.browser.support import event_row, ingest_url, open_live, send, sign_in, status_badge, stream_rows

pytestmark = pytest.mark.django_db(transaction=True)


def test_new_events_of_the_endpoint_appear_on_top_and_their_badges_flip(
    page: Page, server, worker, alice, receiver
) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Payments", destination_url=receiver.url)
    other = Endpoint.objects.create(owner=alice, name="Other")
    older = send(ingest_url(server, endpoint))
    sign_in(page, alice, server.url)
    open_live(page, f"/endpoints/{endpoint.public_id}/")
    expect(status_badge(event_row(page, older))).to_have_text("delivered")
    expect(page.locator("#stream-filter-endpoint")).to_have_count(0)

    elsewhere = send(ingest_url(server, other))
    newer = send(ingest_url(server, endpoint))

    expect(status_badge(event_row(page, newer))).to_have_text("delivered")
    expect(event_row(page, newer).locator('[data-field="endpoint"]')).to_have_count(0)
    ids = stream_rows(page).evaluate_all("rows => rows.map(row => row.dataset.eventId)")
    assert ids == [newer, older]
    assert elsewhere not in ids
