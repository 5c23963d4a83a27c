"""REST API for the user's endpoints and API keys."""

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.ids import PUBLIC_ID_REGEX
from deliveries import tasks
from endpoints.authentication import NotWithApiKey
from endpoints.models import ApiKey, Endpoint
from endpoints.serializers import ApiKeyCreatedSerializer, ApiKeySerializer, EndpointSerializer


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "endpoints.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


@extend_schema_view(
    list=extend_schema(summary="List your active API keys"),
    create=extend_schema(
        summary="Issue an API key",
        responses={201: ApiKeyCreatedSerializer},
        description="The raw `key` is in this answer only; it is stored hashed.",
    ),
    destroy=extend_schema(summary="Revoke an API key"),
)
# Not with an API key (403): see NotWithApiKey.
@extend_schema(auth=[{"jwtAuth": []}, {"cookieAuth": []}])
class ApiKeyViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    # Tells the schema generator the model; get_queryset scopes every request.
    queryset = ApiKey.objects.none()
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = PUBLIC_ID_REGEX
    permission_classes = [permissions.IsAuthenticated, NotWithApiKey]

    def get_queryset(self) -> QuerySet[ApiKey]:
        return ApiKey.objects.active().filter(owner=self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self) -> type:
        return ApiKeyCreatedSerializer if self.action == "create" else ApiKeySerializer

    def perform_destroy(self, instance: ApiKey) -> None:
        # Kept, not deleted: the row records that the key existed and when it died.
        instance.revoke()


@extend_schema_view(
    list=extend_schema(summary="List your endpoints, newest first"),
    create=extend_schema(summary="Create an endpoint"),
    retrieve=extend_schema(summary="Show one endpoint"),
    partial_update=extend_schema(
        summary="Change an endpoint",
        description='`{"paused": false}` resumes it: its held events become due at once.',
    ),
    destroy=extend_schema(summary="Delete an endpoint and its events"),
)
class EndpointViewSet(viewsets.ModelViewSet):
    serializer_class = EndpointSerializer
    # Tells the schema generator the model; get_queryset scopes every request.
    queryset = Endpoint.objects.none()
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = PUBLIC_ID_REGEX
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Endpoint]:
        return Endpoint.objects.filter(owner=self.request.user).order_by("-created_at", "-id")

    def perform_create(self, serializer: EndpointSerializer) -> None:
        serializer.save(owner=self.request.user)

    def perform_update(self, serializer: EndpointSerializer) -> None:
        was_paused = serializer.instance.paused
        with transaction.atomic():
            endpoint = serializer.save()
            if was_paused and not endpoint.paused:
                tasks.release_held(endpoint)

    @extend_schema(
        summary="Rotate the signing secret",
        description="A new `signing_secret` now; the previous one keeps signing (both signatures in "
        "`webhook-signature`) until `previous_secret_expires_at`, `rotation_overlap` seconds from now.",
        request=None,
        responses={200: EndpointSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, id: str) -> Response:
        endpoint = self.get_object()
        endpoint.rotate_signing_secret()
        return Response(self.get_serializer(endpoint).data, status=status.HTTP_200_OK)
