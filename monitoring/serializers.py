"""API shapes for alerts."""

from rest_framework import serializers

from monitoring.models import Alert


class AlertSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    endpoint = serializers.CharField(source="endpoint.public_id", read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "endpoint", "type", "state", "opened_at", "resolved_at", "detail", "count"]
        read_only_fields = fields
