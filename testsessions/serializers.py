"""What a test session shows of a request: one shape for the REST list and
the live feed, so the page renders both with the same code."""

from typing import Any

from rest_framework import serializers

from events.models import Event
from testsessions.models import TestSession


def request_data(event: Event) -> dict[str, Any]:
    body, encoding = event.body_for_api()
    return {
        "id": event.public_id,
        "method": event.method,
        "path": event.path,
        "query": event.query,
        "headers": event.headers,
        "body": body,
        "body_encoding": encoding,
        "size": event.size,
        "event_type": event.event_type,
        "sha256": event.sha256,
        "source_ip": event.source_ip,
        "received_at": event.received_at.isoformat(),
    }


class TestSessionSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    ingest_url = serializers.CharField(source="endpoint.ingest_url", read_only=True)
    ws_url = serializers.CharField(read_only=True)
    page_url = serializers.CharField(read_only=True)

    class Meta:
        model = TestSession
        fields = ["id", "ingest_url", "ws_url", "page_url", "expires_at"]
        read_only_fields = fields


class RequestSerializer(serializers.Serializer):
    """Schema only: the list is built by request_data()."""

    id = serializers.CharField()
    method = serializers.CharField()
    path = serializers.CharField()
    query = serializers.CharField()
    headers = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    body = serializers.CharField()
    body_encoding = serializers.ChoiceField(choices=["text", "base64"])
    size = serializers.IntegerField()
    event_type = serializers.CharField(allow_null=True)
    sha256 = serializers.CharField()
    source_ip = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField()
