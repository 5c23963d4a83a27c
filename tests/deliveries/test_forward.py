"""Forwarding attempts made in the test process against a real HTTP receiver.

`engine.forward` is the engine's round for one event: claim it if it is
due, send it, record it.
"""

from datetime import timedelta
from email.utils import format_datetime

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from deliveries import engine, forwarding
from deliveries.claims import Room, claim_due
from deliveries.models import DeliveryAttempt, Outcome
from deliveries.recording import Sent, record_attempts
from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


def make_event(endpoint: Endpoint, body: bytes = b'{"id": 1}', **fields) -> Event:
    now = timezone.now()
    defaults = dict(
        method="POST",
        headers=[["content-type", "application/json"], ["x-github-event", "push"], ["connection", "keep-alive"],
                 ["host", "hookline.example"], ["x-dup", "a"], ["x-dup", "b"]],
        received_at=now,
        next_attempt_at=now,
    )
    defaults.update(fields)
    return Event.objects.create(endpoint=endpoint, body=body, size=len(body), **defaults)


def forward(event: Event) -> DeliveryAttempt | None:
    return engine.forward(event.pk)


def claim(event: Event) -> Event | None:
    claimed = [e for e in claim_due(timezone.now(), 10, Room(10, {})) if e.pk == event.pk]
    return claimed[0] if claimed else None


@pytest.fixture
def endpoint(alice, receiver):
    return Endpoint.objects.create(
        owner=alice, name="Dest", destination_url=receiver.url + "/hooks", retry_schedule=[60, 300], timeout_seconds=2
    )


def test_it_forwards_method_body_and_headers_and_signs_them(endpoint, receiver):
    event = make_event(endpoint, body=b'{"id": 1, "bytes": "\xe2\x9c\x93"}', path="gh/push", query="a=1")
    attempt = forward(event)
    request = receiver.wait_for(1)[0]
    assert request.method == "POST"
    assert request.path == "/hooks/gh/push?a=1"
    assert request.body == event.body_bytes
    assert request.header("x-github-event") == "push"
    assert request.header("x-dup") == "a, b"
    assert request.header("host") == receiver.url.removeprefix("http://")  # ours, not the sender's
    assert request.header("webhook-id") == event.public_id
    headers = {name.lower(): value for name, value in request.headers}
    # The Standard Webhooks reference library accepts our signature.
    Webhook(endpoint.signing_secret).verify(request.body, headers)
    event.refresh_from_db()
    assert event.status == EventStatus.DELIVERED
    assert event.next_attempt_at is None
    assert attempt.outcome == Outcome.SUCCESS and attempt.status_code == 200 and attempt.attempt == 1


def test_it_schedules_the_next_attempt_on_the_retry_schedule(endpoint, receiver):
    receiver.script(Reply(status=500, body=b"boom"))
    event = make_event(endpoint)
    with time_machine.travel(timezone.now(), tick=True):
        started = timezone.now()
        attempt = forward(event)
    event.refresh_from_db()
    assert event.status == EventStatus.RETRYING
    assert attempt.outcome == Outcome.HTTP_ERROR and attempt.status_code == 500
    assert attempt.response_text() == "boom"
    assert timedelta(seconds=59) < event.next_attempt_at - started < timedelta(seconds=62)
    assert attempt.next_retry_at == event.next_attempt_at


def test_it_retries_on_503_honouring_retry_after(endpoint, receiver):
    receiver.script(Reply(status=503, headers={"Retry-After": "120"}))
    event = make_event(endpoint)
    started = timezone.now()
    forward(event)
    event.refresh_from_db()
    assert timedelta(seconds=119) < event.next_attempt_at - started < timedelta(seconds=122)


def test_a_retry_after_beyond_the_schedule_is_clamped_to_its_longest_delay(endpoint, receiver):
    receiver.script(Reply(status=429, headers={"Retry-After": "999999"}))
    event = make_event(endpoint)
    started = timezone.now()
    forward(event)
    event.refresh_from_db()
    assert timedelta(seconds=299) < event.next_attempt_at - started < timedelta(seconds=302)


def test_a_retry_after_below_the_schedule_is_raised_to_its_shortest_delay(endpoint, receiver):
    receiver.script(Reply(status=503, headers={"Retry-After": "1"}))
    event = make_event(endpoint)
    started = timezone.now()
    forward(event)
    event.refresh_from_db()
    assert timedelta(seconds=59) < event.next_attempt_at - started < timedelta(seconds=62)


