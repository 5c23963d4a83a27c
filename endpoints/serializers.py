"""API shapes for endpoints and the user's API keys."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api_fields import STRICT_FIELD_MAPPING, IntegerField, TextField
from endpoints.models import ApiKey, Endpoint
from endpoints.validation import (
    MAX_RETRIES,
    MAX_RETRY_DELAY,
    validate_destination_url,
    validate_rate_limit,
    validate_response_content_type,
    validate_response_status,
    validate_retry_schedule,
    validate_timeout,
)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": MAX_RETRY_DELAY},
        "minItems": 1,
        "maxItems": MAX_RETRIES,
        "description": "Delays in seconds between failed attempts.",
    }
)
class RetryScheduleField(serializers.JSONField):
    """Raw JSON, not ListField(IntegerField): the shared validator must see
    "60" and 60.5 as they were sent, exactly as the web form does."""


class EndpointSerializer(serializers.ModelSerializer):
    serializer_field_mapping = STRICT_FIELD_MAPPING
    id = serializers.CharField(source="public_id", read_only=True)
    ingest_url = serializers.CharField(read_only=True)
    destination_url = serializers.URLField(
        max_length=2000, allow_null=True, allow_blank=True, required=False, validators=[validate_destination_url]
    )
    retry_schedule = RetryScheduleField(required=False, validators=[validate_retry_schedule])
    timeout_seconds = IntegerField(required=False, validators=[validate_timeout])
    response_status = IntegerField(allow_null=True, required=False, validators=[validate_response_status])
    signing_secret = serializers.CharField(read_only=True)
    response_content_type = TextField(
        max_length=200, allow_blank=True, required=False, validators=[validate_response_content_type]
    )
    rate_limit = IntegerField(allow_null=True, required=False, validators=[validate_rate_limit])

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "name",
            "ingest_url",
            "destination_url",
            "paused",
            "retry_schedule",
            "timeout_seconds",
            "rate_limit",
            "signing_secret",
            "health",
            "response_status",
            "response_content_type",
            "response_body",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["health", "created_at", "updated_at"]

    def validate_destination_url(self, value: str | None) -> str | None:
        # An empty string means "no destination" (an inbox), stored as NULL.
        return value or None


class ApiKeySerializer(serializers.ModelSerializer):
    serializer_field_mapping = STRICT_FIELD_MAPPING
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at"]


class ApiKeyCreatedSerializer(serializers.ModelSerializer):
    """The answer to a create: the only time the raw key is ever shown."""

    serializer_field_mapping = STRICT_FIELD_MAPPING

    id = serializers.CharField(source="public_id", read_only=True)
    key = serializers.CharField(read_only=True, source="raw_key")

    class Meta:
        model = ApiKey
        fields = ["id", "name", "key", "created_at"]
        read_only_fields = ["created_at"]

    def create(self, validated_data: dict) -> ApiKey:
        key, raw = ApiKey.issue(self.context["request"].user, validated_data["name"])
        key.raw_key = raw
        return key
