"""At most WS_MAX_CONNECTIONS_PER_USER sockets per user, counted in Redis across processes."""

import time

import pytest
from asgiref.sync import sync_to_async

from realtime.connections import slot_key
from tests.realtime.support import expect_close, subscribe

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
