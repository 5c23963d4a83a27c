"""`since` replays what the client missed, in order, then goes live with no gap and no duplicate."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import DeliveryAttempt, Outcome
from events.models import UNCHECKED
from tests.realtime.support import (
    announce_attempt,
    announce_event,
    create_attempt,
    create_endpoint,
    create_event,
    subscribe,
    wait_for,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def identity(message: dict) -> tuple:
    data = message["data"]
    if message["type"] == "event.received":
        return ("received", data["id"])
    return (message["type"], data["event_id"], data["attempt"])


async def receive_until_quiet(ws, quiet: float = 0.5) -> list[dict]:
    received = []
    while not await ws.receive_nothing(timeout=quiet):
        received.append(await ws.receive_json_from())
    return received


async def test_it_replays_events_and_attempts_after_since_in_order(sockets, alice, alice_token):
    endpoint = await create_endpoint(alice)
    since = await create_event(endpoint)
    first, second = await create_event(endpoint), await create_event(endpoint)
    retrying = await create_attempt(first, 1, Outcome.HTTP_ERROR, next_retry_at=timezone.now() + timedelta(minutes=1))
    delivered = await create_attempt(first, 2, Outcome.SUCCESS)
    failed = await create_attempt(second, 1, Outcome.TIMEOUT)
    ws = await sockets.connect(alice_token)

    await subscribe(ws, [endpoint.public_id], since=since.public_id)
    messages = await receive_until_quiet(ws)

    assert [identity(m) for m in messages] == [
        ("received", first.public_id),
        ("received", second.public_id),
        ("event.retrying", first.public_id, 1),
        ("event.delivered", first.public_id, 2),
        ("event.failed", second.public_id, 1),
    ]
    assert messages[0]["channel"] == "events"
    assert messages[0]["data"] == {
        "id": first.public_id, "endpoint": endpoint.public_id, "method": "POST", "size": 2,
        "status": "received", "received_at": first.received_at.isoformat(),
        "event_type": None, "signature": UNCHECKED, "duplicate_of": None,
    }
    assert messages[2]["channel"] == "deliveries"
    assert messages[2]["data"]["next_retry_at"] == retrying.next_retry_at.isoformat()
    assert messages[3]["data"]["delivery_id"] == delivered.public_id
    assert messages[4]["data"]["status_code"] == failed.status_code == 500


async def test_a_replays_one_off_attempt_to_another_url_is_not_replayed(sockets, alice, alice_token):
    endpoint = await create_endpoint(alice)
    since = await create_event(endpoint)
    event = await create_event(endpoint)
    await create_attempt(event, 1, Outcome.SUCCESS)
    one_off = await create_attempt(event, 2, Outcome.HTTP_ERROR)
    await DeliveryAttempt.objects.filter(pk=one_off.pk).aupdate(one_off=True)
    ws = await sockets.connect(alice_token)

    await subscribe(ws, [endpoint.public_id], since=since.public_id)

    # It is no part of the event's delivery: replaying it would show "failed".
    assert [identity(m) for m in await receive_until_quiet(ws)] == [
        ("received", event.public_id), ("event.delivered", event.public_id, 1),
    ]


async def test_an_unknown_since_is_an_error_and_subscribes_nothing(sockets, alice, alice_token):
    endpoint = await create_endpoint(alice)
    ws = await sockets.connect(alice_token)
    await ws.send_json_to({"type": "subscribe", "endpoints": [endpoint.public_id], "since": "evt_nope"})
    error = await ws.receive_json_from()
    assert error == {"type": "error", "channel": "control", "detail": "Unknown event in since: evt_nope"}
    await announce_event(await create_event(endpoint))
    assert await ws.receive_nothing(timeout=0.3)


async def test_it_goes_live_after_the_replay_without_gap_or_duplicate(sockets, alice, alice_token):
    endpoint = await create_endpoint(alice)
    since = await create_event(endpoint)
    missed = [await create_event(endpoint) for _ in range(5)]
    retried = await create_attempt(missed[0], 1, Outcome.HTTP_ERROR, next_retry_at=timezone.now())
    # Committed before the subscribe, announced after it: both copies would
    # reach the client without the dedupe.
    late = await create_event(endpoint)
    ws = await sockets.connect(alice_token)

    published: list = []

    async def ingest() -> None:
        # Like ingest: commit, then announce; while the client subscribes.
        for _ in range(40):
            event = await create_event(endpoint)
            await announce_event(event)
            published.append(event)

    producer = asyncio.create_task(ingest())
    await wait_for(lambda: len(published) >= 3)
    await ws.send_json_to({"type": "subscribe", "endpoints": [endpoint.public_id], "since": since.public_id})
    await producer
    await announce_event(late)
    await announce_attempt(retried)
    messages = await receive_until_quiet(ws)

    assert messages[0]["type"] == "subscribed"
    expected = [("received", e.public_id) for e in missed]
    expected.append(("event.retrying", missed[0].public_id, 1))
    expected.append(("received", late.public_id))
    expected += [("received", e.public_id) for e in published]
    assert [identity(m) for m in messages[1:]] == expected


async def test_a_replay_longer_than_the_queue_keeps_the_newest_and_counts_the_rest(
    sockets, settings, alice, alice_token
):
    settings.WS_QUEUE_SIZE = 3
    endpoint = await create_endpoint(alice)
    since = await create_event(endpoint)
    missed = [await create_event(endpoint) for _ in range(5)]
    ws = await sockets.connect(alice_token)
    await subscribe(ws, ["*"], since=since.public_id)
    messages = await receive_until_quiet(ws)
    assert [m["data"]["id"] for m in messages[:-1]] == [e.public_id for e in missed[-3:]]
    assert messages[-1] == {"type": "dropped", "channel": "control", "count": 2}


async def test_star_replays_every_endpoint_of_the_user(sockets, alice, bob, alice_token):
    first, second = await create_endpoint(alice, "A"), await create_endpoint(alice, "B")
    bobs = await create_endpoint(bob, "Bob's")
    since = await create_event(first)
    on_second = await create_event(second)
    await create_event(bobs)
    on_first = await create_event(first)
    ws = await sockets.connect(alice_token)
    await subscribe(ws, ["*"], since=since.public_id)
    messages = await receive_until_quiet(ws)
    assert [m["data"]["id"] for m in messages] == [on_second.public_id, on_first.public_id]
