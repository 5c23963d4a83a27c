"""A `"*"` subscriber sees every message of an endpoint created after it subscribed.

Against the real server processes. The race, made certain: the client first
asks for a few replays of a long history, which keep its consumer busy (it
handles one message at a time), then creates an endpoint over the API and
sends it webhooks at once. Those are stored and published while the
`endpoint.created` notice still waits behind the replays, i.e. before the
socket joined the new endpoint's group. The consumer closes the gap by
replaying the new endpoint from the database once joined, deduplicated
against the live copies.
"""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import websockets

from django.utils import timezone

from endpoints.models import ApiKey, Endpoint
from events.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 3
WEBHOOKS_PER_ENDPOINT = 3
HISTORY = 400  # events of an older endpoint, replayed to keep the consumer busy
BUSY_REPLAYS = 8


def create_and_send(server_url: str, key: str, name: str) -> tuple[str, list[str]]:
    """Create an inbox over the API and send it webhooks without pausing."""
    headers = {"X-API-Key": key}
    created = requests.post(f"{server_url}/api/v1/endpoints/", json={"name": name}, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    ingest_url = created.json()["ingest_url"]
    with ThreadPoolExecutor(WEBHOOKS_PER_ENDPOINT) as pool:
        answers = list(pool.map(lambda n: requests.post(ingest_url, json={"n": n}, timeout=10),
                                range(WEBHOOKS_PER_ENDPOINT)))
    assert all(answer.status_code == 200 for answer in answers)
    return created.json()["id"], [answer.json()["event_id"] for answer in answers]


async def received_ids(ws, wanted: set[str], old_endpoint: str, limit: float = 30.0) -> list[str]:
    """New endpoints' event.received ids until all wanted ones came, and a moment more for duplicates."""
    seen: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    settle_until = None
    while True:
        now = loop.time()
        if settle_until is None and wanted <= set(seen):
            settle_until = now + 1.0  # a late duplicate would come within the same second
        stop_at = settle_until if settle_until is not None else deadline
        if now >= stop_at:
            return seen
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), stop_at - now))
        except TimeoutError:
            return seen
        if message["type"] == "event.received" and message["data"]["endpoint"] != old_endpoint:
            seen.append(message["data"]["id"])


@pytest.fixture
def history(alice) -> tuple[str, str]:
    """An older endpoint with a long history: (its id, its first event's id)."""
    old = Endpoint.objects.create(owner=alice, name="Old")
    now = timezone.now()
    Event.objects.bulk_create(
        Event(endpoint=old, method="POST", body=b"{}", size=2, received_at=now) for _ in range(HISTORY)
    )
    return old.public_id, Event.objects.filter(endpoint=old).order_by("pk").first().public_id


def test_a_wildcard_subscriber_gets_the_first_webhooks_of_a_new_endpoint_once(server, alice, history):
    _, key = ApiKey.issue(alice, "stream")
    old_id, first_event = history
    busy = json.dumps({"type": "subscribe", "endpoints": [old_id], "since": first_event})

    async def scenario() -> tuple[set[str], list[str]]:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/v1/ws?token={key}") as ws:
            await ws.send(json.dumps({"type": "subscribe", "endpoints": ["*"]}))
            async with asyncio.timeout(10):
                while json.loads(await ws.recv())["type"] != "subscribed":
                    continue
            sent: set[str] = set()
            for round_ in range(ROUNDS):
                for _ in range(BUSY_REPLAYS):
                    await ws.send(busy)
                _, ids = await asyncio.to_thread(create_and_send, server.url, key, f"new-{round_}")
                sent.update(ids)
            return sent, await received_ids(ws, sent, old_id)

    sent, seen = asyncio.run(scenario())
    assert set(seen) == sent, f"missed {sorted(sent - set(seen))}"
    assert len(seen) == len(set(seen)), "a message came twice"
