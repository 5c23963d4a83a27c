from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
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
    assert r.json() == {"event_id": event.public_id, "replay_of": None, "status": "received"}
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
    assert r.json() == {"event_id": event.public_id, "replay_of": None, "status": "held"}
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


# --- edited copies, other URLs (v2) ---------------------------------------------

ORIGINAL_HEADERS = [["content-type", "application/json"], ["stripe-signature", "t=1,v1=abc"]]


def stripe_event(owner, **endpoint_fields) -> Event:
    endpoint_fields.setdefault("destination_url", "https://hooks.example.test/")
    endpoint = Endpoint.objects.create(owner=owner, name="Stripe", **endpoint_fields)
    return Event.objects.create(
        endpoint=endpoint, method="POST", path="charges", query="x=1", headers=ORIGINAL_HEADERS,
        body=b'{"amount": 100}', size=15, content_type="application/json", received_at=T0,
        status=EventStatus.DELIVERED, attempt_count=1,
    )


def test_an_edited_body_makes_a_new_event_linked_to_its_original(
    alice, alice_api, django_capture_on_commit_callbacks
) -> None:
    original = stripe_event(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.post(f"/api/v1/events/{original.public_id}/replay/", {"body": '{"amount": 999}'}, format="json")
    assert r.status_code == 202, r.content
    copy = Event.objects.get(public_id=r.json()["event_id"])
    assert r.json() == {"event_id": copy.public_id, "replay_of": original.public_id, "status": "received"}
    assert copy.pk != original.pk
    assert copy.replay_of == original
    assert copy.body_bytes == b'{"amount": 999}'
    assert copy.size == 15
    assert (copy.method, copy.path, copy.query, copy.headers) == ("POST", "charges", "x=1", ORIGINAL_HEADERS)
    assert copy.status == EventStatus.RECEIVED
    assert copy.next_attempt_at is not None and copy.attempt_count == 0
    # A wake-up for the copy and its event.received, both after the commit.
    assert len(callbacks) == 2
    original.refresh_from_db()
    assert (original.status, original.body_bytes, original.attempt_count) == (EventStatus.DELIVERED, b'{"amount": 100}', 1)


def test_edited_headers_replace_every_header_and_set_the_content_type(alice, alice_api) -> None:
    original = stripe_event(alice)
    headers = {"content-type": "text/plain", "x-debug": "1"}
    r = alice_api.post(f"/api/v1/events/{original.public_id}/replay/", {"headers": headers}, format="json")
    assert r.status_code == 202, r.content
    copy = Event.objects.get(public_id=r.json()["event_id"])
    assert copy.headers == [["content-type", "text/plain"], ["x-debug", "1"]]
    assert copy.content_type == "text/plain"
    assert copy.body_bytes == original.body_bytes


def test_headers_may_be_given_as_pairs_with_repeated_names(alice, alice_api) -> None:
    original = stripe_event(alice)
    headers = [["x-tag", "a"], ["x-tag", "b"]]
    r = alice_api.post(f"/api/v1/events/{original.public_id}/replay/", {"headers": headers}, format="json")
    assert r.status_code == 202, r.content
    assert Event.objects.get(public_id=r.json()["event_id"]).headers == headers


def test_body_base64_replays_exact_bytes(alice, alice_api) -> None:
    original = stripe_event(alice)
    r = alice_api.post(
        f"/api/v1/events/{original.public_id}/replay/", {"body_base64": "AP8BgA=="}, format="json"
    )
    assert r.status_code == 202, r.content
    assert Event.objects.get(public_id=r.json()["event_id"]).body_bytes == b"\x00\xff\x01\x80"


def test_an_edited_copy_of_a_paused_endpoints_event_is_held(alice, alice_api) -> None:
    original = stripe_event(alice, paused=True)
    r = alice_api.post(f"/api/v1/events/{original.public_id}/replay/", {"body": "{}"}, format="json")
    assert r.status_code == 202
    assert r.json()["status"] == "held"
    assert Event.objects.get(public_id=r.json()["event_id"]).next_attempt_at is None


def test_a_url_alone_queues_one_attempt_of_the_same_event(
    alice, alice_api, django_capture_on_commit_callbacks
) -> None:
    original = stripe_event(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.post(
            f"/api/v1/events/{original.public_id}/replay/",
            {"destination_url": "https://laptop.example.test/hooks"}, format="json",
        )
    assert r.status_code == 202, r.content
    assert r.json() == {"event_id": original.public_id, "replay_of": None, "status": "delivered"}
    assert Event.objects.count() == 1
    original.refresh_from_db()
    # The event's own schedule is untouched; the attempt is a task's job.
    assert original.next_attempt_at is None
    assert len(callbacks) == 1


def test_an_inbox_event_can_be_replayed_to_a_url(alice, alice_api) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    event = Event.objects.create(endpoint=inbox, method="POST", received_at=T0)
    r = alice_api.post(
        f"/api/v1/events/{event.public_id}/replay/", {"destination_url": "https://laptop.example.test/"}, format="json"
    )
    assert r.status_code == 202, r.content


def test_an_edited_inbox_event_is_stored_and_streamed_like_an_arrival_there(
    alice, alice_api, django_capture_on_commit_callbacks
) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    event = Event.objects.create(endpoint=inbox, method="POST", received_at=T0)
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.post(f"/api/v1/events/{event.public_id}/replay/", {"body": "x"}, format="json")
    assert r.status_code == 202
    copy = Event.objects.get(public_id=r.json()["event_id"])
    assert (copy.replay_of_id, copy.status, copy.next_attempt_at) == (event.pk, EventStatus.RECEIVED, None)
    assert len(callbacks) == 1  # event.received only: nothing to forward


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/", "ftp://example.test/", "not a url"],
)
def test_a_url_the_outbound_rules_refuse_is_a_400(alice, alice_api, url: str) -> None:
    original = stripe_event(alice)
    r = alice_api.post(
        f"/api/v1/events/{original.public_id}/replay/", {"destination_url": url, "body": "x"}, format="json"
    )
    assert r.status_code == 400
    assert "destination_url" in r.json()["detail"]
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"body": "a", "body_base64": "YQ=="}, "non_field_errors"),
        ({"body_base64": "not base64!"}, "body_base64"),
        ({"headers": [["bad name", "x"]]}, "headers"),
        ({"headers": [["x-ok", "line\r\nbreak"]]}, "headers"),
        ({"headers": [["x-only-a-name"]]}, "headers"),
        ({"headers": "content-type: text/plain"}, "headers"),
    ],
)
def test_malformed_edits_are_a_400_and_store_nothing(alice, alice_api, payload: dict, field: str) -> None:
    original = stripe_event(alice)
    r = alice_api.post(f"/api/v1/events/{original.public_id}/replay/", payload, format="json")
    assert r.status_code == 400
    assert field in r.json()["detail"]
    assert Event.objects.count() == 1


