"""Who may open `/v1/ws`: tokens from anywhere, the session cookie only from our origins."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from tests.realtime.support import create_endpoint, expect_close, issue_key, jwt_for, subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def session_cookie(user) -> bytes:
    client = Client()
    await sync_to_async(client.force_login)(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def test_it_accepts_a_jwt_access_token(sockets, alice, alice_token):
    endpoint = await create_endpoint(alice)
    ws = await sockets.connect(alice_token)
    answer = await subscribe(ws, [endpoint.public_id])
    assert answer == {"type": "subscribed", "channel": "control", "endpoints": [endpoint.public_id]}


async def test_it_accepts_an_api_key(sockets, alice):
    endpoint = await create_endpoint(alice)
    _, raw = await issue_key(alice)
    ws = await sockets.connect(raw)
    answer = await subscribe(ws, [endpoint.public_id])
    assert answer["endpoints"] == [endpoint.public_id]


async def test_a_token_works_from_any_origin(sockets, alice, alice_token):
    ws = await sockets.connect(alice_token, headers=[(b"origin", b"https://evil.example")])
    await subscribe(ws, ["*"])


async def test_it_accepts_the_session_cookie_from_an_allowed_origin(sockets, alice):
    cookie = await session_cookie(alice)
    ws = await sockets.connect(headers=[(b"cookie", cookie), (b"origin", b"http://localhost:8000")])
    answer = await subscribe(ws, ["*"])
    assert answer["endpoints"] == ["*"]


@pytest.mark.parametrize(
    "origin",
    [b"https://evil.example", b"http://localhost.evil.example", b"null", None],
    ids=["foreign", "lookalike", "null", "missing"],
)
async def test_it_refuses_the_session_cookie_from_any_other_origin(sockets, alice, origin):
    headers = [(b"cookie", await session_cookie(alice))]
    if origin is not None:
        headers.append((b"origin", origin))
    ws = await sockets.connect(headers=headers)
    await expect_close(ws, 4001)


async def test_it_closes_with_4001_without_any_credentials(sockets, db):
    ws = await sockets.connect(headers=[(b"origin", b"http://localhost")])
    await expect_close(ws, 4001)


@pytest.mark.parametrize("token", ["garbage", "hl_not-a-real-key", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"])
async def test_it_closes_with_4001_for_an_invalid_token(sockets, db, token):
    ws = await sockets.connect(token)
    await expect_close(ws, 4001)


async def test_it_closes_with_4001_for_an_expired_token(sockets, alice):
    ws = await sockets.connect(jwt_for(alice, lifetime=timedelta(seconds=-5)))
    await expect_close(ws, 4001)


async def test_it_closes_with_4001_for_a_refresh_token(sockets, alice):
    refresh = await sync_to_async(RefreshToken.for_user)(alice)
    ws = await sockets.connect(str(refresh))
    await expect_close(ws, 4001)


async def test_it_closes_with_4001_for_a_revoked_key(sockets, alice):
    key, raw = await issue_key(alice)
    await sync_to_async(key.revoke)()
    ws = await sockets.connect(raw)
    await expect_close(ws, 4001)


async def test_a_refused_socket_receives_nothing_after_its_close(sockets, db):
    ws = await sockets.connect("garbage")
    await expect_close(ws, 4001)
    await ws.send_json_to({"type": "subscribe", "endpoints": ["*"]})
    assert await ws.receive_nothing(timeout=0.2)
