"""`ANY /in/<token>[/<sub/path>]` against the real server process."""

import contextlib
import json
import socket

import psycopg
import pytest
import requests
from django.db import connection

from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support.processes import wait_until
from tests.support.stack import STACK_APPLICATION_NAME

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def test_it_stores_the_request_byte_for_byte_before_answering(server, inbox):
    body = b'{"amount": 12, "note": "caf\xc3\xa9"}\n'
    answer = requests.post(
        f"{server.url}/in/{inbox.ingest_token}/stripe/charges?x=1&x=2",
        data=body,
        headers={"Content-Type": "application/json", "X-Repeat": "a"},
        timeout=10,
    )
    assert answer.status_code == 200
    payload = answer.json()
    assert payload["received"] is True
    # Committed before the answer: the row is there the moment we look.
    event = Event.objects.get(public_id=payload["event_id"])
    assert event.body_bytes == body
    assert event.method == "POST"
    assert event.path == "stripe/charges"
    assert event.query == "x=1&x=2"
    assert event.size == len(body)
    assert event.source_ip == "127.0.0.1"
    assert event.content_type == "application/json"
    assert ["x-repeat", "a"] in event.headers
    assert event.status == EventStatus.RECEIVED
    assert event.next_attempt_at is None  # an inbox has nothing to forward


def test_it_keeps_binary_bodies_and_any_method(server, inbox):
    body = bytes(range(256))
    answer = requests.put(f"{server.url}/in/{inbox.ingest_token}", data=body, timeout=10)
    assert answer.status_code == 200
    event = Event.objects.get()
    assert event.body_bytes == body
    assert event.method == "PUT"


def test_it_keeps_repeated_headers_in_order(server, inbox):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    conn.putrequest("POST", f"/in/{inbox.ingest_token}")
    conn.putheader("X-Tag", "one")
    conn.putheader("X-Tag", "two")
    conn.putheader("Content-Length", "2")
    conn.endheaders(b"{}")
    assert conn.getresponse().status == 200
    tags = [value for name, value in Event.objects.get().headers if name == "x-tag"]
    assert tags == ["one", "two"]


def test_it_returns_404_and_stores_nothing_for_an_unknown_token(server, inbox):
    answer = requests.post(f"{server.url}/in/not-a-token", data=b"{}", timeout=10)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Unknown ingest URL."}
    assert Event.objects.count() == 0


def test_it_returns_404_for_a_deleted_endpoint(server, inbox):
    token = inbox.ingest_token
    inbox.delete()
    assert requests.post(f"{server.url}/in/{token}", data=b"{}", timeout=10).status_code == 404
    assert Event.objects.count() == 0


def test_it_returns_413_past_the_limit_and_stores_nothing(server, inbox, settings):
    limit = 10 * 1024 * 1024
    answer = requests.post(f"{server.url}/in/{inbox.ingest_token}", data=b"x" * (limit + 1), timeout=30)
    assert answer.status_code == 413
    assert "limit" in answer.json()["detail"]
    assert Event.objects.count() == 0


def test_it_stops_reading_a_chunked_body_once_past_the_limit(server, inbox):
    limit = 10 * 1024 * 1024
    offered = 64 * 1024 * 1024  # what a server that kept reading would take in full
    chunk = b"y" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"POST /in/{inbox.ingest_token} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        # The server stops reading: a send blocks past the timeout or the socket is closed under us.
        with contextlib.suppress(OSError):
            while sent < offered:
                sock.sendall(frame)
                sent += len(chunk)
        with contextlib.suppress(OSError):  # a reset may swallow the answer; the byte count still tells
            answer = sock.recv(65536)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413")
    # Past the limit only the kernel's socket buffers take more; nowhere near all 64 MiB.
    assert sent < limit + 24 * 1024 * 1024
    assert Event.objects.count() == 0


