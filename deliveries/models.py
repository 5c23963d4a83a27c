from django.db import models

from config.ids import new_id
from realtime import envelope
from endpoints.models import Endpoint
from events.models import Event


def new_delivery_id() -> str:
    return new_id("dlv")


class Outcome(models.TextChoices):
    SUCCESS = "success"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    BLOCKED = "blocked"


class DeliveryAttempt(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_delivery_id, editable=False)
    # Both foreign keys are the first column of a composite index below.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    # Denormalised so endpoint health reads one index, not a join over events.
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    attempt = models.PositiveIntegerField()
    url = models.URLField(max_length=2000)
    request_headers = models.JSONField(default=list)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    duration_ms = models.PositiveIntegerField(default=0)
    response_headers = models.JSONField(default=list)
    response_body = models.BinaryField(default=b"")
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField()
    next_retry_at = models.DateTimeField(null=True, blank=True)
    # A replay's single attempt to a URL other than the endpoint's destination
    # (replays.attempt): listed with the event's attempts, but no part of its
    # delivery, so health, auto-pause and the stream's replay leave it out.
    one_off = models.BooleanField(default=False)

    class Meta:
        ordering = ["attempt", "id"]
        indexes = [models.Index(fields=["endpoint", "-started_at"], name="delivery_endpoint_newest")]
        constraints = [
            models.UniqueConstraint(fields=["event", "attempt"], name="one_row_per_attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} #{self.attempt}"

    @classmethod
    def answered(
        cls, event: Event, attempt: int, url: str, headers: dict[str, str], started_at, response, **fields
    ) -> "DeliveryAttempt":
        """An unsaved row for one request and its answer (an `outbound.Response`)."""
        return cls(
            event=event,
            endpoint=event.endpoint,
            attempt=attempt,
            url=url,
            request_headers=[[k, v] for k, v in headers.items()],
            status_code=response.status_code,
            outcome=response.outcome,
            duration_ms=response.duration_ms,
            response_headers=response.headers,
            response_body=response.body,
            error=response.error,
            started_at=started_at,
            **fields,
        )

    @property
    def succeeded(self) -> bool:
        return self.outcome == Outcome.SUCCESS

    @property
    def message_type(self) -> str:
        """The realtime message this attempt announced."""
        if self.outcome == Outcome.SUCCESS:
            return "event.delivered"
        if self.next_retry_at is not None:
            return "event.retrying"
        return "event.failed"

    def message(self) -> dict:
        """The realtime envelope for this attempt (live and replayed alike)."""
        return envelope.delivery_outcome(
            self.message_type,
            event_id=self.event.public_id,
            endpoint_id=self.endpoint.public_id,
            attempt=self.attempt,
            status_code=self.status_code,
            duration_ms=self.duration_ms,
            outcome=self.outcome,
            delivery_id=self.public_id,
            next_retry_at=self.next_retry_at,
            error=self.error,
        )

    def response_text(self) -> str:
        return bytes(self.response_body).decode("utf-8", errors="replace")
