"""Ingest wakes a forwarding engine with an entry on a Redis list, not with a
Celery message per batch; an engine's listener turns each entry into a claim."""

import threading

import pytest
import redis
import requests
from django.conf import settings

from deliveries import wakeups
from endpoints.models import Endpoint
from monitoring import counters
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(wakeups.key())
    yield client
    client.delete(wakeups.key())


def test_storing_an_event_to_forward_leaves_a_wake_up_and_an_inbox_event_does_not(server, no_worker, alice, client):
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    forwarding = Endpoint.objects.create(owner=alice, name="Shop", destination_url="http://127.0.0.1:9/hook")

    assert requests.post(f"{server.url}/in/{inbox.ingest_token}", json={"n": 1}, timeout=10).status_code == 200
    # The answer comes before the announcement: wait for the inbox event's.
    wait_until(lambda: client.hget(counters.totals_key(), f"{inbox.pk}:events"), timeout=10, message="counted")
    assert client.llen(wakeups.key()) == 0

    assert requests.post(f"{server.url}/in/{forwarding.ingest_token}", json={"n": 2}, timeout=10).status_code == 200
    wait_until(lambda: client.llen(wakeups.key()) == 1, timeout=10, message="a wake-up on the list")


def test_wake_ups_nobody_takes_stay_a_few():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(wakeups.key())
    pipe = client.pipeline(transaction=False)
    for _ in range(wakeups.BACKLOG * 3):
        wakeups.queue(pipe)
    pipe.execute()
    assert client.llen(wakeups.key()) == wakeups.BACKLOG
    client.delete(wakeups.key())


def test_each_wake_up_wakes_one_idle_listener_once_and_listeners_end_when_told():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(wakeups.key())
    woken: list[str] = []
    stopping = threading.Event()
    idle, busy = threading.Event(), threading.Event()
    idle.set()
    listeners = [
        threading.Thread(target=wakeups.listen, args=(lambda name=name: woken.append(name), state, stopping),
                         daemon=True)
        for name, state in (("idle", idle), ("busy", busy))
    ]
    for listener in listeners:
        listener.start()
    pipe = client.pipeline(transaction=False)
    for _ in range(3):
        wakeups.queue(pipe)
    pipe.execute()

    wait_until(lambda: len(woken) == 3, timeout=10, message="three wake-ups taken")
    assert woken == ["idle"] * 3  # a busy engine leaves them to the others
    stopping.set()
    for listener in listeners:
        listener.join(5)
        assert not listener.is_alive()
    assert len(woken) == 3  # none twice
    assert client.llen(wakeups.key()) == 0
