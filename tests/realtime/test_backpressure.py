"""A slow client loses its oldest messages, is told how many once it catches up, and slows no one."""

import asyncio

import pytest

from config.asgi import application
from tests.realtime.support import announce_event, create_endpoint, create_event, subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def slow_socket(gate: asyncio.Event):
    """The real app behind a transport whose writes block until `gate` opens,
    like a client that stopped reading and filled its TCP window."""

    async def app(scope, receive, send):
        async def stalled_send(message):
            if message["type"] == "websocket.send":
                await gate.wait()
            await send(message)

        await application(scope, receive, stalled_send)

    return app


async def test_a_slow_client_gets_the_newest_messages_and_one_dropped_count(
    sockets, settings, alice, alice_token
):
    settings.WS_QUEUE_SIZE = 5
    endpoint = await create_endpoint(alice)
    gate = asyncio.Event()
    gate.set()
    slow = await sockets.connect(alice_token, app=slow_socket(gate))
    fast = await sockets.connect(alice_token)
    await subscribe(slow, [endpoint.public_id])
    await subscribe(fast, [endpoint.public_id])
    gate.clear()

    sent = []
    for _ in range(20):
        sent.append(await announce_event(await create_event(endpoint)))
    # The fast client on the same group gets every message while the slow
    # one is stuck: the slow socket never holds up the group receive loop.
    for message in sent:
        assert await fast.receive_json_from() == message
    assert await slow.receive_nothing(timeout=0.2)

    gate.set()
    received = []
    while not await slow.receive_nothing(timeout=0.3):
        received.append(await slow.receive_json_from())
    data = [m for m in received if m["type"] == "event.received"]
    dropped = [m for m in received if m["type"] == "dropped"]
    assert len(dropped) == 1 and received[-1] == dropped[0]
    assert dropped[0] == {"type": "dropped", "channel": "control", "count": 20 - len(data)}
    # Oldest dropped first: what is left is in order and ends with the newest.
    ids = [m["data"]["id"] for m in sent]
    positions = [ids.index(m["data"]["id"]) for m in data]
    assert positions == sorted(positions) and positions[-1] == 19
    # One message was already on its way to the socket, plus a full queue.
    assert len(data) <= 1 + settings.WS_QUEUE_SIZE
