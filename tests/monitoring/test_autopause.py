"""Auto-pause: 410 Gone at once, continuous failure after the configured time;
one-click resume releases the held events and resolves the alert."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from deliveries import engine
from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint, Health
from events.models import Event, EventStatus
from monitoring import autopause, runner
from monitoring.models import Alert, AlertState, AlertType
from tests.support.receiver import Reply
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture
def destination(alice, receiver) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Dest", destination_url=receiver.url, retry_schedule=[60])


def attempt_at(endpoint: Endpoint, moment, outcome: str) -> None:
    event = make_event(endpoint, received_at=moment)
    DeliveryAttempt.objects.create(
        event=event, endpoint=endpoint, attempt=1, url=endpoint.destination_url, outcome=outcome,
        status_code=200 if outcome == Outcome.SUCCESS else 500, started_at=moment,
    )


def test_a_410_gone_pauses_the_endpoint_at_once_with_a_reason(destination, receiver) -> None:
    receiver.script(Reply(410))
    engine.forward(make_event(destination, next_attempt_at=timezone.now()).pk)
    destination.refresh_from_db()
    assert destination.paused
    assert "410 Gone" in destination.paused_reason
    alert = Alert.objects.get(endpoint=destination, type=AlertType.AUTO_PAUSED)
    assert alert.state == AlertState.OPEN

    held = make_event(destination, next_attempt_at=timezone.now())
    engine.forward(held.pk)
    held.refresh_from_db()
    assert held.status == EventStatus.HELD
    assert len(receiver.requests) == 1  # nothing more reached the gone destination


def test_continuous_failure_pauses_after_the_configured_time(destination) -> None:
    now = timezone.now()
    Endpoint.objects.filter(pk=destination.pk).update(
        health=Health.FAILING, monitoring={"auto_pause_after_seconds": 3600}
    )
    attempt_at(destination, now - timedelta(hours=3), Outcome.SUCCESS)
    attempt_at(destination, now - timedelta(minutes=50), Outcome.HTTP_ERROR)
    attempt_at(destination, now - timedelta(minutes=1), Outcome.TIMEOUT)
    runner.run(now)
    destination.refresh_from_db()
    assert not destination.paused  # failing for 50 minutes, not yet an hour

    with time_machine.travel(now + timedelta(minutes=11), tick=False):
        changes = runner.run(timezone.now())
    destination.refresh_from_db()
    assert changes["paused"] == 1
    assert destination.paused and destination.paused_reason.startswith("Every delivery attempt failed since")
    assert Alert.objects.get(endpoint=destination, type=AlertType.AUTO_PAUSED).count == 1


def test_a_success_in_between_restarts_the_clock(destination) -> None:
    now = timezone.now()
    attempt_at(destination, now - timedelta(days=6), Outcome.HTTP_ERROR)
    attempt_at(destination, now - timedelta(hours=1), Outcome.SUCCESS)
    attempt_at(destination, now - timedelta(minutes=30), Outcome.HTTP_ERROR)
    assert autopause.failing_since(destination) == now - timedelta(minutes=30)
    attempt_at(destination, now, Outcome.SUCCESS)
    assert autopause.failing_since(destination) is None


def test_null_means_never(destination) -> None:
    now = timezone.now()
    Endpoint.objects.filter(pk=destination.pk).update(
        health=Health.FAILING, monitoring={"auto_pause_after_seconds": None}
    )
    attempt_at(destination, now - timedelta(days=30), Outcome.HTTP_ERROR)
    destination.refresh_from_db()
    assert not autopause.check(destination, now)


def test_resume_forwards_the_held_events_and_resolves_the_alert(destination, alice_client) -> None:
    autopause.pause(destination, "The destination answered 410 Gone.")
    held = make_event(destination, status=EventStatus.HELD)
    page = alice_client.get(f"/endpoints/{destination.public_id}/")
    assert b"Paused by monitoring." in page.content
    assert b"Resume and forward held events" in page.content

    alice_client.post(f"/endpoints/{destination.public_id}/resume/")
    destination.refresh_from_db()
    held.refresh_from_db()
    assert (destination.paused, destination.paused_reason) == (False, "")
    assert held.status == EventStatus.RECEIVED and held.next_attempt_at is not None
    assert Alert.objects.get(endpoint=destination).state == AlertState.RESOLVED


def test_resuming_over_the_api_resolves_it_too(destination, alice_api) -> None:
    autopause.pause(destination, "The destination answered 410 Gone.")
    answer = alice_api.patch(f"/api/v1/endpoints/{destination.public_id}/", {"paused": False}, format="json")
    assert answer.json()["paused_reason"] == ""
    assert Alert.objects.get(endpoint=destination).state == AlertState.RESOLVED


def test_an_endpoint_a_person_paused_is_left_alone(destination) -> None:
    Endpoint.objects.filter(pk=destination.pk).update(paused=True)
    destination.refresh_from_db()
    assert not autopause.pause(destination, "The destination answered 410 Gone.")
    assert not Alert.objects.exists()
