"""Sending alerts to notification channels.

Every outbound HTTP request goes through deliveries.outbound (SSRF guard,
timeouts, no redirects); email goes through Django's mail framework. Each
notification is its own Celery task, retried on failure.
"""

import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from deliveries import outbound
from deliveries.models import Outcome
from deliveries.ssrf import BlockedDestination, resolve_checked
from monitoring.channels import Channel, ChannelKind, Notification
from monitoring.models import Alert, AlertState

TIMEOUT_SECONDS = 10


@dataclass
class Sent:
    ok: bool
    status_code: int | None = None
    error: str = ""


def subject(alert: Alert | None, kind: str) -> str:
    if alert is None:
        return "Hookline test notification"
    verb = "resolved" if kind == Notification.Kind.RESOLVED else "alert"
    return f"[Hookline] {verb}: {alert.type} on {alert.endpoint.name}"


def text(alert: Alert | None, kind: str) -> str:
    if alert is None:
        return "This is a test notification from Hookline: this channel works."
    where = f"{settings.PUBLIC_BASE_URL}/endpoints/{alert.endpoint.public_id}/"
    if kind == Notification.Kind.RESOLVED:
        return f"Resolved: {alert.type} on {alert.endpoint.name} ({alert.endpoint.public_id}). {where}"
    return f"{alert.type} on {alert.endpoint.name} ({alert.endpoint.public_id}): {alert.detail} {where}"


def payload(notification: Notification) -> dict:
    """The JSON a `webhook` channel receives."""
    alert = notification.alert
    if alert is None:
        return {"type": "test", "data": {"text": text(None, Notification.Kind.TEST)}}
    type_ = "alert.resolved" if notification.kind == Notification.Kind.RESOLVED else "alert.opened"
    return {"type": type_, "data": alert.as_data()}


def _post(url: str, body: bytes, headers: dict[str, str]) -> Sent:
    headers = {"content-type": "application/json", "user-agent": "Hookline-Notifier", **headers}
    response = outbound.send("POST", url, headers, body, TIMEOUT_SECONDS)
    ok = response.outcome == Outcome.SUCCESS
    return Sent(ok, response.status_code, "" if ok else response.error)


def send_slack(channel: Channel, notification: Notification) -> Sent:
    body = json.dumps({"text": text(notification.alert, notification.kind)}).encode()
    return _post(channel.target, body, {})


def send_webhook(channel: Channel, notification: Notification) -> Sent:
    body = json.dumps(payload(notification)).encode()
    timestamp = int(time.time())
    signature = outbound.sign(channel.signing_secret, notification.public_id, timestamp, body)
    headers = {"webhook-id": notification.public_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    return _post(channel.target, body, headers)


def send_email(channel: Channel, notification: Notification) -> Sent:
    try:
        send_mail(
            subject(notification.alert, notification.kind), text(notification.alert, notification.kind),
            settings.DEFAULT_FROM_EMAIL, [channel.target], fail_silently=False,
        )
    except Exception as exc:  # SMTP refusals, DNS, timeouts: all retried the same way
        return Sent(False, error=f"{exc.__class__.__name__}: {exc}")
    return Sent(True)


def apprise_refusal(target: str) -> str | None:
    """Why an Apprise URL may not be used, or None.

    Apprise opens its own sockets, so the host it will contact is checked
    here, before the URL is handed over (on save and before every send).
    Services on a fixed public API (Telegram, Teams, …) name no host of
    their own: what stands in the host part does not resolve, and passes.
    """
    import apprise

    plugin = apprise.Apprise.instantiate(target, suppress_exceptions=True)
    if plugin is None:
        return "not an Apprise URL Apprise knows"
    host = getattr(plugin, "host", None)
    if not host:
        return None
    try:
        resolve_checked(host, getattr(plugin, "port", None) or 443)
    except BlockedDestination as exc:
        return str(exc)
    except (OSError, UnicodeError):
        return None
    return None


def send_apprise(channel: Channel, notification: Notification) -> Sent:
    import apprise

    target = channel.target
    refusal = apprise_refusal(target)
    if refusal:
        return Sent(False, error=f"refused: {refusal}")
    notifier = apprise.Apprise()
    notifier.add(target)
    if notifier.notify(title=subject(notification.alert, notification.kind), body=text(notification.alert, notification.kind)):
        return Sent(True)
    return Sent(False, error="Apprise could not deliver the notification (its log has the service's answer)")


SENDERS = {
    ChannelKind.EMAIL: send_email,
    ChannelKind.SLACK: send_slack,
    ChannelKind.WEBHOOK: send_webhook,
    ChannelKind.APPRISE: send_apprise,
}


def deliver(notification: Notification, final: bool) -> Sent:
    """One try; records its outcome. `final`: no retry follows a failure."""
    channel = notification.channel
    outcome = SENDERS[channel.kind](channel, notification)
    if outcome.ok:
        state = Notification.State.SENT
    else:
        state = Notification.State.FAILED if final else Notification.State.PENDING
    Notification.objects.filter(pk=notification.pk).update(
        state=state, tries=notification.tries + 1, status_code=outcome.status_code, error=outcome.error[:2000],
        sent_at=timezone.now() if outcome.ok else None,
    )
    return outcome


def plan(alert: Alert) -> list[Notification]:
    """The notifications an alert's change calls for, created pending."""
    kind = Notification.Kind.OPENED if alert.state == AlertState.OPEN else Notification.Kind.RESOLVED
    if alert.endpoint.owner_id is None:
        return []
    created = []
    channels = Channel.objects.filter(owner_id=alert.endpoint.owner_id)
    with transaction.atomic():
        for channel in channels:
            if not channel.wants(alert.endpoint.public_id, alert.type):
                continue
            if kind == Notification.Kind.OPENED and channel.cooling_down(alert.endpoint_id, alert.type):
                continue
            if kind == Notification.Kind.RESOLVED and not (
                channel.notify_resolved
                and channel.notifications.filter(alert=alert, kind=Notification.Kind.OPENED).exists()
            ):
                continue  # never "resolved" for an opening this channel was not told about
            created.append(Notification.objects.create(channel=channel, alert=alert, kind=kind))
    return created


def send_test(channel: Channel) -> Notification:
    """The test button: send now, in the request, and say how it went."""
    notification = Notification.objects.create(channel=channel, kind=Notification.Kind.TEST)
    deliver(notification, final=True)
    notification.refresh_from_db()
    return notification
