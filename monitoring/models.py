"""Monitoring rows: per-minute rollups, processing reports and alerts."""

import logging
from datetime import datetime

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from config.ids import new_id
from endpoints.models import Endpoint, endpoint_group
from realtime import envelope
from realtime.publish import publish_on_commit

log = logging.getLogger(__name__)

# Counted per endpoint per minute (and per hour) in Redis, flushed here.
COUNTERS = (
    "events",
    "integrity",
    "duplicates",
    "retries",
    "signature_failures",
    "attempts_ok",
    "attempts_failed",
    "timeouts",
    "reports_ok",
    "reports_failed",
    "reports_slow",
    "metrics",
)

# Upper bounds (ms) of the attempt latency histogram; the last bucket is open.
LATENCY_BOUNDS_MS = (
    1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 400, 500, 750,
    1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000, 60000,
)


def empty_latency() -> list[int]:
    return [0] * (len(LATENCY_BOUNDS_MS) + 1)


class Rollup(models.Model):
    """Counts of one endpoint over one minute (minutes=1) or hour (minutes=60).

    Written only by the flush, which sets totals counted in Redis, so
    flushing the same minute twice is harmless.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    minutes = models.PositiveSmallIntegerField(default=1)
    start = models.DateTimeField()
    events = models.PositiveIntegerField(default=0)
    integrity = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    signature_failures = models.PositiveIntegerField(default=0)
    attempts_ok = models.PositiveIntegerField(default=0)
    attempts_failed = models.PositiveIntegerField(default=0)
    timeouts = models.PositiveIntegerField(default=0)
    reports_ok = models.PositiveIntegerField(default=0)
    reports_failed = models.PositiveIntegerField(default=0)
    reports_slow = models.PositiveIntegerField(default=0)
    metrics = models.PositiveIntegerField(default=0)
    # Attempt count per LATENCY_BOUNDS_MS bucket.
    latency = models.JSONField(default=empty_latency)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "minutes", "start"], name="one_rollup_per_period"),
        ]
        # Detectors and retention read every endpoint's recent rows at once.
        indexes = [models.Index(fields=["minutes", "start"], name="rollup_period_start")]

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.start:%Y-%m-%d %H:%M} /{self.minutes}m"


def new_report_id() -> str:
    return new_id("rpt")


class Report(models.Model):
    """One processing report (an outcome) or one metric point, as sent to /m/."""

    class Kind(models.TextChoices):
        OUTCOME = "outcome"
        METRIC = "metric"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="reports", db_index=False)
    received_at = models.DateTimeField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    succeeded = models.BooleanField(null=True)
    # Our evt_… id or the provider's own id, as the reporter sent it.
    event_ref = models.CharField(max_length=200, blank=True, default="")
    event = models.ForeignKey("events.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    processing_time_ms = models.FloatField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    error_type = models.CharField(max_length=200, blank=True, default="")
    metric_type = models.CharField(max_length=200, blank=True, default="")
    value = models.FloatField(null=True, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "-received_at"], name="report_endpoint_newest"),
            models.Index(fields=["received_at"], name="report_received"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.endpoint_id} {self.received_at:%H:%M:%S}"


def new_alert_id() -> str:
    return new_id("alr")


class AlertType(models.TextChoices):
    ENDPOINT_DOWN = "endpoint_down"
    TIMEOUTS = "timeouts"
    SILENT = "silent"
    TRAFFIC_SPIKE = "traffic_spike"
    TRAFFIC_DROP = "traffic_drop"
    RETRY_STORM = "retry_storm"
    DUPLICATES = "duplicates"
    INTEGRITY = "integrity"
    LATENCY_DEGRADATION = "latency_degradation"
    SIGNATURE_FAILURES = "signature_failures"
    PROCESSING_FAILURES = "processing_failures"
    SLOW_PROCESSING = "slow_processing"
    AUTO_PAUSED = "auto_paused"


class AlertState(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"


class Alert(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_alert_id, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="alerts", db_index=False)
    type = models.CharField(max_length=32, choices=AlertType.choices)
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField()
    detail = models.TextField(blank=True, default="")
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One open alert per endpoint and type: opening again counts instead.
            models.UniqueConstraint(
                fields=["endpoint", "type"], condition=models.Q(state="open"), name="one_open_alert_per_type"
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-opened_at"], name="alert_endpoint_newest"),
            models.Index(fields=["state", "type"], name="alert_state_type"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type} ({self.state})"

    @classmethod
    def raise_for(cls, endpoint: Endpoint, type_: str, detail: str, now: datetime | None = None) -> "Alert":
        """Open the endpoint's alert of this type, or count a repeat of the open one.

        The partial unique constraint decides between two concurrent openers:
        the loser's insert fails and it counts a repeat instead.
        """
        now = now or timezone.now()
        try:
            with transaction.atomic():
                alert = cls.objects.create(
                    endpoint=endpoint, type=type_, opened_at=now, last_seen_at=now, detail=detail
                )
        except IntegrityError:
            cls.objects.filter(endpoint=endpoint, type=type_, state=AlertState.OPEN).update(
                count=F("count") + 1, last_seen_at=now, detail=detail
            )
            return cls.objects.get(endpoint=endpoint, type=type_, state=AlertState.OPEN)
        alert.endpoint = endpoint
        alert.announce()
        return alert

    @classmethod
    def clear(cls, endpoint: Endpoint, type_: str, now: datetime | None = None) -> "Alert | None":
        """Resolve the endpoint's open alert of this type, if there is one."""
        alert = cls.objects.filter(endpoint=endpoint, type=type_, state=AlertState.OPEN).first()
        if alert is None:
            return None
        alert.endpoint = endpoint
        alert.resolve(now)
        return alert

    def resolve(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        done = Alert.objects.filter(pk=self.pk, state=AlertState.OPEN).update(
            state=AlertState.RESOLVED, resolved_at=now
        )
        if not done:
            return False  # someone else resolved it first and announced it
        self.state, self.resolved_at = AlertState.RESOLVED, now
        self.announce()
        return True

    def announce(self) -> None:
        """Stream the change and notify the owner's channels, after commit."""
        from monitoring.tasks import notify_alert

        publish_on_commit(endpoint_group(self.endpoint.public_id), self.message())
        alert_pk = self.pk

        def enqueue() -> None:
            try:
                notify_alert.delay(alert_pk)
            except Exception:  # a broker outage must not undo or fail the detection
                log.exception("could not enqueue notifications for alert %s", alert_pk)

        transaction.on_commit(enqueue)

    def as_data(self) -> dict:
        return {
            "id": self.public_id,
            "endpoint": self.endpoint.public_id,
            "type": self.type,
            "state": self.state,
            "opened_at": self.opened_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "detail": self.detail,
            "count": self.count,
        }

    def message(self) -> dict:
        type_ = "alert.opened" if self.state == AlertState.OPEN else "alert.resolved"
        return envelope.alert_changed(type_, self.as_data())


# Registered with the app: channels and their notifications live in their own module.
from monitoring.channels import Channel, Notification  # noqa: E402,F401
