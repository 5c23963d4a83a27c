"""Batch claims, batch recording and debounced health, in the test process."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from deliveries import outbound
from deliveries.claims import LEASE_MARGIN_SECONDS, ROUNDS_AHEAD, Room, claim_due
from deliveries.engine import deliver_due
from deliveries.health import HealthRefresher
from deliveries.models import DeliveryAttempt, Outcome
from deliveries.recording import Sent, record_attempts
from endpoints.models import Endpoint, Health
from events.models import Event, EventStatus
from tests.support import sockets
from tests.support.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


def due_events(endpoint: Endpoint, count: int, age_seconds: float = 0) -> list[Event]:
    due = timezone.now() - timedelta(seconds=age_seconds)
    return Event.objects.bulk_create(
        Event(endpoint=endpoint, method="POST", body=b"{}", received_at=due, next_attempt_at=due)
        for _ in range(count)
    )


def endpoint_of(alice, name: str, url: str = "http://127.0.0.1:9/", **fields) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name=name, destination_url=url, **fields)


def test_one_claim_serves_every_endpoint_behind_another_ones_backlog(alice):
    backlog, quiet, other = endpoint_of(alice, "Backlog"), endpoint_of(alice, "Quiet"), endpoint_of(alice, "Other")
    due_events(backlog, 300, age_seconds=60)  # older than everything else
    due_events(quiet, 2)
    due_events(other, 3)
    claimed = claim_due(timezone.now(), 50, Room(per_endpoint=10, busy={}))
    per_endpoint = {e.pk: sum(1 for c in claimed if c.endpoint_id == e.pk) for e in (backlog, quiet, other)}
    assert per_endpoint == {backlog.pk: 10, quiet.pk: 2, other.pk: 3}


def test_a_claim_is_one_statement_that_returns_the_events_as_stored_with_their_endpoints(
    alice, django_assert_num_queries
):
    first, second = endpoint_of(alice, "First", timeout_seconds=7), endpoint_of(alice, "Second")
    due_events(first, 2)
    due_events(second, 1)
    with django_assert_num_queries(1):
        claimed = claim_due(timezone.now(), 10, Room(per_endpoint=10, busy={}))
    assert len(claimed) == 3
    for event in claimed:
        stored = Event.objects.get(pk=event.pk)
        fields = [f.attname for f in Event._meta.concrete_fields]
        assert [getattr(event, name) for name in fields] == [getattr(stored, name) for name in fields]
        assert event.claimed_until is not None and event._state.adding is False and event._state.db == "default"
        assert event.endpoint == Endpoint.objects.get(pk=event.endpoint_id)
    assert {e.endpoint.timeout_seconds for e in claimed if e.endpoint_id == first.pk} == {7}
    # Instances made this way save like any other.
    claimed[0].event_type = "claimed.saved"
    claimed[0].save(update_fields=["event_type"])
    assert Event.objects.get(pk=claimed[0].pk).event_type == "claimed.saved"


def test_only_a_pending_event_can_have_a_due_time(alice):
    # Claims find due events by due time alone; the database holds the rule.
    [event] = due_events(endpoint_of(alice, "Due"), 1)
    for status in (EventStatus.DELIVERED, EventStatus.FAILED, EventStatus.HELD):
        with pytest.raises(IntegrityError), transaction.atomic():
            Event.objects.filter(pk=event.pk).update(status=status)
    assert Event.objects.filter(pk=event.pk).update(status=EventStatus.DELIVERED, next_attempt_at=None) == 1


def test_a_claim_leaves_out_what_is_already_in_flight(alice):
    busy, idle = endpoint_of(alice, "Busy"), endpoint_of(alice, "Idle")
    due_events(busy, 20)
    due_events(idle, 20)
    claimed = claim_due(timezone.now(), 100, Room(per_endpoint=10, busy={busy.pk: 8, idle.pk: 10}))
    assert [e.endpoint_id for e in claimed] == [busy.pk, busy.pk]


def test_an_endpoint_that_answers_fast_is_claimed_several_rounds_ahead(alice):
    fast, slow = endpoint_of(alice, "Fast"), endpoint_of(alice, "Slow")
    due_events(fast, 100)
    due_events(slow, 100)
    claimed = claim_due(timezone.now(), 200, Room(per_endpoint=10, busy={}, cap=10, fast=frozenset({fast.pk})))
    taken = {e.pk: sum(1 for c in claimed if c.endpoint_id == e.pk) for e in (fast, slow)}
    assert taken == {fast.pk: 10 * ROUNDS_AHEAD, slow.pk: 10}


def test_claims_start_after_the_cursor_so_every_endpoint_gets_a_turn(alice):
    first, second = endpoint_of(alice, "First"), endpoint_of(alice, "Second")
    due_events(first, 5)
    due_events(second, 5)
    claimed = claim_due(timezone.now(), 3, Room(per_endpoint=10, busy={}), after=first.pk)
    assert {e.endpoint_id for e in claimed} == {second.pk}


def test_the_lease_outlasts_the_longest_possible_attempt(alice, settings):
    settings.DELIVERY_LEASE_SECONDS = 6
    slow = endpoint_of(alice, "Slow", timeout_seconds=30)
    due_events(slow, 1)
    now = timezone.now()
    [event] = claim_due(now, 10, Room(per_endpoint=40, busy={}, cap=10))
    assert event.claimed_until == event.next_attempt_at == now + timedelta(seconds=30 + LEASE_MARGIN_SECONDS)


def test_events_claimed_behind_a_full_round_get_a_lease_for_their_wait(alice, settings):
    settings.DELIVERY_LEASE_SECONDS = 6
    slow = endpoint_of(alice, "Slow", timeout_seconds=30)
    due_events(slow, 25)
    now = timezone.now()
    # 5 already held here and 25 more: three rounds of ten requests at most.
    claimed = claim_due(now, 40, Room(per_endpoint=40, busy={slow.pk: 5}, cap=10))
    assert len(claimed) == 25
    assert {e.claimed_until for e in claimed} == {now + timedelta(seconds=3 * 30 + LEASE_MARGIN_SECONDS)}


def sent(event: Event, outcome: str = Outcome.SUCCESS) -> Sent:
    response = outbound.Response(outcome=outcome, status_code=200 if outcome == Outcome.SUCCESS else 500)
    return Sent(event, "http://127.0.0.1:9/", {"webhook-id": event.public_id}, timezone.now(), response)


@pytest.mark.parametrize("size", [5, 60])
def test_a_batch_is_recorded_in_the_same_few_statements_whatever_its_size(size, alice, django_assert_num_queries):
    endpoint = endpoint_of(alice, "Batch", retry_schedule=[60])
    due_events(endpoint, size)
    claimed = claim_due(timezone.now(), size, Room(per_endpoint=size, busy={}))
    batch = [sent(e, Outcome.SUCCESS if i % 2 else Outcome.HTTP_ERROR) for i, e in enumerate(claimed)]
    # One statement settles the events and inserts the attempts: no health query per attempt.
    with django_assert_num_queries(1):
        attempts = record_attempts(batch)
    assert len(attempts) == size
    assert Event.objects.filter(endpoint=endpoint, status=EventStatus.DELIVERED).count() == size // 2
    assert Event.objects.filter(endpoint=endpoint, status=EventStatus.RETRYING, claimed_until=None).count() == size - size // 2


def test_health_is_refreshed_once_per_interval_and_after_the_last_attempt(alice):
    endpoint = endpoint_of(alice, "Health", health=Health.HEALTHY)
    events = due_events(endpoint, 1)
    DeliveryAttempt.objects.create(
        event=events[0], endpoint=endpoint, attempt=1, url="http://x/", outcome=Outcome.HTTP_ERROR,
        started_at=timezone.now(),
    )
    refresher = HealthRefresher(interval=3600)
    refresher.touch([endpoint])
    assert refresher.refresh_due() == 1
    assert Endpoint.objects.get(pk=endpoint.pk).health == Health.FAILING
    refresher.touch([endpoint])
    assert refresher.refresh_due() == 0  # within the interval: debounced
    assert refresher.refresh_due(force=True) == 1  # the trailing refresh is never lost


def test_bad_destinations_each_get_a_recorded_attempt_and_the_batch_goes_on(alice, receiver):
    with (
        sockets.RawServer(sockets.garbage_status) as garbage,
        sockets.RawServer(sockets.huge_body(10 * 1024 * 1024)) as huge,
        sockets.RawServer(sockets.silent) as hanging,
        sockets.RawServer(sockets.plain_http_at_once) as not_tls,
    ):
        endpoints = {
            "refused": endpoint_of(alice, "Refused", f"http://127.0.0.1:{free_port()}/"),
            "tls": endpoint_of(alice, "TLS", f"https://127.0.0.1:{not_tls.port}/"),
            "garbage": endpoint_of(alice, "Garbage", garbage.url),
            "huge": endpoint_of(alice, "Huge", huge.url),
            "hang": endpoint_of(alice, "Hang", hanging.url, timeout_seconds=1),
            "fine": endpoint_of(alice, "Fine", receiver.url),
        }
        for endpoint in endpoints.values():
            due_events(endpoint, 1)
        attempts = {a.endpoint_id: a for a in deliver_due()}
    outcome = {name: attempts[e.pk].outcome for name, e in endpoints.items()}
    assert outcome == {
        "refused": Outcome.CONNECTION_ERROR, "tls": Outcome.CONNECTION_ERROR, "garbage": Outcome.CONNECTION_ERROR,
        "huge": Outcome.SUCCESS, "hang": Outcome.TIMEOUT, "fine": Outcome.SUCCESS,
    }
    for name in ("refused", "tls", "garbage", "hang"):
        assert attempts[endpoints[name].pk].error, name
    assert "Connect" in attempts[endpoints["refused"].pk].error
    assert "SSL" in attempts[endpoints["tls"].pk].error
    assert len(bytes(attempts[endpoints["huge"].pk].response_body)) == 64 * 1024
