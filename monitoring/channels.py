"""Notification channels (`chn_…`) and the record of every notification sent.

A channel belongs to a user and says where alerts of which endpoints and
types go. Sending is monitoring.notify's job, in Celery tasks of their own,
so a slow or failing notifier never holds up detection or ingest.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from config import crypto
from config.ids import new_id
from endpoints.models import new_signing_secret

DEFAULT_COOLDOWN_SECONDS = 600


class ChannelKind(models.TextChoices):
    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"
    APPRISE = "apprise"


def new_channel_id() -> str:
    return new_id("chn")


def every_endpoint() -> list[str]:
    return ["*"]


def no_types() -> list[str]:
    return []


class Channel(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_channel_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    # An address or a URL with a token in it (Slack's): encrypted at rest.
    target_encrypted = models.TextField()
    # ["*"] or endpoint ids; alert types, empty for all.
    endpoints = models.JSONField(default=every_endpoint)
    alert_types = models.JSONField(default=no_types, blank=True)
    cooldown_seconds = models.PositiveIntegerField(default=DEFAULT_COOLDOWN_SECONDS)
    notify_resolved = models.BooleanField(default=True)
    # The Standard Webhooks secret `webhook` channels sign with.
    signing_secret_encrypted = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id}"

    @property
    def target(self) -> str:
        return crypto.decrypt(self.target_encrypted) if self.target_encrypted else ""

    @target.setter
    def target(self, value: str) -> None:
        self.target_encrypted = crypto.encrypt(value)

    @property
    def signing_secret(self) -> str:
        return crypto.decrypt(self.signing_secret_encrypted) if self.signing_secret_encrypted else ""

    def save(self, *args, **kwargs) -> None:
        if self.kind == ChannelKind.WEBHOOK and not self.signing_secret_encrypted:
            self.signing_secret_encrypted = crypto.encrypt(new_signing_secret())
        super().save(*args, **kwargs)

    def wants(self, endpoint_public_id: str, alert_type: str) -> bool:
        in_scope = "*" in self.endpoints or endpoint_public_id in self.endpoints
        return in_scope and (not self.alert_types or alert_type in self.alert_types)

    def cooling_down(self, endpoint_id: int, alert_type: str) -> bool:
        """An opening of this endpoint and type was notified within the cooldown."""
        since = timezone.now() - timedelta(seconds=self.cooldown_seconds)
        return self.notifications.filter(
            kind=Notification.Kind.OPENED, alert__endpoint_id=endpoint_id, alert__type=alert_type,
            created_at__gte=since,
        ).exists()


def new_notification_id() -> str:
    return new_id("ntf")


class Notification(models.Model):
    """One notification to one channel, with the outcome of its last try."""

    class Kind(models.TextChoices):
        OPENED = "opened"
        RESOLVED = "resolved"
        TEST = "test"

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    public_id = models.CharField(max_length=40, unique=True, default=new_notification_id, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    alert = models.ForeignKey("monitoring.Alert", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    tries = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "-created_at"], name="notification_channel_newest")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} ({self.state})"
