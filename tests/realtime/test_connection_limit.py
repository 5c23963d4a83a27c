"""At most WS_MAX_CONNECTIONS_PER_USER sockets per user, counted in Redis across processes."""

import asyncio
import json
import time

import psutil
import pytest
from asgiref.sync import sync_to_async
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from endpoints.models import ApiKey
from realtime.connections import slot_key
from tests.realtime.support import expect_close, subscribe
from tests.support.processes import wait_until

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_the_eleventh_socket_of_a_user_closes_with_4029(sockets, alice, alice_token, bob_token):
    opened = [await sockets.connect(alice_token) for _ in range(10)]
    for ws in opened:
        await subscribe(ws, ["*"])
    eleventh = await sockets.connect(alice_token)
    await expect_close(eleventh, 4029)
    # Another user is counted apart.
    bobs = await sockets.connect(bob_token)
    await subscribe(bobs, ["*"])


async def test_a_closed_socket_gives_its_slot_back(sockets, settings, alice_token):
    settings.WS_MAX_CONNECTIONS_PER_USER = 2
    first = await sockets.connect(alice_token)
    await sockets.connect(alice_token)
    await expect_close(await sockets.connect(alice_token), 4029)
    await sockets.disconnect(first)
    await subscribe(await sockets.connect(alice_token), ["*"])


async def test_slots_left_by_a_crashed_process_lapse(sockets, settings, alice, alice_token, redis_client):
    settings.WS_MAX_CONNECTIONS_PER_USER = 2
    # Two sockets of a process that died without releasing: their slots
    # were last refreshed long ago.
    stale = time.time() - 1
    await sync_to_async(redis_client.zadd)(slot_key(alice.pk), {"dead-1": stale, "dead-2": stale})
    ws = await sockets.connect(alice_token)
    await subscribe(ws, ["*"])
    members = await sync_to_async(redis_client.zrange)(slot_key(alice.pk), 0, -1)
    assert len(members) == 1 and not members[0].startswith(b"dead-")


async def test_a_slot_held_elsewhere_counts(sockets, settings, alice, alice_token, redis_client):
    settings.WS_MAX_CONNECTIONS_PER_USER = 1
    # A live socket of another process, refreshed a moment ago.
    await sync_to_async(redis_client.zadd)(slot_key(alice.pk), {"other-process": time.time() + 60})
    await expect_close(await sockets.connect(alice_token), 4029)


def open_subscribed(url: str) -> ClientConnection:
    ws = connect(url, open_timeout=10)
    ws.send(json.dumps({"type": "subscribe", "endpoints": ["*"]}))
    while json.loads(ws.recv(timeout=10))["type"] != "subscribed":
        continue
    return ws


@pytest.fixture
def alice_key(alice) -> str:
    return ApiKey.issue(alice, "many")[1]


def spread_over_both(server, url: str, redis_client, user_id: int) -> list[ClientConnection]:
    """Ten subscribed sockets held by both server processes (the kernel picks; retry until it spreads)."""
    for _ in range(5):
        opened = [open_subscribed(url) for _ in range(10)]
        holders = [
            process for process in server.server_processes()
            if any(c.laddr.port == server.port and c.status == psutil.CONN_ESTABLISHED
                   for c in process.net_connections(kind="tcp"))
        ]
        if len(holders) == 2:
            return opened
        for ws in opened:
            ws.close()
        wait_until(lambda: redis_client.zcard(slot_key(user_id)) == 0, message="slots given back")
    raise AssertionError("the server never spread ten sockets over both processes")


async def test_the_limit_holds_across_the_servers_processes(server, alice, alice_key, redis_client) -> None:
    url = f"ws://127.0.0.1:{server.port}/v1/ws?token={alice_key}"
    opened = await asyncio.to_thread(spread_over_both, server, url, redis_client, alice.pk)
    try:
        eleventh = await asyncio.to_thread(connect, url, open_timeout=10)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.to_thread(eleventh.recv, 10)
        assert closed.value.rcvd.code == 4029
    finally:
        for ws in opened:
            ws.close()
