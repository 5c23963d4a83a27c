from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from endpoints.models import Endpoint, Health
from events.models import EventStatus
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db





def endpoint_row(html: str, endpoint: Endpoint) -> str:
    start = html.index(f'<tr id="{endpoint.public_id}"')
    return html[start : html.index("</tr>", start)]


def test_the_dashboard_lists_the_users_endpoints_with_their_state(alice_client: Client, alice) -> None:
    forwarder = Endpoint.objects.create(
        owner=alice, name="Forwarder", destination_url="https://example.test/in", health=Health.DEGRADED
    )
    inbox = Endpoint.objects.create(owner=alice, name="Inbox", paused=True)
    html = alice_client.get("/").content.decode()
    row = endpoint_row(html, forwarder)
    assert f'data-endpoint-id="{forwarder.public_id}"' in row
    assert forwarder.ingest_url in row and f'data-copy="{forwarder.ingest_url}"' in row
    assert "https://example.test/in" in row
    assert 'data-health="degraded"' in row
    assert 'data-paused="false"' in row
    row = endpoint_row(html, inbox)
    assert "inbox" in row
    assert 'data-paused="true"' in row


def test_the_dashboard_counts_events_of_the_last_24_hours_and_shows_the_last_one(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    quiet = Endpoint.objects.create(owner=alice, name="Quiet")
    now = timezone.now()
    make_event(endpoint, received_at=now - timedelta(hours=30))
    make_event(endpoint, received_at=now - timedelta(hours=2))
    last = make_event(endpoint, received_at=now - timedelta(minutes=5))
    html = alice_client.get("/").content.decode()
    row = endpoint_row(html, endpoint)
    assert '<td data-field="events_24h" class="num">2</td>' in row
    assert last.received_at.strftime("%Y-%m-%d %H:%M:%S") in row
    row = endpoint_row(html, quiet)
    assert '<td data-field="events_24h" class="num">0</td>' in row
    assert "never" in row


def test_the_dashboard_shows_the_newest_fifty_events_of_all_endpoints(alice_client: Client, alice) -> None:
    first = Endpoint.objects.create(owner=alice, name="First")
    second = Endpoint.objects.create(owner=alice, name="Second")
    start = timezone.now() - timedelta(hours=1)
    events = [
        make_event(first if i % 2 else second, received_at=start + timedelta(seconds=i), status=EventStatus.RETRYING)
        for i in range(52)
    ]
    html = alice_client.get("/").content.decode()
    stream = html[html.index('id="event-stream"') :]
    assert stream.count("data-event-id=") == 50
    assert events[0].public_id not in stream and events[1].public_id not in stream
    assert stream.index(events[51].public_id) < stream.index(events[2].public_id)
    newest = events[51]
    assert f'<tr id="{newest.public_id}" data-event-id="{newest.public_id}" data-endpoint-id="{first.public_id}">' in stream
    assert '<span class="badge" data-status="retrying">retrying</span>' in stream


def test_the_dashboard_shows_nothing_of_other_users(alice_client: Client, alice, bob) -> None:
    mine = Endpoint.objects.create(owner=alice, name="Mine")
    theirs = Endpoint.objects.create(owner=bob, name="Theirs")
    my_event, their_event = make_event(mine), make_event(theirs)
    html = alice_client.get("/").content.decode()
    assert mine.public_id in html and my_event.public_id in html
    assert theirs.public_id not in html and their_event.public_id not in html
    assert "Theirs" not in html


def test_an_empty_dashboard_invites_to_create_an_endpoint(alice_client: Client) -> None:
    html = alice_client.get("/").content.decode()
    assert "Create your first endpoint" in html
    assert 'id="event-stream"' in html


def test_the_dashboard_costs_the_same_queries_however_many_rows(alice_client: Client, alice, django_assert_max_num_queries) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    make_event(endpoint)
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/")
    for i in range(5):
        more = Endpoint.objects.create(owner=alice, name=f"More {i}")
        for _ in range(6):
            make_event(more)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = alice_client.get("/").content.decode()
    assert html.count("data-event-id=") == 31
    assert len(few.captured_queries) <= 5  # session, user, endpoints, events, open alerts


def test_the_endpoints_page_lists_the_same_table(alice_client: Client, alice, bob) -> None:
    mine = Endpoint.objects.create(owner=alice, name="Mine")
    theirs = Endpoint.objects.create(owner=bob, name="Theirs")
    html = alice_client.get("/endpoints/").content.decode()
    assert f'data-endpoint-id="{mine.public_id}"' in html
    assert theirs.public_id not in html