def test_a_paused_endpoint_stores_events_as_held(server, alice):
    endpoint = Endpoint.objects.create(owner=alice, name="Paused", destination_url="https://example.test/", paused=True)
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=b"{}", timeout=10)
    assert answer.status_code == 200
    event = Event.objects.get()
    assert event.status == EventStatus.HELD
    assert event.next_attempt_at is None


def test_an_endpoint_with_a_destination_makes_the_event_due_at_once(server, no_worker, alice):
    # no_worker: a worker left running by an earlier test would attempt it at once.
    endpoint = Endpoint.objects.create(owner=alice, name="Fwd", destination_url="https://example.test/")
    requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=b"{}", timeout=10)
    event = Event.objects.get()
    assert event.next_attempt_at == event.received_at


def test_it_answers_with_the_endpoints_custom_response(server, alice):
    endpoint = Endpoint.objects.create(
        owner=alice, name="Custom", response_status=202, response_content_type="text/xml", response_body="<ok/>"
    )
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=b"{}", timeout=10)
    assert answer.status_code == 202
    assert answer.headers["content-type"] == "text/xml"
    assert answer.text == "<ok/>"
    assert answer.headers["x-hookline-event-id"] == Event.objects.get().public_id


def test_concurrent_requests_each_get_their_own_committed_event(server, inbox):
    from concurrent.futures import ThreadPoolExecutor

    def post(i: int) -> str:
        answer = requests.post(f"{server.url}/in/{inbox.ingest_token}", json={"i": i}, timeout=10)
        assert answer.status_code == 200
        return answer.json()["event_id"]

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(post, range(200)))
    assert len(set(ids)) == 200
    stored = {e.public_id: json.loads(e.body_bytes) for e in Event.objects.all()}
    assert set(stored) == set(ids)
    assert sorted(body["i"] for body in stored.values()) == list(range(200))


def test_it_answers_503_with_retry_after_when_the_database_is_down(server, inbox):
    name = connection.settings_dict["NAME"]
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    try:
        # A real outage: refuse new connections and cut the server's pooled ones.
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [name, STACK_APPLICATION_NAME],
        )
        answer = requests.post(f"{server.url}/in/{inbox.ingest_token}", data=b"{}", timeout=30)
        assert answer.status_code == 503
        assert answer.headers["retry-after"].isdigit()
        assert "unavailable" in answer.json()["detail"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"] == "sandbox; default-src 'none'"
    finally:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        admin.close()
    assert Event.objects.count() == 0
    # And it recovers by itself once the pools reconnect: every server
    # process, so twenty answers in a row (they spread over the processes).
    stored = 0

    def recovered() -> bool:
        nonlocal stored
        for _ in range(20):
            if requests.post(f"{server.url}/in/{inbox.ingest_token}", data=b"{}", timeout=10).status_code != 200:
                return False
            stored += 1
        return True

    wait_until(recovered, timeout=30, interval=0.5, message="ingest to recover in every server process")
    assert Event.objects.count() == stored


def test_it_answers_429_with_retry_after_past_the_endpoints_rate_limit(server, alice):
    from concurrent.futures import ThreadPoolExecutor

    endpoint = Endpoint.objects.create(owner=alice, name="Limited", rate_limit=5)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=b"{}", timeout=10), range(30)))
    codes = [answer.status_code for answer in answers]
    limited = [answer for answer in answers if answer.status_code == 429]
    assert set(codes) == {200, 429}
    assert all(answer.headers["retry-after"] == "1" for answer in limited)
    # Only what was answered 200 was stored; nothing of the refused requests.
    assert Event.objects.count() == codes.count(200)


def test_an_inactive_inbox_becomes_healthy_when_it_receives(server, inbox):
    from endpoints.models import Health

    assert inbox.health == Health.INACTIVE
    requests.post(f"{server.url}/in/{inbox.ingest_token}", data=b"{}", timeout=10)
    wait_until(lambda: Endpoint.objects.get(pk=inbox.pk).health == Health.HEALTHY, message="health refresh")
