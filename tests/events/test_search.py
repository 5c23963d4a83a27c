"""Search behind ingest: the backlog ingest's INSERT fills, the indexer that
drains it, and the paths that index at once (events/search.py)."""

from datetime import timedelta

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from endpoints.models import Endpoint
from events import search
from events.models import Event, EventSearch, SearchBacklog
from events.store import Arrival, store_sync_once
from events.tasks import index_search
from monitoring.retention import prune
from replays.single import Changes, edited_copy
from tests.api.conftest import client_for
from tests.support.rows import make_event


@pytest.fixture
def alice_api(alice):
    return client_for(alice)


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def queued(endpoint: Endpoint, *bodies: bytes) -> list[Event]:
    """Events as ingest's INSERT leaves them: stored, in the backlog, not searchable yet."""
    events = [make_event(endpoint, body, headers=[["content-type", "application/json"]]) for body in bodies]
    SearchBacklog.objects.bulk_create(SearchBacklog(event_id=e.pk) for e in events)
    return events


def found(api, text: str) -> list[str]:
    answer = api.get("/api/v1/events/", {"q": text})
    assert answer.status_code == 200, answer.content
    return [event["id"] for event in answer.json()["results"]]


@pytest.mark.django_db(transaction=True)
def test_a_webhook_becomes_searchable_once_the_indexer_ran(server, no_worker, inbox, alice_api):
    ids = [
        requests.post(f"{server.url}/in/{inbox.ingest_token}", json={"customer": name}, timeout=10).json()["event_id"]
        for name in ("ada", "bob", "cy")
    ]
    assert SearchBacklog.objects.count() == 3
    assert found(alice_api, "bob") == []  # the answer never waited for the index

    assert search.index_backlog() == 3

    assert SearchBacklog.objects.count() == 0
    assert found(alice_api, "bob") == [ids[1]]
    assert found(alice_api, "application/json") == ids[::-1]  # header values are searched too


@pytest.mark.django_db
def test_the_indexer_works_in_batches_and_stops_when_the_backlog_is_empty(inbox, monkeypatch):
    monkeypatch.setattr(search, "SLICE", 4)  # each batch is read and written in slices
    queued(inbox, *(b'{"n": %d}' % n for n in range(25)))

    assert search.index_batch(size=10) == 10
    assert search.index_backlog(size=10) == 15
    assert search.index_backlog(size=10) == 0

    assert EventSearch.objects.count() == 25
    assert EventSearch.objects.filter(text__contains='{"n": 24}').count() == 1


@pytest.mark.django_db
def test_an_event_deleted_before_it_was_indexed_leaves_the_backlog(inbox):
    kept, gone = queued(inbox, b'{"kept": 1}', b'{"gone": 1}')
    gone.delete()

    assert search.index_backlog() == 2

    assert list(EventSearch.objects.values_list("event_id", flat=True)) == [kept.pk]
    assert not SearchBacklog.objects.exists()


def other_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"])


@pytest.mark.django_db(transaction=True)
def test_one_indexer_runs_at_a_time(inbox, no_worker):
    queued(inbox, b'{"a": 1}', b'{"b": 2}')
    with other_connection() as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtext('hookline.search.index'))")  # another indexer's run

        assert search.index_backlog() == 0

        assert SearchBacklog.objects.count() == 2
        other.rollback()
    assert search.index_backlog() == 2
    assert EventSearch.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_event_deleted_while_its_batch_is_indexed_is_left_out_on_the_next_pass(inbox, no_worker, monkeypatch):
    kept, gone = queued(inbox, b'{"kept": 1}', b'{"gone": 1}')
    text_of = search.text_of

    def deleting_one(headers, body):
        if b"gone" in bytes(body):
            with other_connection() as other:  # retention, meanwhile
                other.execute("DELETE FROM events_event WHERE id = %s", [gone.pk])
        return text_of(headers, body)

    monkeypatch.setattr(search, "text_of", deleting_one)
    assert search.index_backlog() == 0  # the batch failed whole and went back
    assert SearchBacklog.objects.count() == 2

    assert search.index_backlog() == 2

    assert list(EventSearch.objects.values_list("event_id", flat=True)) == [kept.pk]
    assert not SearchBacklog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_database_deletes_a_search_row_with_its_event(inbox):
    # What Django's own cascade cannot see: a search row committed after
    # it collected the event's related rows.
    event = make_event(inbox, b'{"late": 1}')
    search.index([event])
    with other_connection() as other:
        other.execute("DELETE FROM events_event WHERE id = %s", [event.pk])
    assert not EventSearch.objects.exists()


@pytest.mark.django_db
def test_an_event_already_indexed_keeps_one_row(inbox):
    (event,) = queued(inbox, b'{"twice": true}')
    search.index([event])

    assert search.index_backlog() == 1

    assert EventSearch.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_the_orm_store_and_edited_replays_are_searchable_at_once(inbox):
    (stored,) = store_sync_once([
        Arrival(
            token=inbox.ingest_token, method="POST", path="", query="", headers=[["x-tag", "orm-path"]],
            body=b'{"via": "orm"}', source_ip=None, received_at=timezone.now(),
        )
    ])
    copy = edited_copy(stored.event, Changes(body=b'{"edited": "replay-copy"}'))

    assert not SearchBacklog.objects.exists()
    assert EventSearch.objects.get(event=stored.event).text == 'orm-path\n{"via": "orm"}'
    assert "replay-copy" in EventSearch.objects.get(event=copy).text


@pytest.mark.django_db
def test_retention_deletes_the_search_rows_with_their_events(inbox, settings):
    settings.RETENTION_DAYS = 1
    old = make_event(inbox, b'{"old": 1}', received_at=timezone.now() - timedelta(days=3))
    new = make_event(inbox, b'{"new": 1}')
    search.index([old, new])

    assert prune()["events"] == 1

    assert list(EventSearch.objects.values_list("event_id", flat=True)) == [new.pk]


@pytest.mark.django_db
def test_beat_runs_the_indexer_every_second(inbox):
    entry = settings.CELERY_BEAT_SCHEDULE["index-search"]
    assert (entry["task"], entry["schedule"]) == (index_search.name, 1.0)
    queued(inbox, b'{"beat": 1}')

    assert index_search() == 1
    assert EventSearch.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_search_text_over_both_ways(inbox):
    executor = MigrationExecutor(connection)
    executor.migrate([("events", "0009_trigram_pending_list")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO events_event (endpoint_id, public_id, method, path, query, headers, body, size,"
                " content_type, received_at, status, attempt_count, retry_index, sha256, handshake, search_text)"
                " VALUES (%s, 'evt_before', 'POST', '', '', '[]', '\\x7b7d', 2, '', now(), 'received', 0, 0, '', '',"
                " 'written before the move')",
                [inbox.pk],
            )
        executor = MigrationExecutor(connection)
        executor.migrate([("events", "0010_search_behind_ingest")])
        assert EventSearch.objects.get(event__public_id="evt_before").text == "written before the move"

        executor = MigrationExecutor(connection)
        executor.migrate([("events", "0009_trigram_pending_list")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT search_text FROM events_event WHERE public_id = 'evt_before'")
            assert cursor.fetchone() == ("written before the move",)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
