"""Ingest's cached endpoints (events/endpoint_cache.py) against real PostgreSQL
and Redis: a batch reads an endpoint once, and a change, a deletion or a
token rotation applies to the very next webhook."""

import asyncio

import pytest
from django.db import connection
from django.utils import timezone

from endpoints.models import DedupAction, Endpoint
from events.models import Event, EventStatus
from events.store import Arrival, PostgresStore

pytestmark = pytest.mark.django_db(transaction=True)


def arrival(token: str, headers=None) -> Arrival:
    return Arrival(token=token, method="POST", path="", query="", headers=headers or [["content-type", "application/json"]],
                   body=b"{}", source_ip="127.0.0.1", received_at=timezone.now())


class CountingStore(PostgresStore):
    """The real store; it also notes the tokens each batch had to read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[set[str]] = []

    async def _lookup(self, conn, tokens):
        missing = {token for token in tokens if self._endpoints.get(token) is None}
        if missing:
            self.reads.append(missing)
        return await super()._lookup(conn, tokens)


async def orm(call):
    """An ORM call from the test's event loop, on a thread of its own."""
    def run():
        try:
            return call()
        finally:
            connection.close()
    return await asyncio.to_thread(run)


def run_with_store(scenario):
    async def main():
        store = CountingStore()
        try:
            return await scenario(store)
        finally:
            await store.close()
    return asyncio.run(main())


def test_a_known_endpoint_is_read_once_across_batches(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="hot")

    async def scenario(store):
        for _ in range(3):
            stored = await store([arrival(endpoint.ingest_token), arrival(endpoint.ingest_token)])
            assert all(s.event.pk for s in stored)
        return store.reads

    assert run_with_store(scenario) == [{endpoint.ingest_token}]
    assert Event.objects.count() == 6


def test_a_change_applies_to_the_next_webhook(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="changes")
    steady = Endpoint.objects.create(owner=alice, name="steady")

    async def scenario(store):
        first = await store([arrival(endpoint.ingest_token)])
        await orm(lambda: Endpoint.objects.filter(pk=endpoint.pk).update(paused=True))
        second = await store([arrival(endpoint.ingest_token), arrival(steady.ingest_token)])
        return first, second, store.reads

    first, second, reads = run_with_store(scenario)
    assert first[0].event.status == EventStatus.RECEIVED
    assert second[0].event.status == EventStatus.HELD and second[0].event.pk
    assert second[1].event.status == EventStatus.RECEIVED and second[1].event.pk
    # The changed endpoint was read again; the unchanged one only once.
    assert reads == [{endpoint.ingest_token}, {steady.ingest_token}, {endpoint.ingest_token}]
    assert Event.objects.count() == 3
    assert Event.objects.get(pk=second[0].event.pk).status == EventStatus.HELD


def test_a_deleted_endpoint_stores_nothing_more(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="doomed")

    async def scenario(store):
        await store([arrival(endpoint.ingest_token)])
        await orm(lambda: Endpoint.objects.filter(pk=endpoint.pk).delete())
        return await store([arrival(endpoint.ingest_token)])

    after = run_with_store(scenario)
    assert after[0].event is None and after[0].endpoint is None  # ingest answers 404
    assert Event.objects.count() == 0  # the first event went with its endpoint


def test_a_rotated_token_stops_working_at_once(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="rotated")
    old = endpoint.ingest_token

    async def scenario(store):
        await store([arrival(old)])
        await orm(lambda: Endpoint.objects.get(pk=endpoint.pk).rotate_ingest_token())
        new = (await orm(lambda: Endpoint.objects.get(pk=endpoint.pk))).ingest_token
        return await store([arrival(old), arrival(new)])

    after = run_with_store(scenario)
    assert after[0].event is None
    assert after[1].event.pk and after[1].endpoint.pk == endpoint.pk


def test_a_replanned_webhook_is_not_a_duplicate_of_itself(alice):
    # Planning claims the delivery id in Redis; when the endpoint changed
    # under the batch, that claim must go before the webhook is planned again.
    endpoint = Endpoint.objects.create(
        owner=alice, name="dedup", dedup_window_seconds=3600, dedup_action=DedupAction.FLAG
    )

    async def scenario(store):
        await store([arrival(endpoint.ingest_token, [["webhook-id", "msg_1"]])])
        await orm(lambda: Endpoint.objects.filter(pk=endpoint.pk).update(name="renamed"))
        return await store([arrival(endpoint.ingest_token, [["webhook-id", "msg_2"]])])

    after = run_with_store(scenario)
    assert after[0].event.pk and after[0].event.duplicate_of is None
    assert Event.objects.get(pk=after[0].event.pk).duplicate_of is None
