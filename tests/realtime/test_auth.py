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


@pytest.mark.parametrize("host", [b"localhost:8000", b"127.0.0.1:8000", b"localhost"])
async def test_it_accepts_the_session_cookie_from_the_pages_own_origin(sockets, alice, host):
    cookie = await session_cookie(alice)
    ws = await sockets.connect(headers=[(b"cookie", cookie), (b"host", host), (b"origin", b"http://" + host)])
    answer = await subscribe(ws, ["*"])
    assert answer["endpoints"] == ["*"]


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example",
        b"http://localhost.evil.example",
        b"http://127.0.0.1:1",
        b"http://127.0.0.1",
        b"https://127.0.0.1:8000",
        b"http://localhost:8000",
        b"null",
        None,
    ],
    ids=["foreign", "lookalike", "other-port", "default-port", "other-scheme", "other-host-name", "null", "missing"],
)
async def test_it_refuses_the_session_cookie_from_any_other_origin(sockets, alice, origin):
    headers = [(b"cookie", await session_cookie(alice)), (b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin))
    ws = await sockets.connect(headers=headers)
    await expect_close(ws, 4001)


async def test_allowed_hosts_star_does_not_let_other_origins_in(sockets, alice, settings):
    settings.ALLOWED_HOSTS = ["*"]
    cookie = await session_cookie(alice)
    refused = await sockets.connect(
        headers=[(b"cookie", cookie), (b"host", b"hooks.hookline.test"), (b"origin", b"https://evil.example")]
    )
    await expect_close(refused, 4001)
    accepted = await sockets.connect(
        headers=[(b"cookie", cookie), (b"host", b"hooks.hookline.test"), (b"origin", b"http://hooks.hookline.test")]
    )
    await subscribe(accepted, ["*"])


async def test_a_host_outside_allowed_hosts_is_not_an_origin_of_ours(sockets, alice):
    headers = [(b"cookie", await session_cookie(alice)), (b"host", b"evil.example"), (b"origin", b"http://evil.example")]
    ws = await sockets.connect(headers=headers)
    await expect_close(ws, 4001)


@pytest.mark.parametrize("origin", [b"https://dash.hookline.test", b"https://eu.hooks.hookline.test"])
async def test_it_accepts_csrf_trusted_origins(sockets, alice, settings, origin):
    settings.CSRF_TRUSTED_ORIGINS = ["https://dash.hookline.test", "https://*.hooks.hookline.test"]
    headers = [(b"cookie", await session_cookie(alice)), (b"host", b"127.0.0.1:8000"), (b"origin", origin)]
    ws = await sockets.connect(headers=headers)
    await subscribe(ws, ["*"])


async def test_behind_a_tls_proxy_the_origin_is_https(sockets, alice, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cookie = await session_cookie(alice)
    proxied = [(b"cookie", cookie), (b"host", b"localhost"), (b"x-forwarded-proto", b"https")]
    ws = await sockets.connect(headers=[*proxied, (b"origin", b"https://localhost")])
    await subscribe(ws, ["*"])
    plain = await sockets.connect(headers=[*proxied, (b"origin", b"http://localhost")])
    await expect_close(plain, 4001)


async def test_logging_out_closes_that_sessions_sockets_only(sockets, alice):
    browser, other_browser = Client(), Client()
    for client in (browser, other_browser):
        await sync_to_async(client.force_login)(alice)
    own = [(b"host", b"localhost"), (b"origin", b"http://localhost")]

    def cookie_of(client: Client) -> tuple[bytes, bytes]:
        return b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()

    ws = await sockets.connect(headers=[cookie_of(browser), *own])
    await subscribe(ws, ["*"])
    other = await sockets.connect(headers=[cookie_of(other_browser), *own])
    await subscribe(other, ["*"])
    token_socket = await sockets.connect(jwt_for(alice))
    await subscribe(token_socket, ["*"])

    response = await sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    await expect_close(ws, 4001, timeout=5)
    assert await other.receive_nothing(timeout=0.5)
    assert await token_socket.receive_nothing(timeout=0.1)


async def test_a_logged_out_session_cannot_open_a_socket(sockets, alice):
    browser = Client()
    await sync_to_async(browser.force_login)(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}".encode()
    await sync_to_async(browser.post)("/accounts/logout/")
    ws = await sockets.connect(headers=[(b"cookie", cookie), (b"host", b"localhost"), (b"origin", b"http://localhost")])
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


async def test_a_password_change_closes_every_session_socket_of_the_user(sockets, alice, bob):
    alice.is_staff = alice.is_superuser = True
    await sync_to_async(alice.save)()
    changer, other_browser, bobs_browser = Client(), Client(), Client()
    for client, user in ((changer, alice), (other_browser, alice), (bobs_browser, bob)):
        await sync_to_async(client.force_login)(user)
    own = [(b"host", b"localhost"), (b"origin", b"http://localhost")]

    def cookie_of(client: Client) -> tuple[bytes, bytes]:
        return b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()

    opened = []
    for client in (changer, other_browser, bobs_browser):
        opened.append(await sockets.connect(headers=[cookie_of(client), *own]))
        await subscribe(opened[-1], ["*"])

    response = await sync_to_async(changer.post)(
        "/admin/password_change/",
        {"old_password": "correct-horse-1", "new_password1": "a-new-passphrase-7", "new_password2": "a-new-passphrase-7"},
    )
    assert response.status_code == 302
    await expect_close(opened[0], 4001, timeout=5)
    await expect_close(opened[1], 4001, timeout=5)
    assert await opened[2].receive_nothing(timeout=0.3)
    # A reload of the changer's page: its session moved to a new key and works.
    reloaded = await sockets.connect(headers=[cookie_of(changer), *own])
    await subscribe(reloaded, ["*"])
    stale = await sockets.connect(headers=[cookie_of(other_browser), *own])
    await expect_close(stale, 4001)
