"""REST API for alerts: `GET /api/v1/alerts/?endpoint=&state=&type=`."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets

from config.ids import PUBLIC_ID_REGEX, is_public_id
from endpoints.models import Endpoint
from monitoring.models import Alert, AlertState, AlertType
from monitoring.serializers import AlertSerializer

LIST_PARAMETERS = [
    OpenApiParameter("endpoint", str, description="Only this endpoint's alerts (`ep_…`)."),
    OpenApiParameter("state", str, enum=AlertState.values),
    OpenApiParameter("type", str, enum=AlertType.values),
]


def _choice(name: str, value: str, choices: list[str]) -> str:
    if value not in choices:
        raise exceptions.ValidationError({name: [f"Unknown {name} {value!r}; use one of {', '.join(choices)}."]})
    return value


@extend_schema_view(
    list=extend_schema(summary="List your alerts, newest first", parameters=LIST_PARAMETERS),
    retrieve=extend_schema(summary="Show one alert"),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AlertSerializer
    # Tells the schema generator the model; get_queryset scopes every request.
    queryset = Alert.objects.none()
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = PUBLIC_ID_REGEX

    def get_queryset(self) -> QuerySet[Alert]:
        alerts = Alert.objects.filter(endpoint__owner=self.request.user).select_related("endpoint")
        if self.action != "list":
            return alerts
        params = self.request.query_params
        if endpoint_id := params.get("endpoint"):
            endpoint = None
            if is_public_id(endpoint_id):
                endpoint = Endpoint.objects.filter(owner=self.request.user, public_id=endpoint_id).first()
            if endpoint is None:
                raise exceptions.NotFound("endpoint not found")
            alerts = alerts.filter(endpoint=endpoint)
        if state := params.get("state"):
            alerts = alerts.filter(state=_choice("state", state, AlertState.values))
        if type_ := params.get("type"):
            alerts = alerts.filter(type=_choice("type", type_, AlertType.values))
        return alerts.order_by("-opened_at", "-id")
