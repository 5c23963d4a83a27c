"""REST API for events: filtered, cursor-paginated lists, detail, attempts, replay."""

from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from config.ids import PUBLIC_ID_REGEX, is_public_id
from deliveries.models import DeliveryAttempt
from deliveries.serializers import DeliveryAttemptSerializer
from endpoints.models import Endpoint
from events import filters
from events.models import Event, EventStatus
from events.serializers import EventDetailSerializer, EventSummarySerializer
from replays import single
from replays.serializers import ReplayAnswerSerializer, ReplayRequestSerializer


class EventCursorPagination(CursorPagination):
    # -id breaks ties between events stored in the same microsecond.
    ordering = ("-received_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            # 404, not 400: any string is a well-formed cursor; this one names no page.
            raise exceptions.NotFound({"cursor": ["Invalid cursor."]}) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = f"Page size (default {self.page_size}); more than {self.max_page_size} returns {self.max_page_size}."
            else:
                parameter["description"] = "The `next` or `previous` link's cursor."
        return parameters

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # DRF would quietly fall back to the default for "abc" or 0; the
        # schema promises a positive integer, so anything else is refused.
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise exceptions.ValidationError({"limit": ["Use a whole number from 1 (at most 200 are returned)."]})
        return min(int(raw), self.max_page_size)


def parse_since(value: str) -> datetime:
    return filters.parse_moment(value)


EMPTY = {"type": "string", "maxLength": 0, "description": "Empty: no filter."}
TIME_OR_EMPTY = {"anyOf": [{"type": "string", "format": "date-time"}, EMPTY]}
LIST_PARAMETERS = [
    OpenApiParameter("endpoint", str, description="Only this endpoint's events (`ep_…`)."),
    OpenApiParameter("status", str, enum=EventStatus.values),
    OpenApiParameter(
        "since",
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": "^evt_[a-z0-9]{1,40}$"},
                EMPTY,
            ]
        },
        description="An ISO 8601 time (events received at or after it) or an event id "
        "(events received after that event; 404 when it is not one of yours).",
    ),
    OpenApiParameter("event_type", str, description="Only events of this type (e.g. `charge.succeeded`)."),
    OpenApiParameter("verdict", str, enum=filters.VERDICTS, description="Only events with this signature verdict."),
    OpenApiParameter("q", str, description="Text in a header value or the first 64 KiB of the body."),
    OpenApiParameter("received_after", TIME_OR_EMPTY, description="ISO 8601; events received at or after it."),
    OpenApiParameter("received_before", TIME_OR_EMPTY, description="ISO 8601; events received before it."),
]


@extend_schema_view(
    list=extend_schema(summary="List your events, newest first", parameters=LIST_PARAMETERS),
    retrieve=extend_schema(summary="Show one event with its body and attempts"),
)
class EventViewSet(viewsets.ReadOnlyModelViewSet):
    # Tells the schema generator the model; get_queryset scopes every request.
    queryset = Event.objects.none()
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = PUBLIC_ID_REGEX
    pagination_class = EventCursorPagination

    def get_serializer_class(self) -> type:
        if self.action == "list":
            return EventSummarySerializer
        if self.action == "deliveries":
            return DeliveryAttemptSerializer
        if self.action == "replay":
            return ReplayRequestSerializer
        return EventDetailSerializer

    def get_queryset(self) -> QuerySet[Event]:
        events = (
            Event.objects.filter(endpoint__owner=self.request.user)
            .select_related("endpoint")
            # The original's id only: a join for one column, never its body.
            .annotate(replay_of_public_id=F("replay_of__public_id"))
        )
        if self.action == "list":
            # Bodies can be megabytes each; the list never shows them.
            return self.filter_list(events.defer("body", "headers"))
        if self.action == "retrieve":
            return events.prefetch_related(Prefetch("deliveries", DeliveryAttempt.objects.order_by("attempt", "id")))
        return events

    def filter_list(self, events: QuerySet[Event]) -> QuerySet[Event]:
        params = self.request.query_params
        if endpoint_id := params.get("endpoint"):
            if not is_public_id(endpoint_id):
                raise exceptions.NotFound("endpoint not found")
            endpoint = Endpoint.objects.filter(owner=self.request.user, public_id=endpoint_id).first()
            if endpoint is None:
                raise exceptions.NotFound("endpoint not found")
            events = events.filter(endpoint=endpoint)
        if event_status := params.get("status"):
            if event_status not in EventStatus.values:
                choices = ", ".join(EventStatus.values)
                raise exceptions.ValidationError({"status": [f"Unknown status {event_status!r}; use one of {choices}."]})
            events = events.filter(status=event_status)
        if since := params.get("since"):
            events = events.filter(self.since_filter(since))
        try:
            return filters.filter_events(events, params)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None

    def since_filter(self, since: str) -> Q:
        if since.startswith("evt_"):
            if not is_public_id(since):
                raise exceptions.ValidationError({"since": [f"No event {since!r}."]})
            anchor = (
                Event.objects.filter(endpoint__owner=self.request.user, public_id=since)
                .values("received_at", "pk")
                .first()
            )
            if anchor is None:
                raise exceptions.NotFound({"since": [f"No event {since!r}."]})
            # Strictly after the anchor in list order, so ties on received_at
            # are split by id and no event is repeated or skipped.
            at = anchor["received_at"]
            return Q(received_at__gt=at) | Q(received_at=at, pk__gt=anchor["pk"])
        try:
            return Q(received_at__gte=parse_since(since))
        except ValueError:
            raise exceptions.ValidationError(
                {"since": ["Use an ISO 8601 date-time (2025-01-31T12:00:00Z) or an event id (evt_…)."]}
            ) from None

    @extend_schema(summary="List an event's delivery attempts", responses=DeliveryAttemptSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def deliveries(self, request: Request, id: str) -> Response:
        event = self.get_object()
        attempts = event.deliveries.order_by("attempt", "id")
        return Response(DeliveryAttemptSerializer(attempts, many=True).data)

    @extend_schema(
        summary="Replay an event",
        description="An empty body makes the event due now: a new round of attempts on the same event "
        "(a paused endpoint's event becomes `held` until it resumes). `destination_url` alone sends one "
        "attempt of the event to that URL, recorded with its attempts. A `body`, `body_base64` or `headers` "
        "makes a new event with `replay_of` set, forwarded to `destination_url` or the endpoint's destination "
        "(an inbox stores and streams it like any arrival there).",
        request=ReplayRequestSerializer,
        responses={
            202: ReplayAnswerSerializer,
            409: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Unedited, with no destination_url, and the endpoint is an inbox."
            ),
            413: OpenApiResponse(OpenApiTypes.OBJECT, description="The body is over MAX_BODY_BYTES."),
        },
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, id: str) -> Response:
        event = self.get_object()
        serializer = ReplayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sent = single.replay(event, serializer.changes())
        except single.NothingToReplayTo:
            return Response({"detail": "endpoint has no destination"}, status=status.HTTP_409_CONFLICT)
        answer = {
            "event_id": sent.public_id,
            "replay_of": event.public_id if sent.pk != event.pk else None,
            "status": sent.status,
        }
        return Response(answer, status=status.HTTP_202_ACCEPTED)
