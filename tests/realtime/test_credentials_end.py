"""A live socket closes with 4001 the moment its credentials stop holding."""

import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from tests.realtime.support import expect_close, issue_key, jwt_for, subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_it_closes_a_silent_socket_when_its_jwt_expires(sockets, alice):
    token = jwt_for(alice, lifetime=timedelta(seconds=2))
    # `exp` has whole seconds, so the token ends 1 to 2 seconds from now.
    ws = await sockets.connect(token)
    await subscribe(ws, ["*"])
    assert await ws.receive_nothing(timeout=0.5)
    await expect_close(ws, 4001, timeout=3)
    assert time.time() >= AccessToken(token, verify=False)["exp"]


async def test_revoking_a_key_closes_its_open_sockets(sockets, alice, alice_token):
    key, raw = await issue_key(alice)
    first = await sockets.connect(raw)
    second = await sockets.connect(raw)
    other = await sockets.connect(alice_token)
    for ws in (first, second, other):
        await subscribe(ws, ["*"])
    await sync_to_async(key.revoke)()
    await expect_close(first, 4001)
    await expect_close(second, 4001)
    # A JWT socket of the same user stays open.
    await subscribe(other, ["*"])


async def test_revoking_another_key_leaves_the_socket_open(sockets, alice):
    _, raw = await issue_key(alice)
    other_key, _ = await issue_key(alice)
    ws = await sockets.connect(raw)
    await sync_to_async(other_key.revoke)()
    assert await ws.receive_nothing(timeout=0.3)
    await subscribe(ws, ["*"])
