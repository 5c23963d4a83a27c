"""REST API of anonymous test sessions.

Opening one and reading its requests need no credentials: the unguessable
`ts_…` id is the capability. Claiming needs an account.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.ids import is_public_id
from endpoints.serializers import EndpointSerializer
from events.api import EventCursorPagination
from events.models import Event
from testsessions import limits
from testsessions.models import TestSession
from testsessions.serializers import RequestSerializer, TestSessionSerializer, request_data

UNKNOWN = "Unknown or expired test session."


def live_session(session_id: str) -> TestSession:
    if not is_public_id(session_id) or not session_id.startswith("ts_"):
        raise exceptions.NotFound(UNKNOWN)
    session = TestSession.objects.live().select_related("endpoint").filter(public_id=session_id).first()
    if session is None:
        raise exceptions.NotFound(UNKNOWN)
    return session


def session_events(session: TestSession) -> QuerySet[Event]:
    return Event.objects.filter(endpoint_id=session.endpoint_id)


class TooManySessions(exceptions.Throttled):
    default_detail = "Too many test sessions from this address; sign up for an account or retry later."


def open_session(source_ip: str | None) -> TestSession:
    """Open a session for `source_ip`, or raise 429 past its hourly allowance."""
    verdict = limits.take(source_ip)
    if not verdict.allowed:
        raise TooManySessions(wait=verdict.retry_after)
    return TestSession.open(source_ip)


class TestSessionCreate(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Open an anonymous test session",
        request=None,
        responses={201: TestSessionSerializer, 429: OpenApiResponse(description="Too many from this address.")},
    )
    def post(self, request: Request) -> Response:
        session = open_session(request.META.get("REMOTE_ADDR"))
        return Response(TestSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class TestSessionEvents(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Also tells the schema the answer is a page of requests, not a bare list.
    pagination_class = EventCursorPagination

    @extend_schema(summary="List a test session's requests, newest first", responses=RequestSerializer(many=True))
    def get(self, request: Request, session_id: str) -> Response:
        session = live_session(session_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(session_events(session), request, view=self)
        return paginator.get_paginated_response([request_data(event) for event in page])


class TestSessionClaim(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Turn a test session into an inbox endpoint of yours, events included",
        request=None,
        responses={200: EndpointSerializer},
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = live_session(session_id)
        try:
            endpoint = session.claim(request.user)
        except TestSession.DoesNotExist:  # claimed or expired meanwhile
            raise exceptions.NotFound(UNKNOWN) from None
        return Response(EndpointSerializer(endpoint).data)
