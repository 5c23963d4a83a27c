"""The real server process streams a delivery's whole life to a real WebSocket client."""

import asyncio
import json

import pytest
import requests
import websockets

from endpoints.models import ApiKey, Endpoint
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db(transaction=True)


async def collect(url: str, endpoint_id: str, ingest_url: str, until: str, limit: float = 30.0) -> list[dict]:
    seen: list[dict] = []
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "subscribe", "endpoints": [endpoint_id]}))
        async with asyncio.timeout(limit):
            subscribed = False
            while not subscribed:
                subscribed = json.loads(await ws.recv())["type"] == "subscribed"
        await asyncio.to_thread(requests.post, ingest_url, data=b'{"order": 42}', timeout=10)
        async with asyncio.timeout(limit):
            while True:
                message = json.loads(await ws.recv())
                if message["channel"] == "control":
                    continue
                seen.append(message)
                if message["type"] == until:
                    return seen


def test_a_client_sees_received_retrying_twice_then_delivered_in_order(server, worker, alice, receiver):
    receiver.script(Reply(status=503), Reply(status=503), Reply(status=200))
    endpoint = Endpoint.objects.create(owner=alice, name="Flaky", destination_url=receiver.url, retry_schedule=[1, 1])
    _, key = ApiKey.issue(alice, "stream")
    ws_url = f"ws://127.0.0.1:{server.port}/v1/ws?token={key}"
    ingest_url = f"{server.url}/in/{endpoint.ingest_token}"

    messages = asyncio.run(collect(ws_url, endpoint.public_id, ingest_url, until="event.delivered"))

    deliveries = [m for m in messages if m["channel"] == "deliveries"]
    assert [m["type"] for m in messages if m["channel"] in ("events", "deliveries")] == [
        "event.received", "event.retrying", "event.retrying", "event.delivered",
    ]
    event_id = messages[0]["data"]["id"]
    assert messages[0]["data"]["endpoint"] == endpoint.public_id
    assert all(m["data"]["event_id"] == event_id for m in deliveries)
    assert [m["data"]["attempt"] for m in deliveries] == [1, 2, 3]
    assert [m["data"]["status_code"] for m in deliveries] == [503, 503, 200]
    assert all(m["data"]["next_retry_at"] for m in deliveries[:2])
