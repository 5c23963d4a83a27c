"""Ingest -> real Celery worker -> real destination, including faults."""

import pytest
import requests

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support.processes import wait_until
from tests.support.receiver import Reply
from tests.support.redis_keys import drop_run_keys

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(event_id: str) -> str:
    return Event.objects.get(public_id=event_id).status


def post(server, endpoint: Endpoint, body: bytes = b'{"hello": "world"}') -> str:
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=body, timeout=10)
    assert answer.status_code == 200
    return answer.json()["event_id"]


@pytest.fixture
def flaky(alice, receiver):
    return Endpoint.objects.create(owner=alice, name="Flaky", destination_url=receiver.url, retry_schedule=[1, 1, 1])


def test_a_flaky_destination_gets_the_event_after_retries(server, worker, flaky, receiver):
    receiver.script(Reply(status=503), Reply(status=503), Reply(status=200))
    event_id = post(server, flaky)
    wait_until(lambda: status_of(event_id) == EventStatus.DELIVERED, timeout=20, message="delivery")
    attempts = list(DeliveryAttempt.objects.filter(event__public_id=event_id).values_list("attempt", "status_code"))
    assert attempts == [(1, 503), (2, 503), (3, 200)]
    assert [r.body for r in receiver.requests] == [b'{"hello": "world"}'] * 3
    # Each attempt of one event carries the same webhook-id, for idempotency.
    assert {r.header("webhook-id") for r in receiver.requests} == {event_id}


def test_losing_every_redis_key_mid_retry_loses_no_delivery(server, worker, flaky, receiver, redis_client):
    Endpoint.objects.filter(pk=flaky.pk).update(retry_schedule=[2])
    receiver.script(Reply(status=500), Reply(status=200))
    event_id = post(server, flaky)
    wait_until(lambda: status_of(event_id) == EventStatus.RETRYING, message="first failure")
    drop_run_keys(redis_client)  # this run's whole Redis state; other runs share the database
    wait_until(lambda: status_of(event_id) == EventStatus.DELIVERED, timeout=20, message="delivery after flush")
    assert DeliveryAttempt.objects.filter(event__public_id=event_id).count() == 2


def test_a_worker_killed_mid_task_delivers_after_restart(server, worker, flaky, receiver):
    receiver.script(Reply(status=200, delay=30), Reply(status=200))
    event_id = post(server, flaky)
    receiver.wait_for(1)  # the worker is now inside the request
    worker.kill_worker()
    assert DeliveryAttempt.objects.count() == 0
    worker.start_worker()
    wait_until(lambda: status_of(event_id) == EventStatus.DELIVERED, timeout=30, message="delivery after restart")
    assert list(DeliveryAttempt.objects.values_list("attempt", "outcome")) == [(1, Outcome.SUCCESS)]


def test_a_hanging_destination_does_not_starve_the_others(server, worker, alice, receiver):
    from tests.support.receiver import Receiver

    with Receiver() as slow:
        slow.script(Reply(status=200, delay=5))
        hanging = Endpoint.objects.create(owner=alice, name="Slow", destination_url=slow.url, timeout_seconds=10)
        fast = Endpoint.objects.create(owner=alice, name="Fast", destination_url=receiver.url)
        stuck = [post(server, hanging) for _ in range(3)]
        slow.wait_for(3)
        quick = post(server, fast)
        wait_until(lambda: status_of(quick) == EventStatus.DELIVERED, message="fast delivery")
        # The fast endpoint's event went through while all three slow ones were still in flight.
        assert not DeliveryAttempt.objects.filter(event__public_id__in=stuck).exists()


def test_two_worker_processes_racing_for_the_same_due_events_send_each_once(server, worker, stack, alice, receiver):
    # Black box: N events in, exactly N requests at the destination, one per webhook-id.
    rival = stack.start_rival_worker()
    first_log_start = len(stack.worker.log())
    try:
        receiver.script(Reply(status=200, delay=0.05))
        endpoint = Endpoint.objects.create(owner=alice, name="Race", destination_url=receiver.url)
        sent = [post(server, endpoint, body=f'{{"n": {n}}}'.encode()) for n in range(60)]
        wait_until(
            lambda: Event.objects.filter(public_id__in=sent, status=EventStatus.DELIVERED).count() == len(sent),
            timeout=60, message="every event delivered",
        )
        ids = [request.header("webhook-id") for request in receiver.requests]
        assert sorted(ids) == sorted(sent)
        # Both processes were live consumers during the race: each takes the
        # beat's sweeps (a sweep lands on one of them; with fast deliveries
        # the race can end before both had one, so wait a little for it).
        wait_until(
            lambda: "received" in stack.worker.log()[first_log_start:] and "received" in rival.log(),
            timeout=15, message="a sweep taken by each worker process",
        )
    finally:
        rival.stop()
