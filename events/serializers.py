"""API shapes of events: a light summary for lists, everything for one."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deliveries.serializers import DeliveryAttemptSerializer, HeaderListField
from events.models import UNCHECKED, Event


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "scheme": {"type": "string", "nullable": True},
            "verdict": {"type": "string", "enum": ["valid", "invalid", "missing", "unchecked"]},
            "detail": {"type": "string"},
        },
    }
)
class SignatureField(serializers.Field):
    def to_representation(self, value: dict | None) -> dict:
        return value or UNCHECKED


class EventSummarySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    endpoint = serializers.CharField(source="endpoint.public_id", read_only=True)
    signature = SignatureField(read_only=True)
    replay_of = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "endpoint",
            "status",
            "method",
            "path",
            "query",
            "size",
            "source_ip",
            "content_type",
            "received_at",
            "attempt_count",
            "next_attempt_at",
            "event_type",
            "sha256",
            "signature",
            "duplicate_of",
            "replay_of",
            "handshake",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_replay_of(self, event: Event) -> str | None:
        """The event this one is an edited replay of (`evt_…`), or null."""
        if not event.replay_of_id:
            return None
        annotated = getattr(event, "replay_of_public_id", None)
        return annotated if annotated is not None else event.replay_of.public_id


class EventDetailSerializer(EventSummarySerializer):
    headers = HeaderListField(read_only=True)
    body = serializers.SerializerMethodField()
    body_encoding = serializers.SerializerMethodField()
    deliveries = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta(EventSummarySerializer.Meta):
        fields = EventSummarySerializer.Meta.fields + ["headers", "body", "body_encoding", "deliveries"]
        read_only_fields = fields

    def to_representation(self, event: Event) -> dict:
        # Bodies reach MAX_BODY_BYTES: decode once for both fields.
        self._body = event.body_for_api()
        return super().to_representation(event)

    def get_body(self, event: Event) -> str:
        return self._body[0]

    @extend_schema_field(serializers.ChoiceField(choices=["text", "base64"]))
    def get_body_encoding(self, event: Event) -> str:
        return self._body[1]


