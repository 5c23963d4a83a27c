"""Retention: old rows deleted in batches by beat's task, with a log line."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint
from events.models import Event
from monitoring.models import Report, Rollup
from monitoring.tasks import prune
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_batches(settings):
    settings.RETENTION_BATCH = 3
    settings.RETENTION_DAYS = 30


def aged(endpoint: Endpoint, days: float) -> Event:
    event = make_event(endpoint, received_at=timezone.now() - timedelta(days=days))
    DeliveryAttempt.objects.create(
        event=event, endpoint=endpoint, attempt=1, url="http://127.0.0.1:9/", outcome=Outcome.SUCCESS,
        started_at=event.received_at,
    )
    return event


def test_old_events_and_their_attempts_go_in_batches_and_recent_ones_stay(alice, small_batches, caplog) -> None:
    shop = Endpoint.objects.create(owner=alice, name="Shop")
    old = [aged(shop, 31) for _ in range(8)]
    recent = aged(shop, 29)
    Report.objects.create(endpoint=shop, received_at=timezone.now(), kind="outcome", succeeded=True, event=old[0])
    with caplog.at_level(logging.INFO, logger="monitoring.retention"):
        counts = prune()
    assert counts["events"] == 8
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]
    assert DeliveryAttempt.objects.count() == 1
    assert Report.objects.get().event_id is None  # the report stays, unlinked
    assert "retention: deleted 8 events, 0 reports, 0 minute and 0 hour rollups" in caplog.text


def test_an_endpoints_own_retention_wins(alice, small_batches) -> None:
    short = Endpoint.objects.create(owner=alice, name="Short", retention_days=1)
    long = Endpoint.objects.create(owner=alice, name="Long", retention_days=90)
    aged(short, 2)
    kept = aged(long, 60)
    prune()
    assert list(Event.objects.values_list("pk", flat=True)) == [kept.pk]


def test_reports_and_rollups_have_their_own_retention(alice, small_batches) -> None:
    shop = Endpoint.objects.create(owner=alice, name="Shop")
    now = timezone.now().replace(second=0, microsecond=0)
    Report.objects.create(endpoint=shop, received_at=now - timedelta(days=31), kind="outcome", succeeded=False)
    Report.objects.create(endpoint=shop, received_at=now - timedelta(days=1), kind="outcome", succeeded=True)
    for days in (3, 1):
        Rollup.objects.create(endpoint=shop, minutes=1, start=now - timedelta(days=days))
    for days in (91, 30):
        Rollup.objects.create(endpoint=shop, minutes=60, start=now.replace(minute=0) - timedelta(days=days))
    counts = prune()
    assert (counts["reports"], counts["minute_rollups"], counts["hour_rollups"]) == (1, 1, 1)
    assert Report.objects.get().succeeded is True
    assert Rollup.objects.count() == 2


def test_the_api_takes_a_retention_between_1_and_3650_days(alice_api, alice) -> None:
    shop = Endpoint.objects.create(owner=alice, name="Shop")
    url = f"/api/v1/endpoints/{shop.public_id}/"
    assert alice_api.patch(url, {"retention_days": 7}, format="json").json()["retention_days"] == 7
    assert alice_api.patch(url, {"retention_days": 0}, format="json").status_code == 400
    assert alice_api.patch(url, {"retention_days": None}, format="json").json()["retention_days"] is None
