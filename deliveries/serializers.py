"""API shape of one delivery attempt."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deliveries.models import DeliveryAttempt


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        "description": "[[name, value], ...] in order; repeated names are kept.",
    }
)
class HeaderListField(serializers.JSONField):
    """Headers as stored: a JSON list of [name, value] pairs."""


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    request_headers = HeaderListField(read_only=True)
    response_headers = HeaderListField(read_only=True)
    response_body = serializers.SerializerMethodField()

    class Meta:
        model = DeliveryAttempt
        fields = [
            "id",
            "attempt",
            "url",
            "status_code",
            "outcome",
            "duration_ms",
            "request_headers",
            "response_headers",
            "response_body",
            "error",
            "started_at",
            "next_retry_at",
            "one_off",
        ]
        read_only_fields = fields

    def get_response_body(self, attempt: DeliveryAttempt) -> str:
        return attempt.response_text()
