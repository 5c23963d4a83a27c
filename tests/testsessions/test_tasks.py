"""The scheduler deletes expired test sessions with their endpoints and events."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from endpoints.models import Endpoint
from events.models import Event
from testsessions.models import TestSession
from testsessions.tasks import delete_expired

pytestmark = pytest.mark.django_db


def session_with_event() -> TestSession:
    session = TestSession.open(None)
    Event.objects.create(endpoint=session.endpoint, method="POST", body=b"x", size=1, received_at=timezone.now())
    return session


def test_it_deletes_a_session_its_endpoint_and_events_after_24_hours() -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = session_with_event()
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        young = session_with_event()

    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        assert delete_expired() == 1

    assert not TestSession.objects.filter(pk=old.pk).exists()
    assert not Endpoint.objects.filter(pk=old.endpoint_id).exists()
    assert not Event.objects.filter(endpoint_id=old.endpoint_id).exists()
    assert Event.objects.filter(endpoint_id=young.endpoint_id).count() == 1


def test_it_keeps_a_session_until_its_last_second() -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        session = session_with_event()
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        assert delete_expired() == 0
    assert TestSession.objects.filter(pk=session.pk).exists()


def test_it_never_deletes_a_claimed_session_endpoint(alice) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        session = session_with_event()
        endpoint = session.claim(alice)
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert delete_expired() == 0
    assert Event.objects.filter(endpoint=endpoint).count() == 1


def test_beat_runs_it_on_a_schedule() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["delete-expired-test-sessions"]
    assert entry["task"] == "testsessions.tasks.delete_expired"
    assert entry["schedule"] <= 60
