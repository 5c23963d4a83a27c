import json
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from events.models import Event, EventStatus
from replays import single
from replays.forms import ReplayForm

# A hex dump is ~4.5x the bytes it shows; past this the raw download is the
# better tool and the page stays light.
HEX_DUMP_LIMIT = 16 * 1024
HEX_WIDTH = 16


@dataclass
class RenderedBody:
    kind: str  # "empty", "json", "text" or "binary"
    text: str
    truncated: bool = False


def hex_dump(data: bytes) -> str:
    lines = []
    for offset in range(0, len(data), HEX_WIDTH):
        chunk = data[offset : offset + HEX_WIDTH]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk)
        ascii_part = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hex_part:<{HEX_WIDTH * 3 - 1}}  |{ascii_part}|")
    return "\n".join(lines)


def render_body(event: Event) -> RenderedBody:
    data = event.body_bytes
    if not data:
        return RenderedBody("empty", "")
    text = event.body_text()
    if text is None:
        return RenderedBody("binary", hex_dump(data[:HEX_DUMP_LIMIT]), truncated=len(data) > HEX_DUMP_LIMIT)
    try:
        parsed = json.loads(text)
    except ValueError:
        return RenderedBody("text", text)
    if not isinstance(parsed, (dict, list)):
        # A bare "42" or "null" reads best as the sender wrote it.
        return RenderedBody("text", text)
    return RenderedBody("json", json.dumps(parsed, indent=2, ensure_ascii=False))


def owned_events(request: HttpRequest) -> QuerySet[Event]:
    events = Event.objects.filter(endpoint__owner=request.user).select_related("endpoint")
    # The original's id only (for "Replay of"), never its body.
    return events.annotate(replay_of_public_id=F("replay_of__public_id"))


def detail_page(request: HttpRequest, event: Event, replay_form: ReplayForm, status: int = 200) -> HttpResponse:
    context = {
        "event": event,
        "endpoint": event.endpoint,
        "body": render_body(event),
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
        messages.success(request, f"Sending one attempt to {changes.destination_url}; it appears below with the others.")
    elif sent.status == EventStatus.HELD:
        messages.info(request, "The endpoint is paused: the event is held until you resume it.")
    else:
        messages.success(request, "Replay queued: the event will be forwarded again now.")
    return redirect("event_detail", public_id=event.public_id)
