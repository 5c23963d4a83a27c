"""API shapes of replays: one event (`POST /events/{id}/replay/`) and bulk jobs."""

import base64
import binascii
import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException

from endpoints.validation import validate_destination_url
from events.models import EventStatus
from replays.models import BulkReplay
from replays.single import Changes

# RFC 9110 field names are tokens; values may not break the header block.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")
MAX_HEADERS = 200


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


def parse_headers(value: object) -> list[list[str]]:
    """[[name, value], ...] from that list or a {name: value} object."""
    if isinstance(value, dict):
        value = [[name, item] for name, item in value.items()]
    if not isinstance(value, list):
        raise serializers.ValidationError('Give headers as [["name", "value"], ...] or {"name": "value"}.')
    if len(value) > MAX_HEADERS:
        raise serializers.ValidationError(f"At most {MAX_HEADERS} headers.")
    headers = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise serializers.ValidationError(f"Each header is a [name, value] pair of strings; got {pair!r}.")
        name, item = pair
        if not HEADER_NAME.fullmatch(name):
            raise serializers.ValidationError(f"{name!r} is not a valid header name.")
        if HEADER_VALUE_FORBIDDEN.search(item):
            raise serializers.ValidationError(f"The value of {name!r} contains a line break or NUL.")
        headers.append([name, item])
    return headers


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
            {"type": "object", "additionalProperties": {"type": "string"}},
        ],
        "description": "The replacement headers, all of them, in order.",
    }
)
class HeadersField(serializers.JSONField):
    def to_internal_value(self, data: object) -> list[list[str]]:
        return parse_headers(super().to_internal_value(data))


class ReplayRequestSerializer(serializers.Serializer):
    destination_url = serializers.URLField(
        max_length=2000, required=False, allow_null=True, validators=[validate_destination_url],
        help_text="Send one attempt here instead of the endpoint's destination (sub-path and query appended).",
    )
    body = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="A replacement body, as text."
    )
    body_base64 = serializers.CharField(required=False, allow_blank=True, help_text="A replacement body, base64.")
    headers = HeadersField(required=False)

    def validate(self, data: dict) -> dict:
        if "body" in data and "body_base64" in data:
            raise serializers.ValidationError("Give body or body_base64, not both.")
        if "body_base64" in data:
            try:
                data["body_bytes"] = base64.b64decode(data.pop("body_base64"), validate=True)
            except (binascii.Error, ValueError):
                raise serializers.ValidationError({"body_base64": ["Not valid base64."]}) from None
        elif "body" in data:
            data["body_bytes"] = data.pop("body").encode("utf-8")
        if len(data.get("body_bytes", b"")) > settings.MAX_BODY_BYTES:
            raise BodyTooLarge(f"Body is larger than the limit of {settings.MAX_BODY_BYTES} bytes.")
        return data

    def changes(self) -> Changes:
        data = self.validated_data
        return Changes(
            destination_url=data.get("destination_url") or None,
            body=data.get("body_bytes"),
            headers=data.get("headers"),
        )


class ReplayAnswerSerializer(serializers.Serializer):
    event_id = serializers.CharField(help_text="The event sent: this one, or its edited copy.")
    replay_of = serializers.CharField(allow_null=True, help_text="For an edited copy, the event it copies.")
    status = serializers.CharField()


class BulkReplaySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    endpoint = serializers.CharField(source="endpoint.public_id", read_only=True)

    class Meta:
        model = BulkReplay
        fields = [
            "id", "endpoint", "state", "total", "done", "failed", "status", "received_after", "received_before",
            "event_type", "created_at", "finished_at",
        ]
        read_only_fields = fields


class BulkReplayRequestSerializer(serializers.Serializer):
    endpoint = serializers.CharField(help_text="`ep_…`: whose events to replay.")
    status = serializers.ChoiceField(choices=EventStatus.choices, required=False, allow_blank=True)
    received_after = serializers.DateTimeField(required=False, allow_null=True)
    received_before = serializers.DateTimeField(required=False, allow_null=True)
    # An empty window (received_before not after received_after) is accepted:
    # like any filter that matches nothing it answers `done` with total 0, as
    # the schema cannot forbid it.
    event_type = serializers.CharField(required=False, allow_blank=True, max_length=255)
