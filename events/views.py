import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from events.bodyviews import HEX_DUMP_LIMIT, render_body
from events.curl import as_curl
from events.models import Event, EventStatus
from replays import single
from replays.forms import ReplayForm


def owned_events(request: HttpRequest) -> QuerySet[Event]:
    events = Event.objects.filter(endpoint__owner=request.user).select_related("endpoint")
    # The original's id only (for "Replay of"), never its body.
    return events.annotate(replay_of_public_id=F("replay_of__public_id"))


def detail_page(request: HttpRequest, event: Event, replay_form: ReplayForm, status: int = 200) -> HttpResponse:
    context = {
        "event": event,
        "endpoint": event.endpoint,
        "body": render_body(event.body_bytes, event.content_type),
        # Events stored before hashes were recorded get theirs on the spot.
        "sha256": event.sha256 or hashlib.sha256(event.body_bytes).hexdigest(),
        "curl": as_curl(event, event.endpoint.ingest_url),
        "attempts": list(event.deliveries.all()),
        "hex_limit": HEX_DUMP_LIMIT,
        "replay_form": replay_form,
        "replays": list(event.replays.order_by("received_at", "pk").values_list("public_id", flat=True)[:20]),
    }
    return render(request, "events/detail.html", context, status=status)


@login_required
def event_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    event = get_object_or_404(owned_events(request), public_id=public_id)
    return detail_page(request, event, ReplayForm(event))


@login_required
def event_body(request: HttpRequest, public_id: str) -> HttpResponse:
    event = get_object_or_404(owned_events(request), public_id=public_id)
    # Always a download: a sender's HTML or SVG must never render on our origin.
    response = HttpResponse(event.body_bytes, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{event.public_id}.bin"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def replay(request: HttpRequest, public_id: str) -> HttpResponse:
    event = get_object_or_404(owned_events(request), public_id=public_id)
    form = ReplayForm(event, request.POST)
    if not request.POST.get("target"):
        # The page head's one-click button: a new round to the destination.
        form = ReplayForm(event, {"target": "endpoint"})
    if not form.is_valid():
        if form.has_error("target", code="inbox"):
            messages.error(request, "This endpoint is an inbox with no destination: there is nothing to replay to.")
            return redirect("event_detail", public_id=event.public_id)
        return detail_page(request, event, form, status=400)
    changes = form.changes()
    sent = single.replay(event, changes)
    if sent.pk != event.pk:
        messages.success(request, f"Replayed as a new event, an edited copy of {event.public_id}.")
        return redirect("event_detail", public_id=sent.public_id)
    if changes.destination_url:
        messages.success(
            request,
            f"Sending one attempt to {changes.destination_url}. Once made, it is listed under Delivery attempts "
            "(reload the page); the event's own status does not change.",
        )
    elif sent.status == EventStatus.HELD:
        messages.info(request, "The endpoint is paused: the event is held until you resume it.")
    else:
        messages.success(request, "Replay queued: the event will be forwarded again now.")
    return redirect("event_detail", public_id=event.public_id)
