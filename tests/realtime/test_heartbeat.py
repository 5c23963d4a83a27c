"""Pings every WS_PING_SECONDS; a client silent for WS_IDLE_SECONDS is closed with 1000."""

import pytest

from tests.realtime.support import receive_until

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def quick_heartbeat(settings):
    settings.WS_PING_SECONDS = 0.1
    settings.WS_IDLE_SECONDS = 0.45


async def test_it_pings_on_the_control_channel(sockets, quick_heartbeat, alice_token):
    ws = await sockets.connect(alice_token)
    assert await ws.receive_json_from() == {"type": "ping", "channel": "control"}
    await ws.send_json_to({"type": "pong"})
    assert await ws.receive_json_from() == {"type": "ping", "channel": "control"}


async def test_answering_pings_keeps_the_socket_open_past_the_idle_limit(sockets, quick_heartbeat, alice_token):
    ws = await sockets.connect(alice_token)
    # 12 pings at 0.1 s are well past the 0.45 s idle limit.
    for _ in range(12):
        message = await ws.receive_json_from()
        assert message["type"] == "ping"
        await ws.send_json_to({"type": "pong"})


async def test_a_silent_client_is_closed_with_1000(sockets, quick_heartbeat, alice_token):
    ws = await sockets.connect(alice_token)
    pings = 0
    while True:
        output = await ws.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            break
        pings += 1
    assert output.get("code") == 1000
    assert 2 <= pings <= 6
    assert await ws.receive_nothing(timeout=0.2)


async def test_any_request_counts_as_a_sign_of_life(sockets, quick_heartbeat, alice_token):
    ws = await sockets.connect(alice_token)
    for _ in range(10):  # about 1 s, past the idle limit
        await receive_until(ws, lambda message: message["type"] == "ping")
        await ws.send_json_to({"type": "subscribe", "endpoints": []})
    # Still open: a closed socket would fail receive_json_from.
    await ws.send_json_to({"type": "subscribe", "endpoints": ["*"]})
    await receive_until(ws, lambda message: message.get("endpoints") == ["*"])
