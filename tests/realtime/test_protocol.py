"""Anything but a known JSON request closes the socket with 4002."""

import json

import pytest

from tests.realtime.support import expect_close, subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[]",
        '"subscribe"',
        "{}",
        '{"type": "hello"}',
        '{"type": "subscribe"}',
        '{"type": "subscribe", "endpoints": "ep_1"}',
        '{"type": "subscribe", "endpoints": [1, 2]}',
        '{"type": "subscribe", "endpoints": ["*"], "since": 5}',
        '{"type": "unsubscribe", "endpoints": {"ep_1": true}}',
        '{"type": 7}',
    ],
)
async def test_it_closes_with_4002_on_a_frame_that_is_not_a_known_request(sockets, alice_token, frame):
    ws = await sockets.connect(alice_token)
    await ws.send_to(text_data=frame)
    await expect_close(ws, 4002)


async def test_it_closes_with_4002_on_a_binary_frame(sockets, alice_token):
    ws = await sockets.connect(alice_token)
    await ws.send_to(bytes_data=b'{"type": "pong"}')
    await expect_close(ws, 4002)


async def test_it_closes_with_4002_on_text_over_64_kib(sockets, alice_token):
    ws = await sockets.connect(alice_token)
    frame = json.dumps({"type": "subscribe", "endpoints": ["ep_" + "x" * (64 * 1024)]})
    await ws.send_to(text_data=frame)
    await expect_close(ws, 4002)


async def test_it_takes_a_request_of_just_under_64_kib(sockets, alice_token):
    ws = await sockets.connect(alice_token)
    padding = "x" * (64 * 1024 - 100)
    await ws.send_to(text_data=json.dumps({"type": "subscribe", "endpoints": ["*"], "note": padding}))
    answer = await ws.receive_json_from()
    assert answer["type"] == "subscribed"


async def test_pong_is_accepted_without_an_answer(sockets, alice_token):
    ws = await sockets.connect(alice_token)
    await ws.send_json_to({"type": "pong"})
    assert await ws.receive_nothing(timeout=0.2)
    await subscribe(ws, ["*"])
