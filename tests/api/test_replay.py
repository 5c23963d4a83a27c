from datetime import datetime, timedelta, timezone as dt_timezone

from django.utils import timezone

from endpoints.models import Endpoint
from events.models import Event, EventStatus

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=dt_timezone.utc)


def test_replay_makes_a_failed_event_due_now(alice, alice_api, django_capture_on_commit_callbacks) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")
    event = Event.objects.create(
        endpoint=endpoint, method="POST", received_at=T0, status=EventStatus.FAILED, attempt_count=8, retry_index=7
    )
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.post(f"/api/v1/events/{event.public_id}/replay/")
    assert r.status_code == 202
    assert r.json() == {"event_id": event.public_id, "status": "received"}
    event.refresh_from_db()
    assert event.status == EventStatus.RECEIVED
    assert event.next_attempt_at is not None
    assert abs(event.next_attempt_at - timezone.now()) < timedelta(seconds=5)
    assert event.retry_index == 0
    # Same event, later attempts: the count carries on.
    assert event.attempt_count == 8
    # One wake-up, sent only after the commit.
    assert len(callbacks) == 1


def test_replay_holds_the_event_while_its_endpoint_is_paused(
    alice, alice_api, django_capture_on_commit_callbacks
) -> None:
    endpoint = Endpoint.objects.create(
        owner=alice, name="Stripe", destination_url="https://hooks.example.test/", paused=True
    )
    event = Event.objects.create(endpoint=endpoint, method="POST", received_at=T0, status=EventStatus.DELIVERED)
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.post(f"/api/v1/events/{event.public_id}/replay/")
    assert r.status_code == 202
    assert r.json() == {"event_id": event.public_id, "status": "held"}
    event.refresh_from_db()
    assert event.status == EventStatus.HELD
    assert event.next_attempt_at is None
    assert callbacks == []


def test_replay_answers_409_for_an_endpoint_without_destination(alice, alice_api) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    event = Event.objects.create(endpoint=inbox, method="POST", received_at=T0)
    r = alice_api.post(f"/api/v1/events/{event.public_id}/replay/")
    assert r.status_code == 409
    assert r.json() == {"detail": "endpoint has no destination"}
    event.refresh_from_db()
    assert event.next_attempt_at is None


def test_replay_returns_404_json_for_an_unknown_event(alice_api) -> None:
    r = alice_api.post("/api/v1/events/evt_nosuchevent/replay/")
    assert r.status_code == 404
    assert "detail" in r.json()


def test_replay_refuses_get_with_405(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")
    event = Event.objects.create(endpoint=endpoint, method="POST", received_at=T0)
    r = alice_api.get(f"/api/v1/events/{event.public_id}/replay/")
    assert r.status_code == 405
    assert "detail" in r.json()
