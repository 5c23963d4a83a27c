"""What ingest records about each request: event type, SHA-256, searchable text."""

import hashlib

import pytest
import requests

from endpoints.models import Endpoint
from events import search
from events.models import Event, EventSearch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def stored(server, endpoint, body: bytes, headers: dict[str, str] | None = None) -> Event:
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=body, headers=headers or {}, timeout=10)
    assert answer.status_code == 200, answer.text
    return Event.objects.get(public_id=answer.json()["event_id"])


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"X-GitHub-Event": "pull_request"}, "pull_request"),
        ({"X-Shopify-Topic": "orders/paid"}, "orders/paid"),
        ({"X-Event-Key": "repo:push"}, "repo:push"),
    ],
)
def test_the_event_type_comes_from_the_provider_header_first(server, inbox, headers, expected):
    assert stored(server, inbox, b'{"type": "ignored"}', headers).event_type == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"type": "invoice.paid"}', "invoice.paid"),
        (b'{"event": "meeting.started"}', "meeting.started"),
        (b'{"topic": "orders"}', "orders"),
        (b'{"type": 7, "event": "fallback"}', "fallback"),
        (b'{"nothing": "here"}', None),
        (b'[{"type": "in a list"}]', None),
        (b"type=form.post", None),
        (b"\xff\xfe binary", None),
    ],
)
def test_the_event_type_falls_back_to_the_json_body(server, inbox, body, expected):
    assert stored(server, inbox, body).event_type == expected


def test_it_records_the_sha256_of_the_exact_body(server, inbox):
    body = bytes(range(256)) * 3
    assert stored(server, inbox, body).sha256 == hashlib.sha256(body).hexdigest()


def test_searchable_text_keeps_header_values_and_drops_nul_bytes(server, no_worker, inbox):
    event = stored(server, inbox, b'{"note": "caf\xc3\xa9"}\x00tail', {"X-Request-Tag": "blue-whale"})
    assert search.index_backlog() == 1  # ingest leaves it to the indexer
    text = EventSearch.objects.get(event=event).text
    assert "blue-whale" in text
    assert 'caf\u00e9' in text
    assert "\x00" not in text
