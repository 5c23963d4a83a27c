import shlex
from urllib.parse import urlencode
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from deliveries.tasks import release_held
from endpoints.forms import EndpointForm, SignupForm
from endpoints.models import Endpoint
from events.filters import VERDICTS, filter_events
from events.models import Event

SEARCH_PARAMETERS = ("q", "event_type", "verdict")
RECENT_EVENTS = 50
EVENTS_PER_PAGE = 50


def safe_next(request: HttpRequest) -> str:
    """The `next` page to go to after signing up, when it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    ours = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if target and ours else ""


def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is closed on this installation.")
    next_page = safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_page or "dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Hookline, {user.username}.")
        # e.g. back to a test session to claim it
        return redirect(next_page or "dashboard")
    return render(request, "registration/signup.html", {"form": form, "next": next_page})


def owned_endpoints(request: HttpRequest) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(owner=request.user)


def owned_endpoint(request: HttpRequest, public_id: str) -> Endpoint:
    return get_object_or_404(owned_endpoints(request), public_id=public_id)


def with_activity(endpoints: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
    """Annotate 24h event counts and last arrival in the same query.

    Correlated subqueries rather than a JOIN + GROUP BY: each one is a range
    scan of the (endpoint, -received_at) index, so the cost follows the
    number of endpoints, not the number of events.
    """
    since = timezone.now() - timedelta(hours=24)
    counts = (
        Event.objects.filter(endpoint=OuterRef("pk"), received_at__gte=since)
        .order_by()
        .values("endpoint")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last = Event.objects.filter(endpoint=OuterRef("pk")).order_by("-received_at", "-id").values("received_at")[:1]
    return endpoints.annotate(
        events_24h=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
        last_event_at=Subquery(last),
    )


def event_rows(events: QuerySet[Event]) -> QuerySet[Event]:
    # Bodies can be megabytes each; lists never show them.
    return events.select_related("endpoint").defer("body", "headers").order_by("-received_at", "-id")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    endpoints = with_activity(owned_endpoints(request))
    events = event_rows(Event.objects.filter(endpoint__owner=request.user))[:RECENT_EVENTS]
    return render(request, "dashboard.html", {"endpoints": endpoints, "events": events})


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    endpoints = with_activity(owned_endpoints(request))
    return render(request, "endpoints/list.html", {"endpoints": endpoints})


MAX_PAGE = 100_000


def page_number(request: HttpRequest) -> int:
    try:
        # Capped: a page past the last is empty anyway, and a huge number
        # would overflow the database's OFFSET.
        return min(MAX_PAGE, max(1, int(request.GET.get("page", "1"))))
    except ValueError:
        return 1


def curl_example(endpoint: Endpoint) -> str:
    return (
        f"curl -X POST {shlex.quote(endpoint.ingest_url)} \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        """  -d '{"hello": "world"}'"""
    )


@login_required
def endpoint_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned_endpoint(request, public_id)
    page = page_number(request)
    start = (page - 1) * EVENTS_PER_PAGE
    # One row past the page tells whether an older page exists without a
    # COUNT(*) over what may be millions of events.
    search = {name: request.GET.get(name, "").strip() for name in SEARCH_PARAMETERS}
    try:
        events = filter_events(endpoint.events.all(), search)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        search, events = dict.fromkeys(SEARCH_PARAMETERS, ""), endpoint.events.all()
    rows = list(event_rows(events)[start : start + EVENTS_PER_PAGE + 1])
    context = {
        "search": search,
        "searching": any(search.values()),
        "search_query": urlencode({name: value for name, value in search.items() if value}),
        "verdicts": VERDICTS,
        "endpoint": endpoint,
        "curl_example": curl_example(endpoint),
        "events": rows[:EVENTS_PER_PAGE],
        "page": page,
        "has_older": len(rows) > EVENTS_PER_PAGE,
        "has_newer": page > 1,
    }
    return render(request, "endpoints/detail.html", context)


@login_required
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        endpoint.owner = request.user
        endpoint.save()
        messages.success(request, f"Endpoint “{endpoint.name}” created.")
        return redirect("endpoint_detail", public_id=endpoint.public_id)
    return render(request, "endpoints/form.html", {"form": form, "endpoint": None})


@login_required
def endpoint_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned_endpoint(request, public_id)
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("endpoint_detail", public_id=endpoint.public_id)
    return render(request, "endpoints/form.html", {"form": form, "endpoint": endpoint})


@login_required
def endpoint_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned_endpoint(request, public_id)
    if request.method == "POST":
        name = endpoint.name
        endpoint.delete()
        messages.success(request, f"Endpoint “{name}” and its events were deleted.")
        return redirect("dashboard")
    return render(request, "endpoints/confirm_delete.html", {"endpoint": endpoint})


@login_required
@require_POST
def pause(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned_endpoint(request, public_id)
    endpoint.paused = True
    endpoint.save(update_fields=["paused", "updated_at"])
    messages.success(request, "Endpoint paused: new events are stored and held until you resume.")
    return redirect("endpoint_detail", public_id=endpoint.public_id)


@login_required
@require_POST
def resume(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned_endpoint(request, public_id)
    with transaction.atomic():
        endpoint.paused = False
        endpoint.save(update_fields=["paused", "updated_at"])
        released = release_held(endpoint)
    messages.success(request, f"Endpoint resumed; {released} held event(s) released.")
    return redirect("endpoint_detail", public_id=endpoint.public_id)


@login_required
@require_POST
def rotate_secret(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned_endpoint(request, public_id)
    endpoint.rotate_signing_secret()
    if endpoint.previous_secret_expires_at:
        stops = endpoint.previous_secret_expires_at.strftime("%Y-%m-%d %H:%M UTC")
        messages.success(request, f"Signing secret rotated. Requests carry both signatures until {stops}.")
    else:
        messages.success(request, "Signing secret rotated. Update your receiver to verify with the new one.")
    return redirect("endpoint_detail", public_id=endpoint.public_id)


@login_required
@require_POST
def rotate_ingest_url(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = owned_endpoint(request, public_id)
    endpoint.rotate_ingest_token()
    messages.success(request, "Ingest URL rotated. The old URL now answers 404.")
    return redirect("endpoint_detail", public_id=endpoint.public_id)
