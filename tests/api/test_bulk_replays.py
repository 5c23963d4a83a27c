"""`/api/v1/replays/`: starting, reading and cancelling bulk replays (no worker here)."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from endpoints.models import Endpoint
from events.models import Event, EventStatus
from replays.models import BulkReplay, ReplayState

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=dt_timezone.utc)


@pytest.fixture
def endpoint(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")


def events(endpoint: Endpoint, count: int, status: str = EventStatus.FAILED, start: datetime = T0) -> list[Event]:
    return [
        Event.objects.create(endpoint=endpoint, method="POST", received_at=start + timedelta(minutes=i), status=status)
        for i in range(count)
    ]


def test_it_starts_a_job_over_the_matching_events(
    alice, alice_api, endpoint, django_capture_on_commit_callbacks
) -> None:
    events(endpoint, 3)
    events(endpoint, 2, status=EventStatus.DELIVERED)
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.post("/api/v1/replays/", {"endpoint": endpoint.public_id, "status": "failed"}, format="json")
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["id"].startswith("rpl_")
    assert {k: body[k] for k in ("endpoint", "state", "total", "done", "failed")} == {
        "endpoint": endpoint.public_id, "state": "running", "total": 3, "done": 0, "failed": 0,
    }
    assert len(callbacks) == 1  # the job, enqueued after the commit
    assert alice_api.get(f"/api/v1/replays/{body['id']}/").json()["total"] == 3


def test_it_filters_on_the_arrival_window(alice_api, endpoint) -> None:
    events(endpoint, 10)  # T0 .. T0 + 9 min
    r = alice_api.post(
        "/api/v1/replays/",
        {
            "endpoint": endpoint.public_id,
            "received_after": (T0 + timedelta(minutes=2)).isoformat(),
            "received_before": (T0 + timedelta(minutes=5)).isoformat(),
        },
        format="json",
    )
    assert r.status_code == 202
    assert r.json()["total"] == 3  # minutes 2, 3 and 4


def test_a_filter_matching_nothing_is_done_with_total_0(alice_api, endpoint, django_capture_on_commit_callbacks) -> None:
    events(endpoint, 2, status=EventStatus.DELIVERED)
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.post("/api/v1/replays/", {"endpoint": endpoint.public_id, "status": "failed"}, format="json")
    assert r.status_code == 202
    assert {k: r.json()[k] for k in ("state", "total", "done", "failed")} == {
        "state": "done", "total": 0, "done": 0, "failed": 0,
    }
    assert r.json()["finished_at"] is not None
    assert callbacks == []


def test_an_inbox_is_409_and_starts_nothing(alice, alice_api) -> None:
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    r = alice_api.post("/api/v1/replays/", {"endpoint": inbox.public_id}, format="json")
    assert r.status_code == 409
    assert r.json() == {"detail": "endpoint has no destination"}
    assert not BulkReplay.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "endpoint"),
        ({"status": "lost"}, "status"),
        ({"received_after": "yesterday"}, "received_after"),
    ],
)
def test_a_malformed_filter_is_a_400(alice_api, endpoint, payload: dict, field: str) -> None:
    payload = {"endpoint": endpoint.public_id, **payload} if field != "endpoint" else payload
    r = alice_api.post("/api/v1/replays/", payload, format="json")
    assert r.status_code == 400
    assert field in r.json()["detail"]
    assert not BulkReplay.objects.exists()


def test_an_empty_window_is_a_replay_of_nothing_done_at_once(alice_api, endpoint) -> None:
    # The schema cannot forbid it, so it is not refused: it matches nothing.
    events(endpoint, 2)
    payload = {"endpoint": endpoint.public_id, "received_after": "2025-03-02T00:00:00Z",
               "received_before": "2025-03-01T00:00:00Z"}
    r = alice_api.post("/api/v1/replays/", payload, format="json")
    assert r.status_code == 202
    assert (r.json()["state"], r.json()["total"]) == ("done", 0)


@pytest.mark.parametrize("endpoint_id", ["ep_doesnotexist", "not-an-id"])
def test_an_unknown_endpoint_is_404(alice_api, endpoint_id: str) -> None:
    r = alice_api.post("/api/v1/replays/", {"endpoint": endpoint_id}, format="json")
    assert r.status_code == 404


def test_another_users_endpoint_and_replays_are_404(alice, bob_api, alice_api, endpoint) -> None:
    events(endpoint, 1)
    assert bob_api.post("/api/v1/replays/", {"endpoint": endpoint.public_id}, format="json").status_code == 404
    replay_id = alice_api.post("/api/v1/replays/", {"endpoint": endpoint.public_id}, format="json").json()["id"]
    assert bob_api.get(f"/api/v1/replays/{replay_id}/").status_code == 404
    assert bob_api.post(f"/api/v1/replays/{replay_id}/cancel/").status_code == 404
    assert bob_api.get("/api/v1/replays/").json()["results"] == []
    assert BulkReplay.objects.get().state == ReplayState.RUNNING


def test_cancel_stops_a_running_job(alice_api, endpoint) -> None:
    events(endpoint, 2)
    replay_id = alice_api.post("/api/v1/replays/", {"endpoint": endpoint.public_id}, format="json").json()["id"]
    r = alice_api.post(f"/api/v1/replays/{replay_id}/cancel/")
    assert r.status_code == 200
    assert r.json()["state"] == "cancelled"
    assert r.json()["finished_at"] is not None
    again = alice_api.post(f"/api/v1/replays/{replay_id}/cancel/")
    assert again.status_code == 409
    assert again.json() == {"detail": "replay is already cancelled"}


def test_a_finished_job_cannot_be_cancelled(alice_api, endpoint) -> None:
    replay_id = alice_api.post("/api/v1/replays/", {"endpoint": endpoint.public_id}, format="json").json()["id"]
    r = alice_api.post(f"/api/v1/replays/{replay_id}/cancel/")
    assert r.status_code == 409
    assert r.json() == {"detail": "replay is already done"}


def test_it_filters_on_the_event_type(alice_api, endpoint) -> None:
    types = ["charge.succeeded", "charge.succeeded", "charge.failed", None]
    for event, event_type in zip(events(endpoint, 4), types, strict=True):
        Event.objects.filter(pk=event.pk).update(event_type=event_type)
    r = alice_api.post(
        "/api/v1/replays/", {"endpoint": endpoint.public_id, "event_type": "charge.succeeded"}, format="json"
    )
    assert r.status_code == 202
    assert (r.json()["total"], r.json()["event_type"]) == (2, "charge.succeeded")
