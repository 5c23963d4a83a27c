"""REST API for notification channels: `/api/v1/channels/`, test, history."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.ids import PUBLIC_ID_REGEX
from deliveries.ssrf import check_url
from endpoints.models import Endpoint
from monitoring.channels import Channel, ChannelKind, Notification
from monitoring.models import AlertType
from monitoring.notify import apprise_refusal, send_test

MAX_COOLDOWN = 7 * 86400
MAX_SCOPE = 200


class ChannelSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    target = serializers.CharField(max_length=2000)
    endpoints = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, min_length=1, max_length=MAX_SCOPE,
        error_messages={"min_length": 'List endpoint ids, or ["*"] for all of them.'},
    )
    alert_types = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertType.choices), required=False, max_length=len(AlertType.values)
    )
    cooldown_seconds = serializers.IntegerField(required=False, min_value=0, max_value=MAX_COOLDOWN)
    signing_secret = serializers.SerializerMethodField(help_text="Signs `webhook` channels' requests (Standard Webhooks).")

    class Meta:
        model = Channel
        fields = ["id", "kind", "target", "endpoints", "alert_types", "cooldown_seconds", "notify_resolved",
                  "signing_secret", "created_at"]
        read_only_fields = ["created_at"]

    def get_signing_secret(self, channel: Channel) -> str | None:
        return channel.signing_secret or None

    def validate_endpoints(self, value: list[str]) -> list[str]:
        if not value:
            raise serializers.ValidationError('List endpoint ids, or ["*"] for all of them.')
        wanted = [item for item in value if item != "*"]
        owned = set(
            Endpoint.objects.filter(owner=self.context["request"].user, public_id__in=wanted)
            .values_list("public_id", flat=True)
        )
        unknown = sorted(set(wanted) - owned)
        if unknown:
            # As everywhere in the API: an id that is not one of yours is not found.
            raise NotFound({"endpoints": [f"Unknown endpoint: {', '.join(unknown)}."]})
        return list(dict.fromkeys(value))

    def validate(self, data: dict) -> dict:
        kind = data.get("kind", getattr(self.instance, "kind", None))
        target = data.get("target", self.instance.target if self.instance else "")
        if "kind" in data or "target" in data:
            self._check_target(kind, target)
        return data

    def _check_target(self, kind: str, target: str) -> None:
        if kind == ChannelKind.EMAIL:
            try:
                EmailValidator()(target)
            except DjangoValidationError:
                raise serializers.ValidationError({"target": ["An email channel's target is an email address."]}) from None
            return
        if kind == ChannelKind.APPRISE:
            reason = apprise_refusal(target)
            if reason:
                raise serializers.ValidationError({"target": [f"Target refused: {reason}."]})
            return
        reason = check_url(target)
        if reason:
            raise serializers.ValidationError({"target": [f"Target refused: {reason}."]})

    def create(self, validated: dict) -> Channel:
        target = validated.pop("target")
        channel = Channel(owner=self.context["request"].user, **validated)
        channel.target = target
        channel.save()
        return channel

    def update(self, channel: Channel, validated: dict) -> Channel:
        if "target" in validated:
            channel.target = validated.pop("target")
        for name, value in validated.items():
            setattr(channel, name, value)
        channel.save()
        return channel


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    alert = serializers.CharField(source="alert.public_id", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Notification
        fields = ["id", "alert", "kind", "state", "tries", "status_code", "error", "created_at", "sent_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List your notification channels"),
    create=extend_schema(summary="Add a notification channel"),
    retrieve=extend_schema(summary="Show one channel"),
    partial_update=extend_schema(summary="Change a channel"),
    destroy=extend_schema(summary="Delete a channel"),
)
class ChannelViewSet(viewsets.ModelViewSet):
    serializer_class = ChannelSerializer
    queryset = Channel.objects.none()
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = PUBLIC_ID_REGEX
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Channel]:
        return Channel.objects.filter(owner=self.request.user).order_by("-created_at", "-id")

    @extend_schema(summary="Send a test notification now", request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, id: str) -> Response:
        notification = send_test(self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(summary="Every notification sent to this channel, newest first",
                   responses=NotificationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def notifications(self, request: Request, id: str) -> Response:
        channel = self.get_object()
        page = self.paginate_queryset(channel.notifications.select_related("alert").order_by("-created_at", "-id"))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)
