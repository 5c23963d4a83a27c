"""Ingest wakes the forwarding engines over Redis pub/sub, not with a Celery
message per batch; an engine's listener turns each wake-up into a claim."""

import threading

import pytest
import redis
import requests
from django.conf import settings

from deliveries import wakeups
from endpoints.models import Endpoint
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wake_ups():
    """Messages on the wake-up channel, as a list that fills while the test runs."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(wakeups.channel())
    received: list[bytes] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message is not None:
                received.append(message["data"])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    yield received
    stop.set()
    reader.join(5)
    pubsub.close()


def test_storing_an_event_to_forward_publishes_a_wake_up_and_an_inbox_event_does_not(server, alice, wake_ups):
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    forwarding = Endpoint.objects.create(owner=alice, name="Shop", destination_url="http://127.0.0.1:9/hook")

    assert requests.post(f"{server.url}/in/{inbox.ingest_token}", json={"n": 1}, timeout=10).status_code == 200
    # The inbox event's announcement (if any) left before this one's: one round trip per batch, in order.
    assert requests.post(f"{server.url}/in/{forwarding.ingest_token}", json={"n": 2}, timeout=10).status_code == 200

    wait_until(lambda: wake_ups, timeout=10, message="a wake-up on the channel")
    assert wake_ups == [b"1"]


def test_a_listener_calls_back_on_each_wake_up_and_ends_when_told():
    woken = threading.Semaphore(0)
    calls: list[int] = []
    stopping = threading.Event()

    def wake() -> None:
        calls.append(1)
        woken.release()

    listener = threading.Thread(target=wakeups.listen, args=(wake, stopping), daemon=True)
    listener.start()
    assert woken.acquire(timeout=10)  # once on subscribing: wake-ups missed before count as one
    client = redis.Redis.from_url(settings.REDIS_URL)
    wait_until(lambda: client.pubsub_numsub(wakeups.channel())[0][1] >= 1, timeout=10, message="subscribed")
    pipe = client.pipeline(transaction=False)
    wakeups.queue(pipe)
    pipe.execute()
    assert woken.acquire(timeout=10)
    assert len(calls) == 2

    stopping.set()
    listener.join(5)
    assert not listener.is_alive()
