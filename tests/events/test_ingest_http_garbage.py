"""An answered ingest request is freed by reference counting, not left for
the cyclic garbage collector (events/ingest_http.py, `IngestRequest.reply`).

uvicorn runs in this process, on a thread with its own event loop, so the
test can count the live request objects; the webhooks are stored in the
test database and announced on Redis like any others.
"""

import asyncio
import gc
import socket
import threading

import pytest
import uvicorn

from endpoints.models import Endpoint
from events import ingest
from events.ingest_http import IngestHttpProtocol, IngestRequest
from events.models import Event
from tests.support.processes import free_port, wait_until
from tests.support.raw_http import Reader, request

pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOKS = 20


@pytest.fixture
def in_process_server(monkeypatch):
    # The batcher and its announcer belong to the event loop that first uses
    # them: this server's gets its own, and the process's are put back after.
    monkeypatch.setattr(ingest, "_batcher", None)
    monkeypatch.setattr(ingest, "_after", None)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            "config.asgi:application", host="127.0.0.1", port=port, http=IngestHttpProtocol,
            lifespan="off", log_level="warning",
        )
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=20)
    yield port
    server.should_exit = True
    thread.join(timeout=10)
    loop.close()


def _live_requests() -> int:
    return sum(1 for thing in gc.get_objects() if type(thing) is IngestRequest)


def test_answered_requests_are_freed_without_the_cycle_collector(in_process_server, alice):
    inbox = Endpoint.objects.create(owner=alice, name="Inbox")
    gc.collect()
    gc.disable()
    try:
        with socket.create_connection(("127.0.0.1", in_process_server), timeout=10) as sock:
            reader = Reader(sock)
            for n in range(WEBHOOKS):
                sock.sendall(request(f"/in/{inbox.ingest_token}", b'{"n": %d}' % n))
                status, _, _ = reader.answer()
                assert status == 200
            # uvicorn keeps the connection's latest request cycle until the next
            # request: at most that one is still alive.
            assert _live_requests() <= 1
    finally:
        gc.enable()
    assert Event.objects.filter(endpoint=inbox).count() == WEBHOOKS
