"""Bulk replays run by the real worker against real destinations, streamed over /v1/ws."""

import asyncio
import json
import time
from datetime import timedelta

import pytest
import websockets
from django.utils import timezone

from deliveries.models import DeliveryAttempt
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from replays.models import BulkReplay, ReplayState
from replays.tasks import resume_stalled_replays
from tests.support.processes import wait_until
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint(alice, receiver) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Stripe", destination_url=receiver.url, retry_schedule=[3600])


def failed_events(endpoint: Endpoint, count: int) -> list[Event]:
    start = timezone.now() - timedelta(hours=1)
    return [
        Event.objects.create(
            endpoint=endpoint, method="POST", body=b'{"n": %d}' % i, size=8, status=EventStatus.FAILED,
            received_at=start + timedelta(seconds=i), attempt_count=3,
        )
        for i in range(count)
    ]


def finished(replay_id: str) -> BulkReplay | None:
    job = BulkReplay.objects.get(public_id=replay_id)
    return job if job.finished and job.claimed_until is None else None


def test_every_matching_event_is_sent_again_and_counted(api, worker, endpoint, receiver) -> None:
    sent = failed_events(endpoint, 45)
    Event.objects.create(endpoint=endpoint, method="POST", body=b"delivered", status=EventStatus.DELIVERED,
                         received_at=timezone.now() - timedelta(minutes=5))
    r = api.post("/api/v1/replays/", {"endpoint": endpoint.public_id, "status": "failed"})
    assert r.status_code == 202, r.text
    assert (r.json()["state"], r.json()["total"]) == ("running", 45)
    job = wait_until(lambda: finished(r.json()["id"]), timeout=60, message="the job's end")
    assert (job.state, job.total, job.done, job.failed) == (ReplayState.DONE, 45, 45, 0)
    assert sorted(request.body for request in receiver.requests) == sorted(event.body_bytes for event in sent)
    # Each event had a new round on itself: attempt 4 after its three failures.
    assert set(Event.objects.filter(pk__in=[e.pk for e in sent]).values_list("status", "attempt_count")) == {
        (EventStatus.DELIVERED, 4)
    }
    assert api.get(f"/api/v1/replays/{job.public_id}/").json()["state"] == "done"


def test_failed_attempts_are_counted_and_retried_on_schedule(api, worker, endpoint, receiver) -> None:
    receiver.script(Reply(status=500))
    failed_events(endpoint, 5)
    replay_id = api.post("/api/v1/replays/", {"endpoint": endpoint.public_id}).json()["id"]
    job = wait_until(lambda: finished(replay_id), timeout=60, message="the job's end")
    assert (job.state, job.total, job.done, job.failed) == (ReplayState.DONE, 5, 5, 5)
    assert set(Event.objects.values_list("status", flat=True)) == {EventStatus.RETRYING}
    assert DeliveryAttempt.objects.count() == 5


def test_cancel_stops_the_job_between_events(api, worker, endpoint, receiver) -> None:
    receiver.script(Reply(status=200, delay=0.5))
    failed_events(endpoint, 60)
    replay_id = api.post("/api/v1/replays/", {"endpoint": endpoint.public_id}).json()["id"]
    receiver.wait_for(4)
    r = api.post(f"/api/v1/replays/{replay_id}/cancel/")
    assert r.json()["state"] == "cancelled"
    job = wait_until(lambda: finished(replay_id), timeout=30, message="the job to stop")
    assert job.state == ReplayState.CANCELLED
    # What was sent is counted; the rest was never sent.
    assert job.done == len(receiver.requests) == DeliveryAttempt.objects.count()
    assert job.done < 60
    assert Event.objects.filter(status=EventStatus.FAILED).count() == 60 - job.done


async def progress_messages(ws_url: str, endpoint_id: str, start, limit: float = 60.0) -> list[tuple[float, dict]]:
    seen: list[tuple[float, dict]] = []
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"type": "subscribe", "endpoints": [endpoint_id]}))
        async with asyncio.timeout(limit):
            while json.loads(await ws.recv())["type"] != "subscribed":
                continue
            await asyncio.to_thread(start)
            while True:
                message = json.loads(await ws.recv())
                if message["type"] != "replay.progress":
                    continue
                seen.append((time.monotonic(), message))
                if message["data"]["state"] != "running":
                    return seen


def test_progress_streams_at_most_four_a_second_then_the_final_state(
    api, worker, server, endpoint, receiver, alice_key
) -> None:
    receiver.script(Reply(status=200, delay=0.05))
    failed_events(endpoint, 80)
    started: dict = {}

    def start() -> None:
        started.update(api.post("/api/v1/replays/", {"endpoint": endpoint.public_id}).json())

    ws_url = f"ws://127.0.0.1:{server.port}/v1/ws?token={alice_key}"
    seen = asyncio.run(progress_messages(ws_url, endpoint.public_id, start))

    messages = [message for _, message in seen]
    assert all(m["channel"] == "replays" and m["data"]["id"] == started["id"] for m in messages)
    assert messages[-1]["data"] == {
        "id": started["id"], "endpoint": endpoint.public_id, "state": "done", "total": 80, "done": 80, "failed": 0,
    }
    assert len(messages) >= 2, "progress while running, then the final state"
    done = [m["data"]["done"] for m in messages]
    assert done == sorted(done)
    # The throttle: running messages at least 0.25 s apart (less a little
    # for delivery jitter); only the final one may follow sooner.
    running = [at for at, m in seen if m["data"]["state"] == "running"]
    assert all(later - earlier >= 0.2 for earlier, later in zip(running, running[1:]))


def test_a_job_whose_start_was_lost_is_resumed_from_the_database(worker, alice, endpoint, receiver) -> None:
    failed_events(endpoint, 3)
    # As if Redis lost the start message: a running job no task ever claimed.
    job = BulkReplay.objects.create(
        owner=alice, endpoint=endpoint, total=3, created_at=timezone.now() - timedelta(minutes=5)
    )
    fresh = BulkReplay.objects.create(owner=alice, endpoint=endpoint, total=3)
    assert resume_stalled_replays() == 1  # the fresh one may still be on its way
    done = wait_until(lambda: finished(job.public_id), timeout=60, message="the resumed job's end")
    assert (done.state, done.done, done.failed) == (ReplayState.DONE, 3, 0)
    assert len(receiver.requests) == 3
    assert BulkReplay.objects.get(pk=fresh.pk).claimed_until is None


def test_a_job_whose_worker_died_is_resumed_after_its_lease(worker, alice, endpoint, receiver) -> None:
    failed_events(endpoint, 2)
    job = BulkReplay.objects.create(
        owner=alice, endpoint=endpoint, total=2, claimed_until=timezone.now() - timedelta(seconds=1)
    )
    held_elsewhere = timezone.now() + timedelta(minutes=1)
    BulkReplay.objects.create(owner=alice, endpoint=endpoint, total=2, claimed_until=held_elsewhere)
    assert resume_stalled_replays() == 1
    done = wait_until(lambda: finished(job.public_id), timeout=60, message="the resumed job's end")
    assert (done.state, done.done) == (ReplayState.DONE, 2)
