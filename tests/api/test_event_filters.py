"""`GET /api/v1/events/` filters of the debugging toolkit: event_type, verdict, q, received_after/before."""

import random
import string
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection

from endpoints.models import Endpoint
from events.filters import filter_events
from events import search
from events.models import Event, EventSearch

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def make(endpoint, body: bytes = b"{}", headers=None, **fields) -> Event:
    headers = headers or [["content-type", "application/json"]]
    fields.setdefault("received_at", NOON)
    event = Event.objects.create(endpoint=endpoint, method="POST", headers=headers, body=body, size=len(body), **fields)
    search.index([event])
    return event


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [event["id"] for event in response.json()["results"]]


@pytest.fixture
def endpoint(alice):
    return Endpoint.objects.create(owner=alice, name="Stripe")


def test_it_filters_on_event_type(alice_api, endpoint):
    paid = make(endpoint, event_type="invoice.paid")
    make(endpoint, event_type="invoice.created")
    assert ids(alice_api.get("/api/v1/events/?event_type=invoice.paid")) == [paid.public_id]


def test_it_filters_on_the_signature_verdict_counting_no_check_as_unchecked(alice_api, endpoint):
    valid = make(endpoint, signature={"scheme": "github", "verdict": "valid", "detail": ""})
    invalid = make(endpoint, signature={"scheme": "github", "verdict": "invalid", "detail": ""})
    plain = make(endpoint)
    assert ids(alice_api.get("/api/v1/events/?verdict=valid")) == [valid.public_id]
    assert ids(alice_api.get("/api/v1/events/?verdict=invalid")) == [invalid.public_id]
    assert ids(alice_api.get("/api/v1/events/?verdict=unchecked")) == [plain.public_id]


def test_an_unknown_verdict_is_a_clear_400(alice_api, endpoint):
    response = alice_api.get("/api/v1/events/?verdict=maybe")
    assert response.status_code == 400
    assert "verdict" in response.json()["detail"]


def test_q_finds_text_in_the_body_or_a_header_value_case_insensitively(alice_api, endpoint):
    in_body = make(endpoint, body=b'{"customer": "Ada Lovelace"}')
    in_header = make(endpoint, headers=[["x-customer", "ada lovelace"]], received_at=NOON - timedelta(seconds=1))
    make(endpoint, body=b'{"customer": "Grace Hopper"}')
    assert ids(alice_api.get("/api/v1/events/?q=LOVELACE")) == [in_body.public_id, in_header.public_id]


def test_q_treats_like_wildcards_as_plain_text(alice_api, endpoint):
    percent = make(endpoint, body=b'{"discount": "100%"}')
    make(endpoint, body=b'{"discount": "1000"}')
    assert ids(alice_api.get("/api/v1/events/", {"q": "100%"})) == [percent.public_id]
    assert ids(alice_api.get("/api/v1/events/", {"q": "_"})) == []


def test_q_never_shows_another_users_events(alice_api, bob, endpoint):
    theirs = Endpoint.objects.create(owner=bob, name="Bob's")
    make(theirs, body=b'{"secret": "bob-only"}')
    assert ids(alice_api.get("/api/v1/events/?q=bob-only")) == []


def test_it_filters_on_received_after_and_before(alice_api, endpoint):
    early = make(endpoint, received_at=NOON - timedelta(hours=2))
    middle = make(endpoint, received_at=NOON)
    late = make(endpoint, received_at=NOON + timedelta(hours=2))
    window = alice_api.get("/api/v1/events/", {"received_after": "2026-03-01T11:00:00Z", "received_before": "2026-03-01T13:00:00Z"})
    assert ids(window) == [middle.public_id]
    assert ids(alice_api.get("/api/v1/events/?received_after=2026-03-01T12:00:00Z")) == [late.public_id, middle.public_id]
    assert ids(alice_api.get("/api/v1/events/?received_before=2026-03-01T12:00:00Z")) == [early.public_id]


def test_a_malformed_date_is_a_clear_400(alice_api, endpoint):
    response = alice_api.get("/api/v1/events/?received_after=yesterday")
    assert response.status_code == 400
    assert "received_after" in response.json()["detail"]


def test_the_search_is_served_by_the_trigram_index(alice, endpoint):
    # A table big enough that scanning it loses on cost, searched for a
    # customer name that only one event mentions: the planner must pick
    # eventsearch_text_trgm, or every search would read the whole table.
    rng = random.Random(7)
    names = ["".join(rng.choice(string.ascii_lowercase) for _ in range(12)) for _ in range(12000)]
    filler = " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(6)) for _ in range(40))
    events = Event.objects.bulk_create(
        Event(endpoint=endpoint, method="POST", headers=[], body=b"", received_at=NOON) for _ in names
    )
    EventSearch.objects.bulk_create(
        EventSearch(
            event=event,
            text=f'application/json\n{{"customer": "{name}", "type": "charge.succeeded", "note": "{filler}"}}',
        )
        for event, name in zip(events, names, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_event")
        cursor.execute("ANALYZE events_eventsearch")
    wanted = names[6000]

    searched = filter_events(Event.objects.filter(endpoint__owner=alice), {"q": wanted.upper()})

    plan = searched.explain()
    assert "Bitmap Index Scan on eventsearch_text_trgm" in plan, plan
    assert [e.search.text.count(wanted) for e in searched] == [1]


def test_the_trigram_index_merges_its_pending_list_in_small_steps(alice, endpoint):
    # A search reads the unmerged entries one by one: the indexer's inserts
    # merge them in small steps (events/migrations/0010_search_behind_ingest.py).
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'eventsearch_text_trgm'")
        assert cursor.fetchone()[0] == ["gin_pending_list_limit=512"]
    events = Event.objects.bulk_create(
        Event(endpoint=endpoint, method="POST", headers=[], body=b"", received_at=NOON) for _ in range(600)
    )
    EventSearch.objects.bulk_create(EventSearch(event=e, text=f"order {n} shipped") for n, e in enumerate(events))

    found = filter_events(Event.objects.filter(endpoint__owner=alice), {"q": "order 417 "})

    assert [e.search.text for e in found] == ["order 417 shipped"]
