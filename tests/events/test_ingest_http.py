"""Ingest's shortcut inside uvicorn's HTTP protocol (events/ingest_http.py),
on raw sockets against the server `make run` starts: keep-alive,
pipelining, Expect, HEAD, body limits, proxies and disconnects."""

import socket

import pytest
from django.conf import settings

from endpoints.models import Endpoint
from events.models import Event
from tests.support.processes import wait_until
from tests.support.raw_http import Reader, request as _request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def test_one_connection_carries_many_webhooks_and_the_dashboard_after_them(server, inbox):
    with _connect(server) as sock:
        reader = Reader(sock)
        for n in range(3):
            sock.sendall(_request(f"/in/{inbox.ingest_token}", b'{"n": %d}' % n))
            status, headers, body = reader.answer()
            assert status == 200
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["content-security-policy"] == "sandbox; default-src 'none'"
            assert b'"received": true' in body
        sock.sendall(_request("/accounts/login/", method="GET"))
        status, headers, _ = reader.answer()
        assert status == 200 and headers["content-type"].startswith("text/html")  # Django's page
    assert sorted(bytes(e.body) for e in Event.objects.all()) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']


def test_pipelined_requests_are_answered_in_order(server, inbox):
    requests = b"".join(_request(f"/in/{inbox.ingest_token}/{n}", b"%d" % n) for n in range(5))
    with _connect(server) as sock:
        sock.sendall(requests + _request("/in/" + "0" * 32))
        reader = Reader(sock)
        ids = []
        for _ in range(5):
            status, _, body = reader.answer()
            assert status == 200
            ids.append(body.split(b'"event_id": "')[1].split(b'"')[0].decode())
        status, _, _ = reader.answer()
        assert status == 404
    assert [Event.objects.get(public_id=i).path for i in ids] == ["0", "1", "2", "3", "4"]


def test_expect_100_continue_gets_its_interim_answer_first(server, inbox):
    with _connect(server) as sock:
        sock.sendall(
            f"POST /in/{inbox.ingest_token} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        reader = Reader(sock)
        status, _ = reader.head()
        assert status == 100
        sock.sendall(b"ping")
        status, _, _ = reader.answer()
        assert status == 200
    assert bytes(Event.objects.get().body) == b"ping"


def test_head_gets_the_headers_without_a_body(server, inbox):
    with _connect(server) as sock:
        sock.sendall(_request(f"/in/{inbox.ingest_token}", method="HEAD"))
        sock.sendall(_request(f"/in/{inbox.ingest_token}", b"{}"))
        reader = Reader(sock)
        status, headers, _ = reader.answer(head_only=True)
        assert status == 200 and int(headers["content-length"]) > 0
        status, _, body = reader.answer()  # the next answer starts right after the head
        assert status == 200 and body.startswith(b"{")
    assert sorted(Event.objects.values_list("method", flat=True)) == ["HEAD", "POST"]


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(server, inbox):
    too_big = settings.MAX_BODY_BYTES + 1
    with _connect(server) as sock:
        sock.sendall(
            f"POST /in/{inbox.ingest_token} HTTP/1.1\r\nHost: x\r\nContent-Length: {too_big}\r\n\r\n".encode()
        )
        reader = Reader(sock)
        status, headers, _ = reader.answer()
        assert status == 413
        assert headers["connection"] == "close"
        assert reader.closed()
    assert Event.objects.count() == 0


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server, inbox):
    chunk = b"x" * 65536
    with _connect(server) as sock:
        sock.sendall(
            f"POST /in/{inbox.ingest_token} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        reader = Reader(sock)
        sent = 0
        while sent <= settings.MAX_BODY_BYTES:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before the sender finished
            sent += len(chunk)
        status, _, _ = reader.answer()
        assert status == 413
    assert Event.objects.count() == 0


def test_a_sender_that_hangs_up_mid_body_stores_nothing(server, inbox):
    with _connect(server) as sock:
        sock.sendall(f"POST /in/{inbox.ingest_token} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf".encode())
    # The next webhook on a new connection is stored; the cut one never is.
    with _connect(server) as sock:
        sock.sendall(_request(f"/in/{inbox.ingest_token}", b"whole"))
        assert Reader(sock).answer()[0] == 200
    wait_until(lambda: Event.objects.count() >= 1, message="the whole webhook")
    assert [bytes(e.body) for e in Event.objects.all()] == [b"whole"]


def test_the_client_address_comes_from_a_local_proxy(server, inbox):
    with _connect(server) as sock:
        sock.sendall(_request(f"/in/{inbox.ingest_token}", b"{}", headers=("X-Forwarded-For: 203.0.113.9",)))
        assert Reader(sock).answer()[0] == 200
    assert Event.objects.get().source_ip == "203.0.113.9"


def test_connection_close_is_honoured(server, inbox):
    with _connect(server) as sock:
        sock.sendall(_request(f"/in/{inbox.ingest_token}", b"{}", headers=("Connection: close",)))
        reader = Reader(sock)
        status, headers, _ = reader.answer()
        assert status == 200
        assert headers["connection"] == "close"
        assert reader.closed()
