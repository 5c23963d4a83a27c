import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from endpoints.models import Endpoint
from events.store import Arrival, PostgresStore, store_sync_once
from events.models import Event, EventStatus

pytestmark = pytest.mark.django_db


def arrival(token: str, body: bytes = b"{}") -> Arrival:
    return Arrival(token=token, method="POST", path="", query="", headers=[["content-type", "application/json"]],
                   body=body, source_ip="127.0.0.1", received_at=timezone.now())


@pytest.mark.parametrize("count", [1, 40])
def test_a_batch_costs_three_queries_whatever_its_size(alice, count):
    endpoints = [Endpoint.objects.create(owner=alice, name=f"e{i}") for i in range(3)]
    arrivals = [arrival(endpoints[i % 3].ingest_token) for i in range(count)]
    with CaptureQueriesContext(connection) as captured:
        stored = store_sync_once(arrivals)
    # The test's own transaction turns ours into a savepoint; those don't count.
    queries = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    # One token lookup, one multi-row INSERT of the events, one of their search rows.
    assert len(queries) == 3, queries
    assert Event.objects.count() == count
    assert all(s.event.pk for s in stored)


def test_unknown_tokens_in_a_batch_store_nothing_for_them(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="ok", paused=True)
    stored = store_sync_once([arrival("nope"), arrival(endpoint.ingest_token)])
    assert stored[0].event is None
    assert stored[1].event.status == EventStatus.HELD
    assert Event.objects.count() == 1


def test_a_rate_limited_endpoint_takes_only_its_allowance_per_second(alice):
    endpoint = Endpoint.objects.create(owner=alice, name="limited", rate_limit=3)
    stored = store_sync_once([arrival(endpoint.ingest_token) for _ in range(5)])
    assert [s.limited for s in stored] == [False, False, False, True, True]
    assert Event.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_postgres_store_writes_a_batch_in_one_transaction(alice, no_worker):
    import asyncio

    endpoint = Endpoint.objects.create(owner=alice, name="pg", destination_url="https://example.test/")
    limited = Endpoint.objects.create(owner=alice, name="limited", rate_limit=1)
    arrivals = [arrival(endpoint.ingest_token, b"\x00\xffbinary")] * 3 + [arrival("nope")]
    arrivals += [arrival(limited.ingest_token)] * 2

    async def main():
        store = PostgresStore()
        try:
            return await store(arrivals)
        finally:
            await store.close()

    stored = asyncio.run(main())
    assert [s.event is not None for s in stored] == [True, True, True, False, True, False]
    assert stored[5].limited and not stored[3].limited
    saved = {e.pk: e for e in Event.objects.all()}
    assert set(saved) == {s.event.pk for s in stored if s.event}
    first = saved[stored[0].event.pk]
    assert first.body_bytes == b"\x00\xffbinary"
    assert first.headers == [["content-type", "application/json"]]
    assert first.next_attempt_at == first.received_at and first.status == EventStatus.RECEIVED
    assert stored[0].wake and not stored[4].wake


def test_planned_events_are_what_the_model_would_build(alice):
    from django.db.models import signals

    from events.store import unsaved_event

    endpoint = Endpoint.objects.create(owner=alice, name="fields")
    values = {"method": "POST", "path": "/a", "body": b"x", "size": 1, "received_at": timezone.now()}
    fast, slow = unsaved_event(endpoint, **values), Event(endpoint=endpoint, **values)
    for field in Event._meta.concrete_fields:
        if field.attname != "public_id":
            assert getattr(fast, field.attname) == getattr(slow, field.attname), field.attname
    assert fast.public_id.startswith("evt_") and fast.public_id != unsaved_event(endpoint, **values).public_id
    assert fast.headers is not unsaved_event(endpoint, **values).headers  # a list of its own
    assert fast.endpoint is endpoint and fast._state.adding and fast._state.db is None
    # unsaved_event skips Model.__init__ and so its signals: nothing may listen.
    assert not signals.pre_init.has_listeners(Event) and not signals.post_init.has_listeners(Event)
    fast.save()
    assert Event.objects.get(pk=fast.pk).path == "/a"