def test_a_body_over_the_limit_is_a_413_and_stores_nothing(alice, alice_api, settings) -> None:
    settings.MAX_BODY_BYTES = 8
    original = stripe_event(alice)
    r = alice_api.post(f"/api/v1/events/{original.public_id}/replay/", {"body": "123456789"}, format="json")
    assert r.status_code == 413
    assert r.json() == {"detail": "Body is larger than the limit of 8 bytes."}
    assert Event.objects.count() == 1


def test_replay_of_a_deleted_event_is_404(alice, alice_api) -> None:
    original = stripe_event(alice)
    public_id = original.public_id
    original.delete()
    r = alice_api.post(f"/api/v1/events/{public_id}/replay/", {"body": "x"}, format="json")
    assert r.status_code == 404
    assert Event.objects.count() == 0


def test_another_users_event_cannot_be_replayed_anywhere(alice, bob_api) -> None:
    original = stripe_event(alice)
    r = bob_api.post(
        f"/api/v1/events/{original.public_id}/replay/",
        {"destination_url": "https://bob.example.test/", "body": "x"}, format="json",
    )
    assert r.status_code == 404
    assert Event.objects.count() == 1


def test_the_event_api_names_the_original_of_a_replay(alice, alice_api) -> None:
    original = stripe_event(alice)
    copy_id = alice_api.post(
        f"/api/v1/events/{original.public_id}/replay/", {"body": "x"}, format="json"
    ).json()["event_id"]
    detail = alice_api.get(f"/api/v1/events/{copy_id}/").json()
    assert detail["replay_of"] == original.public_id
    listed = {row["id"]: row["replay_of"] for row in alice_api.get("/api/v1/events/").json()["results"]}
    assert listed == {copy_id: original.public_id, original.public_id: None}


def test_a_replay_outlives_its_original(alice, alice_api) -> None:
    original = stripe_event(alice)
    copy_id = alice_api.post(
        f"/api/v1/events/{original.public_id}/replay/", {"body": "x"}, format="json"
    ).json()["event_id"]
    original.delete()
    assert alice_api.get(f"/api/v1/events/{copy_id}/").json()["replay_of"] is None
