from datetime import datetime, timedelta, timezone as dt_timezone

from django.db import connection
from django.test.utils import CaptureQueriesContext

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint
from events.models import Event, EventStatus

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=dt_timezone.utc)


def test_it_lists_an_events_attempts_in_order(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")
    event = Event.objects.create(endpoint=endpoint, method="POST", received_at=T0, status=EventStatus.RETRYING)
    second = DeliveryAttempt.objects.create(
        event=event,
        endpoint=endpoint,
        attempt=2,
        url="https://hooks.example.test/",
        outcome=Outcome.TIMEOUT,
        error="timed out after 10 s",
        started_at=T0 + timedelta(minutes=1),
        next_retry_at=T0 + timedelta(minutes=6),
    )
    first = DeliveryAttempt.objects.create(
        event=event,
        endpoint=endpoint,
        attempt=1,
        url="https://hooks.example.test/",
        request_headers=[["webhook-id", event.public_id]],
        status_code=503,
        outcome=Outcome.HTTP_ERROR,
        duration_ms=40,
        response_headers=[["Retry-After", "60"]],
        response_body=b"busy \xff",
        started_at=T0,
        next_retry_at=T0 + timedelta(minutes=1),
    )
    r = alice_api.get(f"/api/v1/events/{event.public_id}/deliveries/")
    assert r.status_code == 200
    attempts = r.json()
    assert [a["id"] for a in attempts] == [first.public_id, second.public_id]
    assert attempts[0] == {
        "id": first.public_id,
        "attempt": 1,
        "url": "https://hooks.example.test/",
        "status_code": 503,
        "outcome": "http_error",
        "duration_ms": 40,
        "request_headers": [["webhook-id", event.public_id]],
        "response_headers": [["Retry-After", "60"]],
        "response_body": "busy \ufffd",
        "error": "",
        "started_at": "2025-03-01T12:00:00Z",
        "next_retry_at": "2025-03-01T12:01:00Z",
        "one_off": False,
    }
    assert attempts[1]["status_code"] is None
    assert attempts[1]["error"] == "timed out after 10 s"


def test_it_lists_no_attempts_for_a_fresh_event(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Inbox")
    event = Event.objects.create(endpoint=endpoint, method="POST", received_at=T0)
    r = alice_api.get(f"/api/v1/events/{event.public_id}/deliveries/")
    assert r.status_code == 200
    assert r.json() == []


def test_it_returns_404_json_for_attempts_of_an_unknown_event(alice_api) -> None:
    r = alice_api.get("/api/v1/events/evt_nosuchevent/deliveries/")
    assert r.status_code == 404
    assert "detail" in r.json()


def test_listing_attempts_takes_the_same_queries_for_many_rows(
    alice, alice_api, django_assert_max_num_queries
) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")
    event = Event.objects.create(endpoint=endpoint, method="POST", received_at=T0)

    def attempt(n: int) -> DeliveryAttempt:
        return DeliveryAttempt(
            event=event,
            endpoint=endpoint,
            attempt=n,
            url="https://hooks.example.test/",
            outcome=Outcome.CONNECTION_ERROR,
            started_at=T0,
        )

    attempt(1).save()
    with CaptureQueriesContext(connection) as few:
        alice_api.get(f"/api/v1/events/{event.public_id}/deliveries/")
    DeliveryAttempt.objects.bulk_create(attempt(n) for n in range(2, 22))
    with django_assert_max_num_queries(len(few)):
        r = alice_api.get(f"/api/v1/events/{event.public_id}/deliveries/")
    assert len(r.json()) == 21
