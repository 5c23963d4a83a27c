"""REST API for bulk replays: start one, follow it, cancel it."""

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.ids import PUBLIC_ID_REGEX, is_public_id
from endpoints.models import Endpoint
from replays import tasks
from replays.models import BulkReplay
from replays.serializers import BulkReplayRequestSerializer, BulkReplaySerializer


@extend_schema_view(
    list=extend_schema(summary="List your bulk replays, newest first"),
    retrieve=extend_schema(summary="Show a bulk replay's state and counts"),
)
class BulkReplayViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # Tells the schema generator the model; get_queryset scopes every request.
    queryset = BulkReplay.objects.none()
    serializer_class = BulkReplaySerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = PUBLIC_ID_REGEX

    def get_queryset(self) -> QuerySet[BulkReplay]:
        return BulkReplay.objects.filter(owner=self.request.user).select_related("endpoint")

    @extend_schema(
        summary="Replay every matching event of an endpoint",
        description="Counts the endpoint's events that match (received before now), then a background job "
        "gives each a new round of attempts, oldest first. Progress streams as `replay.progress` to the "
        "endpoint's WebSocket subscribers. A filter that matches nothing answers `done` with `total` 0.",
        request=BulkReplayRequestSerializer,
        responses={
            202: BulkReplaySerializer,
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="The endpoint has no destination."),
        },
    )
    def create(self, request: Request) -> Response:
        serializer = BulkReplayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        filters = dict(serializer.validated_data)
        endpoint_id = filters.pop("endpoint")
        endpoint = None
        if is_public_id(endpoint_id):
            endpoint = Endpoint.objects.filter(owner=request.user, public_id=endpoint_id).first()
        if endpoint is None:
            raise exceptions.NotFound("endpoint not found")
        if not endpoint.destination_url:
            return Response({"detail": "endpoint has no destination"}, status=status.HTTP_409_CONFLICT)
        job = tasks.start_bulk_replay(request.user, endpoint, filters)
        return Response(BulkReplaySerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Cancel a bulk replay",
        description="Events not sent yet are left alone; attempts in flight finish.",
        request=None,
        responses={
            200: BulkReplaySerializer,
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="The replay had already finished."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, id: str) -> Response:
        job = self.get_object()
        with transaction.atomic():
            cancelled = job.cancel()
        if not cancelled:
            return Response({"detail": f"replay is already {job.state}"}, status=status.HTTP_409_CONFLICT)
        return Response(BulkReplaySerializer(job).data)
