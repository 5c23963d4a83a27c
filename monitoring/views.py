"""Monitoring pages: alerts, an endpoint's charts and settings, chart images."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from endpoints.models import Endpoint
from monitoring import charts
from monitoring.forms import MonitoringForm
from monitoring.models import Alert, AlertState, AlertType
from monitoring.stats import for_endpoints

ALERTS_PER_PAGE = 100


def owned(request: HttpRequest, public_id: str) -> Endpoint:
    return get_object_or_404(Endpoint, owner=request.user, public_id=public_id)


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    endpoints = list(Endpoint.objects.filter(owner=request.user).order_by("name"))
    alerts = Alert.objects.filter(endpoint__owner=request.user).select_related("endpoint")
    chosen = {name: request.GET.get(name, "") for name in ("endpoint", "state", "type")}
    if chosen["endpoint"]:
        alerts = alerts.filter(endpoint__public_id=chosen["endpoint"])
    if chosen["state"] in AlertState.values:
        alerts = alerts.filter(state=chosen["state"])
    if chosen["type"] in AlertType.values:
        alerts = alerts.filter(type=chosen["type"])
    context = {
        "alerts": alerts.order_by("-opened_at", "-id")[:ALERTS_PER_PAGE],
        "endpoints": endpoints,
        "states": AlertState.values,
        "types": AlertType.values,
        "chosen": chosen,
    }
    return render(request, "monitoring/alerts.html", context)


@login_required
def endpoint_monitoring(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned(request, public_id)
    form = MonitoringForm(request.POST or None, initial=endpoint.monitor_settings)
    if request.method == "POST" and form.is_valid():
        try:
            form.save(endpoint)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Monitoring settings saved.")
            return redirect("endpoint_monitoring", public_id=endpoint.public_id)
    window = request.GET.get("range", "1h")
    if window not in charts.RANGES:
        window = "1h"
    context = {
        "endpoint": endpoint,
        "form": form,
        "stats": for_endpoints([endpoint.pk])[endpoint.pk],
        "alerts": Alert.objects.filter(endpoint=endpoint).order_by("-opened_at", "-id")[:20],
        "ranges": charts.RANGES,
        "range": window,
        "metrics": charts.METRICS,
    }
    return render(request, "monitoring/endpoint.html", context)


@login_required
def chart(request: HttpRequest, public_id: str, metric: str) -> HttpResponse:
    endpoint = owned(request, public_id)
    if metric not in charts.METRICS:
        raise Http404("unknown chart")
    window = charts.RANGES.get(request.GET.get("range", "1h"))
    if window is None:
        raise Http404("unknown range")
    values = charts.points(endpoint.pk, charts.METRICS[metric], window, timezone.now())
    context = {
        "metric": charts.METRICS[metric],
        "window": window,
        "shape": charts.geometry(values),
        "width": charts.WIDTH,
        "height": charts.HEIGHT,
        "pad": charts.PAD,
    }
    response = render(request, "monitoring/chart.svg", context, content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
