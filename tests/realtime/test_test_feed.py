"""`/v1/ws/test/<ts_id>`: the live feed of an anonymous test session."""

import asyncio
import json
from datetime import timedelta

import pytest
import requests
import time_machine
import websockets
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from testsessions.models import TestSession, delete_expired
from tests.realtime.support import expect_close

pytestmark = pytest.mark.django_db(transaction=True)


async def feed_of(session_id: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, f"/v1/ws/test/{session_id}")
    connected, _ = await ws.connect(timeout=3)
    assert connected
    return ws


def test_a_request_to_the_session_arrives_live_with_its_body(server) -> None:
    session = requests.post(f"{server.url}/api/v1/test-sessions/", timeout=10).json()

    async def scenario() -> dict:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}{session['ws_url']}") as ws:
            # The feed joins its groups before accepting: a request sent now is seen.
            answer = await asyncio.to_thread(
                requests.post, f"{session['ingest_url']}/orders?id=7", data=b'{"total": 5}',
                headers={"content-type": "application/json"}, timeout=10,
            )
            async with asyncio.timeout(15):
                message = json.loads(await ws.recv())
            assert message["data"]["id"] == answer.json()["event_id"]
            return message

    message = asyncio.run(scenario())

    assert message["type"] == "event"
    assert message["channel"] == "test"
    data = message["data"]
    assert (data["method"], data["path"], data["query"]) == ("POST", "orders", "id=7")
    assert (data["body"], data["body_encoding"]) == ('{"total": 5}', "text")
    assert ["content-type", "application/json"] in data["headers"]
    assert data["received_at"]


@pytest.mark.asyncio
@pytest.mark.parametrize("session_id", ["ts_unknown0000000000000000", "not-an-id"])
async def test_an_unknown_session_is_closed_with_4004(session_id: str) -> None:
    ws = await feed_of(session_id)
    await expect_close(ws, 4004)


@pytest.mark.asyncio
async def test_an_expired_session_is_closed_with_4004() -> None:
    session = await database_sync_to_async(TestSession.open)(None)
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        ws = await feed_of(session.public_id)
        await expect_close(ws, 4004)


@pytest.mark.asyncio
async def test_an_open_feed_closes_when_its_session_expires() -> None:
    session = await database_sync_to_async(TestSession.open)(None)
    session.expires_at = timezone.now() + timedelta(milliseconds=300)
    await database_sync_to_async(session.save)(update_fields=["expires_at"])

    ws = await feed_of(session.public_id)

    await expect_close(ws, 4004, timeout=5)


@pytest.mark.asyncio
async def test_an_open_feed_closes_when_the_scheduler_deletes_its_session() -> None:
    session = await database_sync_to_async(TestSession.open)(None)
    ws = await feed_of(session.public_id)

    def sweep_a_day_later() -> int:
        with time_machine.travel(timezone.now() + timedelta(hours=25)):
            return delete_expired()

    assert await database_sync_to_async(sweep_a_day_later)() == 1
    await expect_close(ws, 4004, timeout=5)


@pytest.mark.asyncio
async def test_an_open_feed_closes_when_the_session_is_claimed(alice) -> None:
    session = await database_sync_to_async(TestSession.open)(None)
    ws = await feed_of(session.public_id)

    await database_sync_to_async(session.claim)(alice)

    await expect_close(ws, 4004, timeout=5)
