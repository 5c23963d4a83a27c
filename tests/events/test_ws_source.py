"""`/v1/ws/source/<ep_id>`: webhooks sent as WebSocket messages to the real server."""

import asyncio
import contextlib
import json
import time

import pytest
import websockets
from django.db import connection
from websockets.exceptions import ConnectionClosed

from endpoints.models import ApiKey, Endpoint
from events.models import Event, EventStatus
from tests.support import processes
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


async def in_thread(action) -> None:
    """Run an ORM call off the event loop, closing the thread's connection after."""

    def run() -> None:
        try:
            action()
        finally:
            connection.close()

    await asyncio.to_thread(run)


def source_url(server, endpoint: Endpoint, key: str) -> str:
    return f"ws://127.0.0.1:{server.port}/v1/ws/source/{endpoint.public_id}?token={key}"


@pytest.fixture
def alice_key(alice) -> str:
    return ApiKey.issue(alice, "source")[1]


@pytest.fixture
def inbox(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Socket")


async def exchange(url: str, messages: list[str | bytes]) -> list[dict]:
    async with websockets.connect(url) as ws:
        answers = []
        for message in messages:
            await ws.send(message)
            answers.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        return answers


async def close_code(url: str) -> int:
    async with websockets.connect(url) as ws:
        with contextlib.suppress(ConnectionClosed):  # the close is what we wait for
            await asyncio.wait_for(ws.recv(), 10)
        return ws.close_code


def test_a_message_is_stored_as_a_json_post_and_acked_after_the_commit(server, alice_key, inbox) -> None:
    (answer,) = asyncio.run(exchange(source_url(server, inbox, alice_key), ['{"type": "order.paid", "id": 7}']))
    assert answer["type"] == "ack"
    # The ack came after the commit: the row is there at once.
    event = Event.objects.get(public_id=answer["event_id"])
    assert event.endpoint_id == inbox.pk
    assert (event.method, event.path, event.query) == ("POST", "", "")
    assert event.headers == [["content-type", "application/json"]]
    assert event.content_type == "application/json"
    assert event.body_bytes == b'{"type": "order.paid", "id": 7}'
    assert event.size == 31
    assert event.source_ip == "127.0.0.1"
    assert event.status == EventStatus.RECEIVED


def test_a_thousand_messages_on_one_socket_are_a_thousand_acks_and_events_in_order(
    server, alice_key, inbox
) -> None:
    bodies = [json.dumps({"n": n}) for n in range(1000)]

    async def send_all() -> list[dict]:
        async with websockets.connect(source_url(server, inbox, alice_key)) as ws:
            async def sender() -> None:
                for body in bodies:
                    await ws.send(body)

            sending = asyncio.create_task(sender())
            answers = [json.loads(await asyncio.wait_for(ws.recv(), 30)) for _ in bodies]
            await sending
            return answers

    started = time.monotonic()
    answers = asyncio.run(send_all())
    elapsed = time.monotonic() - started
    assert [answer["type"] for answer in answers] == ["ack"] * 1000
    ids = [answer["event_id"] for answer in answers]
    assert len(set(ids)) == 1000
    stored = list(Event.objects.filter(endpoint=inbox).order_by("received_at", "pk").values_list("public_id", "body"))
    assert [public_id for public_id, _ in stored] == ids
    assert [bytes(body).decode() for _, body in stored] == bodies
    print(f"1,000 messages acked in {elapsed:.2f} s ({1000 / elapsed:.0f}/s)")


def test_bad_messages_are_nacked_and_the_connection_stays_open(server, alice_key, inbox, settings) -> None:
    answers = asyncio.run(
        exchange(source_url(server, inbox, alice_key), ["{not json", b"\x00binary", "", '{"ok": true}'])
    )
    assert answers[0] == {"type": "nack", "error": answers[0]["error"]}
    assert answers[0]["error"].startswith("Invalid JSON: ")
    assert answers[1] == {"type": "nack", "error": "Send each webhook as a text message holding its JSON body."}
    assert answers[2]["type"] == "nack"
    assert answers[3]["type"] == "ack"
    assert list(Event.objects.values_list("public_id", flat=True)) == [answers[3]["event_id"]]


@pytest.fixture
def small_body_web(stack, tmp_path):
    """A second web process with MAX_BODY_BYTES=1024 (frames stay under the server's 64 KiB)."""
    port = processes.free_port()
    web = processes.web(port, {**stack.env, "MAX_BODY_BYTES": "1024"}, tmp_path).start()
    processes.wait_http(f"http://127.0.0.1:{port}/in/ready-check")
    yield port
    web.stop()


def test_a_message_over_the_body_limit_is_nacked_and_the_connection_kept(small_body_web, alice_key, inbox) -> None:
    url = f"ws://127.0.0.1:{small_body_web}/v1/ws/source/{inbox.public_id}?token={alice_key}"
    big = json.dumps({"pad": "x" * 1024})
    answers = asyncio.run(exchange(url, [big, "[]"]))
    assert answers[0] == {"type": "nack", "error": "Body is larger than the limit of 1024 bytes."}
    assert answers[1]["type"] == "ack"
    assert Event.objects.count() == 1


def test_a_frame_over_the_servers_websocket_limit_is_refused_by_the_server(server, alice_key, inbox) -> None:
    async def send_big() -> int:
        async with websockets.connect(source_url(server, inbox, alice_key), max_size=None) as ws:
            await ws.send(json.dumps({"pad": "x" * (64 * 1024)}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), timeout=10)
            return ws.close_code

    # 1009 "message too big": uvicorn's --ws-max-size (config.run) never buffers it.
    assert asyncio.run(send_big()) == 1009
    assert not Event.objects.exists()


def test_a_failed_signature_check_in_reject_mode_is_a_nack_naming_the_stored_event(server, alice, alice_key) -> None:
    endpoint = Endpoint.objects.create(
        owner=alice, name="Stripe", verification_scheme="stripe", verification_mode="reject"
    )
    endpoint.verification_secret = "whsec_c2VjcmV0"
    endpoint.save()
    (answer,) = asyncio.run(exchange(source_url(server, endpoint, alice_key), ['{"id": "evt_1"}']))
    assert answer["type"] == "nack"
    assert answer["error"].startswith("Signature check failed (stripe): ")
    event = Event.objects.get(public_id=answer["event_id"])
    assert event.status == EventStatus.REJECTED


def test_a_duplicate_dropped_by_dedup_is_acked_with_the_original(server, alice, alice_key) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Dedup", dedup_window_seconds=60, dedup_action="drop")
    first, again = asyncio.run(exchange(source_url(server, endpoint, alice_key), ['{"same": 1}', '{"same": 1}']))
    assert first["type"] == "ack" and "duplicate" not in first
    assert again == {"type": "ack", "event_id": first["event_id"], "duplicate": True}
    assert list(Event.objects.values_list("public_id", flat=True)) == [first["event_id"]]


def test_messages_are_forwarded_and_streamed_like_any_other(server, worker, alice, alice_key, receiver) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Relay", destination_url=receiver.url)

    async def run() -> tuple[dict, dict]:
        stream = f"ws://127.0.0.1:{server.port}/v1/ws?token={alice_key}"
        async with websockets.connect(stream) as watcher:
            await watcher.send(json.dumps({"type": "subscribe", "endpoints": [endpoint.public_id]}))
            while json.loads(await watcher.recv())["type"] != "subscribed":
                continue
            (ack,) = await exchange(source_url(server, endpoint, alice_key), ['{"via": "socket"}'])
            while True:
                message = json.loads(await asyncio.wait_for(watcher.recv(), 10))
                if message["type"] == "event.received":
                    return ack, message

    ack, received = asyncio.run(run())
    assert received["data"]["id"] == ack["event_id"]
    (forwarded,) = receiver.wait_for(1)
    assert (forwarded.method, forwarded.body) == ("POST", b'{"via": "socket"}')
    assert forwarded.header("content-type") == "application/json"
    assert forwarded.header("webhook-id") == ack["event_id"]
    wait_until(lambda: Event.objects.get(public_id=ack["event_id"]).status == EventStatus.DELIVERED)


@pytest.mark.parametrize("token", ["", "hl_not-a-real-key", "eyJ.not.a.jwt"])
def test_a_bad_key_closes_4001(server, inbox, token: str) -> None:
    assert asyncio.run(close_code(source_url(server, inbox, token))) == 4001


def test_a_jwt_is_not_an_api_key(server, alice, inbox) -> None:
    from rest_framework_simplejwt.tokens import AccessToken

    assert asyncio.run(close_code(source_url(server, inbox, str(AccessToken.for_user(alice))))) == 4001


def test_a_revoked_key_closes_4001_and_is_refused_after(server, alice, inbox) -> None:
    key, raw = ApiKey.issue(alice, "doomed")

    async def run() -> int:
        async with websockets.connect(source_url(server, inbox, raw)) as ws:
            await ws.send("{}")
            assert json.loads(await ws.recv())["type"] == "ack"
            await in_thread(key.revoke)
            with contextlib.suppress(ConnectionClosed):  # the close is what we wait for
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code

    assert asyncio.run(run()) == 4001
    assert asyncio.run(close_code(source_url(server, inbox, raw))) == 4001


def test_another_users_endpoint_closes_4003(server, bob, alice_key) -> None:
    bobs = Endpoint.objects.create(owner=bob, name="Bob's")
    assert asyncio.run(close_code(source_url(server, bobs, alice_key))) == 4003
    assert not Event.objects.exists()


@pytest.mark.parametrize("endpoint_id", ["ep_doesnotexist", "nonsense"])
def test_an_unknown_endpoint_closes_4003(server, alice_key, endpoint_id: str) -> None:
    url = f"ws://127.0.0.1:{server.port}/v1/ws/source/{endpoint_id}?token={alice_key}"
    assert asyncio.run(close_code(url)) == 4003


def test_a_rotated_ingest_url_does_not_break_an_open_socket(server, alice_key, inbox) -> None:
    async def run() -> list[dict]:
        async with websockets.connect(source_url(server, inbox, alice_key)) as ws:
            await ws.send('{"before": 1}')
            first = json.loads(await ws.recv())
            await in_thread(inbox.rotate_ingest_token)
            await ws.send('{"after": 1}')
            return [first, json.loads(await ws.recv())]

    assert [answer["type"] for answer in asyncio.run(run())] == ["ack", "ack"]
    assert Event.objects.filter(endpoint=inbox).count() == 2


def test_a_deleted_endpoint_nacks_and_closes_4003(server, alice_key, inbox) -> None:
    async def run() -> tuple[dict, int]:
        async with websockets.connect(source_url(server, inbox, alice_key)) as ws:
            await in_thread(inbox.delete)
            await ws.send("{}")
            answer = json.loads(await ws.recv())
            with contextlib.suppress(ConnectionClosed):  # the close is what we wait for
                await asyncio.wait_for(ws.recv(), 10)
            return answer, ws.close_code

    answer, code = asyncio.run(run())
    assert answer == {"type": "nack", "error": "The endpoint no longer exists."}
    assert code == 4003
    assert not Event.objects.exists()
