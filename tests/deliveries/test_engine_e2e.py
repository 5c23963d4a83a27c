"""The forwarding engine in real worker processes: caps, deadlines, kills,
retry timing and two processes sharing one burst."""

from collections import Counter

import psycopg
import pytest
import requests
from django.db import connection

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support import processes, sockets
from tests.support.processes import wait_until
from tests.support.receiver import Receiver, Reply
from tests.support.stack import STACK_APPLICATION_NAME

pytestmark = pytest.mark.django_db(transaction=True)


def post(server, endpoint: Endpoint, body: bytes = b'{"n": 1}') -> str:
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=body, timeout=10)
    assert answer.status_code == 200
    return answer.json()["event_id"]


def delivered(event_ids: list[str]) -> bool:
    return Event.objects.filter(public_id__in=event_ids, status=EventStatus.DELIVERED).count() == len(event_ids)


def test_a_trickling_destination_ends_at_its_timeout_and_a_healthy_one_is_not_delayed(server, worker, alice, receiver):
    with sockets.RawServer(sockets.trickle_headers(0.2)) as trickler:
        slow = Endpoint.objects.create(owner=alice, name="Trickle", destination_url=trickler.url, timeout_seconds=3)
        fast = Endpoint.objects.create(owner=alice, name="Fast", destination_url=receiver.url)
        stuck = post(server, slow)
        wait_until(lambda: trickler.connections, message="the trickling destination's connection")
        quick = post(server, fast)
        wait_until(lambda: delivered([quick]), timeout=10, message="the healthy delivery")
        # Delivered while the trickling attempt was still within its deadline.
        assert not DeliveryAttempt.objects.filter(event__public_id=stuck).exists()
        attempt = wait_until(
            lambda: DeliveryAttempt.objects.filter(event__public_id=stuck).first(), timeout=15, message="the timeout"
        )
    assert attempt.outcome == Outcome.TIMEOUT
    assert attempt.duration_ms < 3000 + 1000
    assert Event.objects.get(public_id=stuck).status == EventStatus.RETRYING


def test_one_endpoint_never_has_more_than_ten_attempts_in_flight(server, worker, alice, receiver):
    receiver.script(Reply(status=200, delay=1))
    busy = Endpoint.objects.create(owner=alice, name="Busy", destination_url=receiver.url)
    with Receiver() as other:
        quiet = Endpoint.objects.create(owner=alice, name="Quiet", destination_url=other.url)
        sent = [post(server, busy) for _ in range(25)]
        receiver.wait_for(10)
        # The other endpoint's event goes out at once, beside the ten in flight.
        quick = post(server, quiet)
        wait_until(lambda: delivered([quick]), timeout=5, message="the other endpoint's delivery")
        assert Event.objects.filter(public_id__in=sent, status=EventStatus.DELIVERED).count() < 25
        wait_until(lambda: delivered(sent), timeout=30, message="the busy endpoint's backlog")
    assert receiver.max_in_flight == 10
    assert len(receiver.requests) == 25


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_each_event_at_most_once_more(
    server, worker, alice, receiver
):
    receiver.script(*[Reply(status=200, delay=30)] * 10, Reply(status=200))
    endpoint = Endpoint.objects.create(owner=alice, name="Killed", destination_url=receiver.url, timeout_seconds=3)
    sent = [post(server, endpoint, b'{"n": %d}' % n) for n in range(20)]
    receiver.wait_for(10)  # a batch of ten is in flight
    worker.kill_worker()
    assert DeliveryAttempt.objects.count() == 0
    worker.start_worker()
    # The ten never claimed go out at once; the ten claimed once their lease runs out.
    wait_until(lambda: delivered(sent), timeout=40, message="every event after the restart")
    copies = Counter(r.header("webhook-id") for r in receiver.requests)
    assert set(copies) == set(sent)
    assert max(copies.values()) <= 2
    assert sorted(DeliveryAttempt.objects.values_list("attempt", "outcome")) == [(1, Outcome.SUCCESS)] * 20


def test_retries_go_out_within_a_second_of_their_due_time(server, worker, alice, receiver):
    receiver.script(Reply(status=500), Reply(status=503), Reply(status=200))
    endpoint = Endpoint.objects.create(owner=alice, name="Retry", destination_url=receiver.url, retry_schedule=[1, 2])
    event_id = post(server, endpoint)
    wait_until(lambda: delivered([event_id]), timeout=20, message="delivery after two retries")
    attempts = list(DeliveryAttempt.objects.filter(event__public_id=event_id).order_by("attempt"))
    assert [a.status_code for a in attempts] == [500, 503, 200]
    for previous, retry in zip(attempts, attempts[1:]):
        lateness = (retry.started_at - previous.next_retry_at).total_seconds()
        assert 0 <= lateness < 1, lateness


def test_two_worker_processes_share_a_burst_without_sending_any_event_twice(server, worker, alice, receiver):
    second = processes.worker(worker.env, worker.log_dir, name="second").start()
    try:
        wait_until(lambda: "ready." in second.log(), timeout=30, message="the second worker")
        endpoint = Endpoint.objects.create(owner=alice, name="Shared", destination_url=receiver.url)
        sent = [post(server, endpoint) for _ in range(300)]
        wait_until(lambda: delivered(sent), timeout=60, message="the burst")
    finally:
        second.stop()
    copies = Counter(r.header("webhook-id") for r in receiver.requests)
    assert copies == Counter({event_id: 1 for event_id in sent})
    assert DeliveryAttempt.objects.count() == 300


def test_connections_cut_between_batches_cost_no_second_send(server, worker, alice, receiver):
    # As a PostgreSQL restart would: every connection of the stack is cut while
    # the engine idles. The recorder learns its connection is gone only when it
    # records the next attempt; giving that batch up would send it again once
    # its lease (15 s here) ran out.
    endpoint = Endpoint.objects.create(owner=alice, name="Cut", destination_url=receiver.url, timeout_seconds=10)
    inbox = Endpoint.objects.create(owner=alice, name="Probe")
    first = post(server, endpoint)
    wait_until(lambda: delivered([first]), timeout=10, message="the first delivery")
    name = connection.settings_dict["NAME"]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [name, STACK_APPLICATION_NAME],
        ).fetchone()[0]
    assert cut >= 2  # the web's pool and the worker's engine at least
    # The web's pools find their cut connections one request at a time (503
    # each); the tests after this one need them all replaced.
    wait_until(lambda: _answers_in_a_row(server, inbox, 20), timeout=30, message="ingest recovered after the cut")
    second = post(server, endpoint, b'{"n": 2}')
    wait_until(lambda: delivered([second]), timeout=8, message="the second delivery, recorded on its first attempt")
    assert DeliveryAttempt.objects.filter(event__public_id=second).count() == 1
    assert [r.header("webhook-id") for r in receiver.requests].count(second) == 1


def _answers_in_a_row(server, endpoint: Endpoint, count: int) -> bool:
    url = f"{server.url}/in/{endpoint.ingest_token}"
    return all(requests.post(url, data=b"{}", timeout=10).status_code == 200 for _ in range(count))
