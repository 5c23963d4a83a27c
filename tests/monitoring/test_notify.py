"""Which channels an alert's change reaches, cooldown, resolve messages, retries."""

import json

import pytest

from endpoints.models import Endpoint
from monitoring.channels import Channel, Notification
from monitoring.models import Alert, AlertType
from monitoring.notify import plan
from monitoring.tasks import send_notification
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture
def shop(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Shop")


def channel(owner, **fields) -> Channel:
    made = Channel(owner=owner, kind=fields.pop("kind", "email"), **fields)
    made.target = "ops@example.test"
    made.save()
    return made


def test_an_opening_reaches_the_channels_in_scope(alice, bob, shop) -> None:
    everything = channel(alice)
    only_shop = channel(alice, endpoints=[shop.public_id], alert_types=["timeouts"])
    other_type = channel(alice, alert_types=["integrity"])
    channel(bob)
    alert = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    assert {n.channel for n in plan(alert)} == {everything, only_shop}
    assert not other_type.notifications.exists()


def test_the_cooldown_keeps_a_flapping_alert_to_one_notification(alice, shop) -> None:
    chn = channel(alice, cooldown_seconds=600)
    first = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    assert len(plan(first)) == 1
    first.resolve()
    assert [n.kind for n in plan(first)] == ["resolved"]
    again = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    assert plan(again) == []
    assert chn.notifications.count() == 2


def test_no_cooldown_lets_every_opening_through(alice, shop) -> None:
    channel(alice, cooldown_seconds=0)
    first = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    plan(first)
    first.resolve()
    assert len(plan(Alert.raise_for(shop, AlertType.TIMEOUTS, "slow"))) == 1


def test_resolve_messages_can_be_turned_off(alice, shop) -> None:
    channel(alice, notify_resolved=False)
    alert = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    plan(alert)
    alert.resolve()
    assert plan(alert) == []


def test_an_email_names_the_alert(alice, shop, mailoutbox) -> None:
    channel(alice)
    notification = plan(Alert.raise_for(shop, AlertType.INTEGRITY, "evt_1: the body is not valid JSON"))[0]
    send_notification.apply(args=[notification.pk])
    assert mailoutbox[0].subject == "[Hookline] alert: integrity on Shop"
    assert "evt_1: the body is not valid JSON" in mailoutbox[0].body


def test_a_failing_notifier_is_retried_then_recorded_failed(alice, shop, receiver) -> None:
    receiver.script(Reply(503))
    slack = channel(alice, kind="slack")
    slack.target = receiver.url
    slack.save()
    notification = plan(Alert.raise_for(shop, AlertType.TIMEOUTS, "slow"))[0]
    send_notification.apply(args=[notification.pk])  # eager: retries run at once
    notification.refresh_from_db()
    assert (notification.state, notification.tries, notification.status_code) == ("failed", 5, 503)
    assert len(receiver.requests) == 5


def test_a_notifier_that_recovers_is_sent_on_its_retry(alice, shop, receiver) -> None:
    receiver.script(Reply(500), Reply(200))
    slack = channel(alice, kind="slack")
    slack.target = receiver.url
    slack.save()
    notification = plan(Alert.raise_for(shop, AlertType.TIMEOUTS, "3 of 3 attempts timed out"))[0]
    send_notification.apply(args=[notification.pk])
    notification.refresh_from_db()
    assert (notification.state, notification.tries) == (Notification.State.SENT, 2)
    assert "timeouts on Shop" in json.loads(receiver.requests[-1].body)["text"]


def test_a_blocked_target_is_never_reached(alice, shop, settings) -> None:
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    hook = channel(alice, kind="webhook")
    hook.target = "http://127.0.0.1:9/alerts"
    hook.save()
    notification = plan(Alert.raise_for(shop, AlertType.TIMEOUTS, "slow"))[0]
    send_notification.apply(args=[notification.pk])
    notification.refresh_from_db()
    assert notification.state == "failed"
    assert "private or loopback" in notification.error