def test_a_retry_after_given_as_an_http_date_is_honoured(endpoint, receiver):
    when = timezone.now() + timedelta(seconds=200)
    receiver.script(Reply(status=429, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    event = make_event(endpoint)
    forward(event)
    event.refresh_from_db()
    # An HTTP-date has whole seconds: the wait ends within a second or two of it.
    assert abs(event.next_attempt_at - when) < timedelta(seconds=2)


def test_a_retry_after_date_in_the_past_waits_the_schedules_shortest_delay(endpoint, receiver):
    receiver.script(Reply(status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    event = make_event(endpoint)
    started = timezone.now()
    forward(event)
    event.refresh_from_db()
    assert timedelta(seconds=59) < event.next_attempt_at - started < timedelta(seconds=62)


def test_after_the_last_scheduled_attempt_the_event_is_failed(endpoint, receiver):
    receiver.script(Reply(status=500))
    event = make_event(endpoint)
    for expected in (EventStatus.RETRYING, EventStatus.RETRYING, EventStatus.FAILED):
        Event.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
        forward(event)
        event.refresh_from_db()
        assert event.status == expected
    assert event.next_attempt_at is None
    assert list(event.deliveries.values_list("attempt", flat=True)) == [1, 2, 3]


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(endpoint, receiver):
    receiver.script(Reply(status=302, headers={"Location": receiver.url + "/elsewhere"}))
    event = make_event(endpoint)
    attempt = forward(event)
    assert attempt.outcome == Outcome.HTTP_ERROR and attempt.status_code == 302
    assert "not followed" in attempt.error
    assert len(receiver.requests) == 1


def test_a_hanging_destination_times_out(endpoint, receiver):
    Endpoint.objects.filter(pk=endpoint.pk).update(timeout_seconds=1)
    receiver.script(Reply(delay=3))
    event = make_event(endpoint)
    attempt = forward(event)
    assert attempt.outcome == Outcome.TIMEOUT
    event.refresh_from_db()
    assert event.status == EventStatus.RETRYING


def test_a_refused_connection_is_a_connection_error(alice):
    from tests.support.processes import free_port

    endpoint = Endpoint.objects.create(owner=alice, name="Closed", destination_url=f"http://127.0.0.1:{free_port()}/")
    attempt = forward(make_event(endpoint))
    assert attempt.outcome == Outcome.CONNECTION_ERROR


def test_a_private_destination_is_blocked_and_never_retried(endpoint, receiver, settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    event = make_event(endpoint)
    attempt = forward(event)
    assert attempt.outcome == Outcome.BLOCKED
    assert "private or loopback" in attempt.error
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED and event.next_attempt_at is None
    assert receiver.requests == []


def test_an_event_is_sent_once_even_when_two_workers_wake_for_it(endpoint, receiver):
    event = make_event(endpoint)
    assert forward(event) is not None
    assert forward(event) is None
    assert len(receiver.requests) == 1
    assert DeliveryAttempt.objects.count() == 1


def test_a_paused_endpoint_holds_the_event_instead_of_sending(endpoint, receiver):
    Endpoint.objects.filter(pk=endpoint.pk).update(paused=True)
    event = make_event(endpoint)
    assert forward(event) is None
    event.refresh_from_db()
    assert event.status == EventStatus.HELD and event.next_attempt_at is None
    assert receiver.requests == []


def test_a_claim_takes_due_events_once_per_lease(endpoint, settings):
    settings.DELIVERY_LEASE_SECONDS = 60
    due = make_event(endpoint)
    make_event(endpoint, next_attempt_at=timezone.now() + timedelta(minutes=5))
    make_event(endpoint, next_attempt_at=None)
    assert [e.pk for e in claim_due(timezone.now(), 10, Room(10, {}))] == [due.pk]
    assert claim_due(timezone.now(), 10, Room(10, {})) == []  # claimed less than a lease ago
    later = timezone.now() + timedelta(seconds=61)
    assert [e.pk for e in claim_due(later, 10, Room(10, {}))] == [due.pk]


def test_replay_starts_a_new_round_on_the_same_event(endpoint, receiver):
    event = make_event(endpoint)
    forward(event)
    event.refresh_from_db()
    assert forwarding.replay(event) is True
    assert event.status == EventStatus.RECEIVED and event.retry_index == 0
    forward(event)
    assert list(event.deliveries.values_list("attempt", flat=True)) == [1, 2]
    assert len(receiver.requests) == 2


def test_a_retry_after_that_is_not_ascii_digits_falls_back_to_the_schedule(endpoint, receiver):
    receiver.script(Reply(status=503, headers={"Retry-After": "\u00b2"}))
    event = make_event(endpoint)
    started = timezone.now()
    attempt = forward(event)
    assert attempt.status_code == 503
    event.refresh_from_db()
    assert timedelta(seconds=59) < event.next_attempt_at - started < timedelta(seconds=62)


def test_a_trickling_response_is_cut_off_at_the_timeout(endpoint, receiver):
    Endpoint.objects.filter(pk=endpoint.pk).update(timeout_seconds=1)
    receiver.script(Reply(status=200, body=b"x" * 40, trickle=0.1))
    attempt = forward(make_event(endpoint))
    assert attempt.outcome == Outcome.TIMEOUT and attempt.duration_ms < 2000
    assert 0 < len(bytes(attempt.response_body)) < 40  # what arrived is kept


def test_a_worker_whose_lease_ran_out_does_not_overwrite_the_newer_result(endpoint, receiver, settings):
    from deliveries import outbound

    event = make_event(endpoint)
    stale = claim(event)
    # The lease runs out and another worker takes the event and delivers it.
    Event.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now(), claimed_until=timezone.now())
    assert forward(event) is not None
    late = outbound.Response(outcome=Outcome.HTTP_ERROR, status_code=500)
    assert record_attempts([Sent(stale, "http://hooks.example.test/", {}, timezone.now(), late)]) == []
    event.refresh_from_db()
    assert event.status == EventStatus.DELIVERED
    assert list(event.deliveries.values_list("outcome", flat=True)) == [Outcome.SUCCESS]


def test_replay_leaves_an_attempt_in_flight_alone(endpoint):
    event = make_event(endpoint)
    claimed = claim(event)
    assert forwarding.replay(claimed) is False
    claimed.refresh_from_db()
    assert claimed.claimed_until is not None and claimed.next_attempt_at > timezone.now()


def test_the_sweeper_releases_events_held_after_their_endpoint_resumed(endpoint):
    held = make_event(endpoint, status=EventStatus.HELD, next_attempt_at=None)
    assert forwarding.release_stray_held() == 1
    held.refresh_from_db()
    assert held.status == EventStatus.RECEIVED and held.next_attempt_at is not None
    Endpoint.objects.filter(pk=endpoint.pk).update(paused=True)
    make_event(endpoint, status=EventStatus.HELD, next_attempt_at=None)
    assert forwarding.release_stray_held() == 0
