"""A large prune runs in short batches: ingest keeps answering as fast meanwhile."""

import statistics
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from endpoints.models import Endpoint
from events.models import Event
from monitoring.retention import prune

pytestmark = pytest.mark.django_db(transaction=True)

OLD_EVENTS = 20_000


def ingest_ms(server, endpoint: Endpoint, session: requests.Session) -> float:
    began = time.perf_counter()
    answer = session.post(f"{server.url}/in/{endpoint.ingest_token}", data=b'{"live": true}', timeout=10)
    assert answer.status_code == 200
    return (time.perf_counter() - began) * 1000


def test_ingest_latency_is_unaffected_while_a_large_prune_runs(server, alice, settings) -> None:
    settings.RETENTION_BATCH = 500
    archive = Endpoint.objects.create(owner=alice, name="Archive", retention_days=1)
    live = Endpoint.objects.create(owner=alice, name="Live")
    old = timezone.now() - timedelta(days=3)
    with connection.cursor() as cursor:  # one statement: 20,000 old events of another endpoint
        cursor.execute(
            "INSERT INTO events_event (endpoint_id, public_id, method, path, query, headers, body, size, content_type,"
            " received_at, status, attempt_count, retry_index, sha256, handshake)"
            " SELECT %s, 'evt_old' || n, 'POST', '', '', '[]', '\\x7b7d', 2, 'application/json', %s, 'received', 0, 0,"
            " '', '' FROM generate_series(1, %s) AS n",
            [archive.pk, old, OLD_EVENTS],
        )
    session = requests.Session()
    before = [ingest_ms(server, live, session) for _ in range(40)]

    outcome: dict = {}

    def run_prune() -> None:
        try:
            outcome.update(prune())
        finally:
            connection.close()  # this thread's own connection

    pruning = threading.Thread(target=run_prune)
    pruning.start()
    during = []
    while pruning.is_alive() or len(during) < 20:
        during.append(ingest_ms(server, live, session))
    pruning.join()
    print(f"ingest median {statistics.median(before):.1f} ms before, {statistics.median(during):.1f} ms during "
          f"a prune of {OLD_EVENTS} events ({len(during)} requests, max {max(during):.1f} ms)")

    assert outcome["events"] == OLD_EVENTS
    assert not Event.objects.filter(endpoint=archive).exists()
    assert Event.objects.filter(endpoint=live).count() == len(before) + len(during)
    # Short batches never hold ingest up for long: the median stays put and
    # no request waits anywhere near a whole prune.
    assert statistics.median(during) <= 2 * statistics.median(before) + 20, (before, during)
    assert max(during) < 1000, during
