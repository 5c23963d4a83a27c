"""The web server as `make run` starts it bounds WebSocket frames and concurrency."""

import asyncio
import socket

import pytest
import requests
import websockets

from endpoints.models import ApiKey
from tests.support import processes

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_websocket_message_over_64_kib_is_cut_off_by_the_server(server, alice):
    _, key = ApiKey.issue(alice, "ws")

    async def send_big() -> int:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/v1/ws?token={key}", max_size=None) as ws:
            await ws.send("x" * (100 * 1024))
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), timeout=10)
            return ws.close_code

    # 1009 "message too big" from the server itself, which never buffers it;
    # the consumer's own size check would answer 4002.
    assert asyncio.run(send_big()) == 1009


@pytest.fixture
def limited_web(stack, tmp_path, monkeypatch):
    # config.run reads it from the environment `make run` was started in.
    monkeypatch.setenv("WEB_LIMIT_CONCURRENCY", "3")
    port = processes.free_port()
    # uvicorn's limit holds per process, and the kernel spreads connections
    # over the processes: with one, the idle connections surely fill it.
    web = processes.web(port, stack.env, tmp_path, web_processes=1).start()
    processes.wait_http(f"http://127.0.0.1:{port}/in/ready-check")
    yield port
    web.stop()


def test_past_the_concurrency_limit_the_server_answers_503(limited_web):
    idle = [socket.create_connection(("127.0.0.1", limited_web), timeout=5) for _ in range(2)]
    try:
        answer = requests.get(f"http://127.0.0.1:{limited_web}/in/x", timeout=10)
        assert answer.status_code == 503
    finally:
        for sock in idle:
            sock.close()
    processes.wait_until(
        lambda: requests.get(f"http://127.0.0.1:{limited_web}/in/x", timeout=10).status_code == 404,
        message="the server to serve again once the idle connections closed",
    )
