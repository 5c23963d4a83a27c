"""API shapes for endpoints and the user's API keys."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from config.api_fields import STRICT_FIELD_MAPPING, IntegerField, TextField
from config.schema import documents
from endpoints import toolkit
from endpoints.models import DEFAULT_MONITORING, ApiKey, Endpoint
from endpoints.validation import (
    MAX_RETRIES,
    MAX_REQUIRED_FIELDS,
    MAX_RETRY_DELAY,
    MONITORING_LIMITS,
    validate_destination_url,
    validate_monitoring,
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


class _WholeEndpointField(serializers.Field):
    """An object made of several model columns (source="*"); null is a value."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", required=False, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data is empty:
            return super().run_validation(data)
        try:
            return self.to_internal_value(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


STATS_SCHEMA = {
    "type": "object",
    "readOnly": True,
    "properties": {
        "events_per_min": {"type": "number"},
        "success_rate_1h": {"type": "number", "nullable": True},
        "p50_ms": {"type": "integer", "nullable": True},
        "p95_ms": {"type": "integer", "nullable": True},
        "processing_success_rate_1h": {"type": "number", "nullable": True},
        "last_event_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}


@extend_schema_field(STATS_SCHEMA)
class StatsField(serializers.Field):
    """Read-only stats; computed once for every endpoint of a list page."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, endpoint: Endpoint) -> dict:
        from monitoring.stats import for_endpoints

        cache = self.context.setdefault("endpoint_stats", {})
        if endpoint.pk not in cache:
            root = self.root.instance
            page = list(root) if isinstance(root, list | tuple) else [endpoint]
            cache.update(for_endpoints([item.pk for item in page if item.pk not in cache] or [endpoint.pk]))
        return cache[endpoint.pk]


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            "scheme": {"type": "string", "enum": [*toolkit.SCHEMES, None], "nullable": True},
            "secret": {
                "type": "string", "writeOnly": True, "nullable": True, "minLength": 1,
                "maxLength": toolkit.MAX_SECRET_CHARS, "description": "null or absent keeps the stored secret",
            },
            "mode": {"type": "string", "enum": ["off", "flag", "reject"]},
            "header": {
                "type": "string", "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$",
                "description": "hmac only: the header carrying the signature",
            },
            "algorithm": {"type": "string", "enum": ["sha1", "sha256", "sha512"]},
            "encoding": {"type": "string", "enum": ["hex", "base64"]},
            "prefix": {"type": "string", "description": "hmac only, e.g. sha256="},
            "secret_set": {"type": "boolean", "readOnly": True},
        },
        "additionalProperties": False,
    }
)
class VerificationField(_WholeEndpointField):
    def to_representation(self, endpoint: Endpoint) -> dict[str, Any]:
        return toolkit.verification_of(endpoint)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return toolkit.clean_verification(data, self.parent.instance)


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "window_seconds": {
                "type": "integer", "minimum": 0, "maximum": toolkit.MAX_WINDOW_SECONDS,
                "description": "0 turns deduplication off",
            },
            "action": {"type": "string", "enum": ["flag", "drop"]},
        },
        "additionalProperties": False,
    }
)
class DedupField(_WholeEndpointField):
    def to_representation(self, endpoint: Endpoint) -> dict[str, Any]:
        return toolkit.dedup_of(endpoint)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return toolkit.clean_dedup(data)


@documents(minimum=0, maximum=toolkit.MAX_WINDOW_SECONDS)
def validate_rotation_overlap(value: int) -> None:
    toolkit.clean_window(value, "rotation_overlap")


@extend_schema_field(
    {
        "type": "object",
        "description": "Detector settings; a PATCH may send only the keys it changes.",
        # Built from the validator's own limits, so the schema states exactly what it accepts.
        "properties": {
            **{
                key: {"type": "integer", "minimum": low, "maximum": high, **({"nullable": True} if nullable else {})}
                for key, (nullable, low, high) in MONITORING_LIMITS.items()
            },
            "required_fields": {
                "type": "array",
                "maxItems": MAX_REQUIRED_FIELDS,
                "items": {"type": "string", "pattern": "^/", "maxLength": 500},
            },
        },
        "additionalProperties": False,
    }
)
class MonitoringField(serializers.JSONField):
    def to_representation(self, value: dict) -> dict:
        return {**DEFAULT_MONITORING, **(value or {})}


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
    verification = VerificationField()
    dedup = DedupField()
    rotation_overlap = IntegerField(required=False, validators=[validate_rotation_overlap])
    report_url = serializers.CharField(read_only=True)
    monitoring = MonitoringField(required=False, validators=[validate_monitoring])
    retention_days = serializers.IntegerField(
        allow_null=True, required=False, min_value=1, max_value=3650,
        help_text="Days this endpoint's events are kept; null: the installation's RETENTION_DAYS.",
    )
    stats = StatsField()

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
            "paused_reason",
            "report_url",
            "monitoring",
            "retention_days",
            "stats",
            "response_status",
            "response_content_type",
            "response_body",
            "verification",
            "dedup",
            "handshakes",
            "rotation_overlap",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["health", "paused_reason", "previous_secret_expires_at", "created_at", "updated_at"]

    def validate_monitoring(self, value: dict) -> dict:
        # A partial object changes only the keys it names.
        current = self.instance.monitor_settings if self.instance else dict(DEFAULT_MONITORING)
        return {**current, **value}

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
