"""The real server: the dashboard's cookie opens `/v1/ws` only from the page's
own origin, and logging out over HTTP closes that session's socket."""

import asyncio
import json

import pytest
import requests
import websockets
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def close_code(ws) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    return closed.value.rcvd.code


async def subscribed(ws) -> dict:
    await ws.send(json.dumps({"type": "subscribe", "endpoints": ["*"]}))
    async with asyncio.timeout(10):
        return json.loads(await ws.recv())


async def open_socket(host: str, port: int, origin: str, cookie: str):
    return await websockets.connect(f"ws://{host}:{port}/v1/ws", origin=origin, additional_headers={"Cookie": cookie})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_cookie_works_from_the_dashboards_own_origin(server, alice, host):
    cookie = session_cookie(alice)

    async def scenario() -> dict:
        ws = await open_socket(host, server.port, f"http://{host}:{server.port}", cookie)
        try:
            return await subscribed(ws)
        finally:
            await ws.close()

    assert asyncio.run(scenario())["type"] == "subscribed"


@pytest.mark.parametrize("origin", ["http://127.0.0.1:1", "http://localhost:{port}", "https://127.0.0.1:{port}"])
def test_the_cookie_is_refused_from_another_port_host_name_or_scheme(server, alice, origin):
    cookie = session_cookie(alice)

    async def scenario() -> int:
        ws = await open_socket("127.0.0.1", server.port, origin.format(port=server.port), cookie)
        return await close_code(ws)

    assert asyncio.run(scenario()) == 4001


def test_logging_out_closes_the_sessions_socket(server, alice):
    cookie = session_cookie(alice)

    def log_out() -> int:
        csrf = requests.get(f"{server.url}/accounts/login/", timeout=10).cookies["csrftoken"]
        response = requests.post(
            f"{server.url}/accounts/logout/",
            headers={"Cookie": f"{cookie}; csrftoken={csrf}", "X-CSRFToken": csrf, "Origin": server.url},
            allow_redirects=False,
            timeout=10,
        )
        return response.status_code

    async def scenario() -> tuple[int, int]:
        ws = await open_socket("127.0.0.1", server.port, server.url, cookie)
        assert (await subscribed(ws))["type"] == "subscribed"
        status = await asyncio.to_thread(log_out)
        return status, await close_code(ws)

    assert asyncio.run(scenario()) == (302, 4001)
