import base64
import json

from django.db import models

from config.ids import new_id
from endpoints.models import Endpoint


def new_event_id() -> str:
    return new_id("evt")


class EventStatus(models.TextChoices):
    RECEIVED = "received"
    HELD = "held"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"
    # Refused by signature verification in reject mode: kept to inspect, never forwarded.
    REJECTED = "rejected"


UNCHECKED = {"scheme": None, "verdict": "unchecked", "detail": "The endpoint does not verify signatures."}


class Event(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_event_id, editable=False)
    # No index of its own: event_endpoint_newest starts with endpoint_id, and
    # every index is paid for on the ingest INSERT.
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="events", db_index=False)
    method = models.CharField(max_length=16)
    path = models.TextField(blank=True, default="")
    query = models.TextField(blank=True, default="")
    # [[name, value], ...] in arrival order; repeated names are kept.
    headers = models.JSONField(default=list)
    body = models.BinaryField(default=b"")
    size = models.PositiveIntegerField(default=0)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    content_type = models.CharField(max_length=255, blank=True, default="")
    received_at = models.DateTimeField(db_index=False)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    # When the next delivery attempt is due; NULL when nothing is owed.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a wake-up for the due attempt was last put on the broker; the
    # sweeper sends another only once this lease has run out.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker is sending an attempt (its lease); the worker records
    # its result only if the claim is still its own.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    # Failed attempts since the last (re)play: indexes retry_schedule.
    retry_index = models.PositiveIntegerField(default=0)
    # What ingest learned about the request (events/inspection.py).
    event_type = models.CharField(max_length=255, null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    # {"scheme", "verdict", "detail"}; NULL when the endpoint verifies nothing.
    signature = models.JSONField(null=True, blank=True)
    duplicate_of = models.CharField(max_length=40, null=True, blank=True)
    # The provider whose URL check ingest answered itself ("" for webhooks).
    handshake = models.CharField(max_length=16, blank=True, default="")
    # The event this one is an edited copy of (a replay with a new body or
    # headers); NULL for everything that arrived from a sender. Indexed only
    # where set (see Meta): ingest never pays for it.
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays", db_index=False
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-received_at", "-id"], name="event_endpoint_newest"),
            models.Index(fields=["status", "-received_at"], name="event_status_newest"),
            # The engine's claims skip-scan this per endpoint (deliveries/claims.py):
            # only events that owe an attempt are in it.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="event_endpoint_due",
                condition=models.Q(next_attempt_at__isnull=False),
            ),
            models.Index(fields=["replay_of"], name="event_replays", condition=models.Q(replay_of__isnull=False)),
        ]
        constraints = [
            # Claims find due events by their due time alone (deliveries/claims.py).
            models.CheckConstraint(
                condition=models.Q(next_attempt_at__isnull=True)
                | models.Q(status__in=[EventStatus.RECEIVED, EventStatus.RETRYING]),
                name="event_due_is_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def body_bytes(self) -> bytes:
        return bytes(self.body)

    def body_text(self) -> str | None:
        """The body as text, or None when it is not valid UTF-8."""
        try:
            return self.body_bytes.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def body_for_api(self) -> tuple[str, str]:
        text = self.body_text()
        if text is not None:
            return text, "text"
        return base64.b64encode(self.body_bytes).decode(), "base64"

    def body_json(self) -> object | None:
        text = self.body_text()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return None

    @property
    def signature_report(self) -> dict:
        return self.signature or UNCHECKED

    def summary(self) -> dict:
        return {
            "id": self.public_id,
            "endpoint": self.endpoint.public_id,
            "method": self.method,
            "size": self.size,
            "status": self.status,
            "received_at": self.received_at.isoformat(),
            "event_type": self.event_type,
            "signature": self.signature_report,
            "duplicate_of": self.duplicate_of,
        }


class EventSearch(models.Model):
    """What `q` searches for an event: its header values and the start of its
    body as text (events/search.py), under a trigram index in PostgreSQL.
    Its own table, filled behind ingest, so the INSERT that answers a
    sender never pays for the index."""

    # The database cascades too (migration 0010): a search row the indexer
    # commits while Django deletes its event must not fail that delete.
    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, primary_key=True, related_name="search", db_constraint=False
    )
    text = models.TextField(blank=True, default="")


class SearchBacklog(models.Model):
    """Events stored by ingest's INSERT and not yet in EventSearch: the
    indexer's queue (events/search.py). No foreign key, so the INSERT
    checks nothing; an id whose event is gone by then is dropped."""

    event_id = models.BigIntegerField(primary_key=True)
