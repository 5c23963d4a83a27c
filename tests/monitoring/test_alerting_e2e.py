"""End to end on the real stack: a destination that starts failing, the alert,
one notification per channel within the cooldown, one resolve message; a
storm of failure reports opens processing_failures."""

import json

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from endpoints.models import Endpoint
from monitoring.channels import Channel
from monitoring.models import Alert, AlertState, AlertType
from monitoring.tasks import run_minute
from tests.support.processes import wait_until
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slack():
    """A Slack-compatible incoming webhook: takes {"text": …}, answers "ok"."""
    with Receiver() as running:
        running.script(Reply(200, body=b"ok", headers={"content-type": "text/plain"}))
        yield running


@pytest.fixture
def hook():
    with Receiver() as running:
        yield running


def channels(owner, slack: Receiver, hook: Receiver) -> Channel:
    types = [AlertType.ENDPOINT_DOWN, AlertType.PROCESSING_FAILURES]
    to_slack = Channel(owner=owner, kind="slack", alert_types=types)
    to_slack.target = slack.url + "/services/T0HOOKLINE/B0ALERTS/incomingwebhooktoken"
    to_slack.save()
    signed = Channel(owner=owner, kind="webhook", alert_types=types)
    signed.target = hook.url + "/hookline-alerts"
    signed.save()
    return signed


def send(server, endpoint: Endpoint, count: int, phase: str) -> None:
    for n in range(count):
        answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", json={phase: n}, timeout=10)
        assert answer.status_code == 200


def alert_types_seen(hook: Receiver, secret: str) -> list[tuple[str, str]]:
    seen = []
    for request in hook.requests:
        headers = {name.lower(): value for name, value in request.headers}
        message = Webhook(secret).verify(request.body, headers)  # raises unless signed with our secret
        seen.append((message["type"], message["data"]["type"]))
    return seen


def test_a_failing_destination_notifies_once_then_resolves_once(server, worker, alice, receiver, slack, hook):
    signed = channels(alice, slack, hook)
    destination = Endpoint.objects.create(
        owner=alice, name="Orders", destination_url=receiver.url, retry_schedule=[3600]
    )
    receiver.script(Reply(500))
    send(server, destination, 6, "failing")
    wait_until(lambda: Alert.objects.filter(endpoint=destination, type=AlertType.ENDPOINT_DOWN).exists(),
               timeout=30, message="endpoint_down")
    slack.wait_for(1, timeout=30)
    hook.wait_for(1, timeout=30)
    assert "endpoint_down on Orders" in json.loads(slack.requests[0].body)["text"]

    receiver.script(Reply(200))
    send(server, destination, 25, "recovered")  # health looks at the newest 20 attempts
    down = Alert.objects.get(endpoint=destination, type=AlertType.ENDPOINT_DOWN)
    wait_until(lambda: Alert.objects.get(pk=down.pk).state == AlertState.RESOLVED,
               timeout=60, message="endpoint_down resolved")
    slack.wait_for(2, timeout=30)
    hook.wait_for(2, timeout=30)
    assert alert_types_seen(hook, signed.signing_secret) == [
        ("alert.opened", "endpoint_down"), ("alert.resolved", "endpoint_down"),
    ]
    assert json.loads(slack.requests[1].body)["text"].startswith("Resolved: endpoint_down on Orders")
    assert len(slack.requests) == 2  # the failures while it was open added nothing


def test_a_storm_of_failure_reports_opens_processing_failures(server, worker, alice, slack, hook):
    signed = channels(alice, slack, hook)
    endpoint = Endpoint.objects.create(owner=alice, name="Billing")
    for _ in range(8):
        answer = requests.post(f"{server.url}/m/{endpoint.report_token}/fail", timeout=10)
        assert answer.json() == {"ok": True}
    run_minute()  # what beat runs every minute
    alert = Alert.objects.get(endpoint=endpoint)
    assert (alert.type, alert.state, alert.detail) == ("processing_failures", "open", "8 of 8 processing reports failed")
    hook.wait_for(1, timeout=30)
    assert alert_types_seen(hook, signed.signing_secret) == [("alert.opened", "processing_failures")]
