"""Pages of anonymous test sessions: open one, watch it live, inspect a request, claim it."""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from events.bodyviews import HEX_DUMP_LIMIT, render_body
from events.curl import as_curl
from events.models import Event
from testsessions import limits
from testsessions.models import TestSession


def live_session_or_404(session_id: str) -> TestSession:
    session = TestSession.objects.live().select_related("endpoint").filter(public_id=session_id).first()
    if session is None or not session_id.startswith("ts_"):
        raise Http404("Unknown or expired test session.")
    return session


@require_POST
def create(request: HttpRequest) -> HttpResponse:
    verdict = limits.take(request.META.get("REMOTE_ADDR"))
    if not verdict.allowed:
        response = render(request, "testsessions/limited.html", {"retry_after": verdict.retry_after}, status=429)
        response["Retry-After"] = str(verdict.retry_after)
        return response
    session = TestSession.open(request.META.get("REMOTE_ADDR"))
    return redirect("test_session", session_id=session.public_id)


def session_page(request: HttpRequest, session_id: str) -> HttpResponse:
    session = live_session_or_404(session_id)
    return render(request, "testsessions/session.html", {"session": session})


def session_event(request: HttpRequest, session_id: str, event_id: str) -> HttpResponse:
    """One request of the session with the event page's inspection views.

    No account: the unguessable session id is the capability, as for the
    live page, and only that session's own requests are found here.
    """
    session = live_session_or_404(session_id)
    event = get_object_or_404(Event, endpoint=session.endpoint, public_id=event_id)
    context = {
        "session": session,
        "event": event,
        "body": render_body(event.body_bytes, event.content_type),
        "sha256": event.sha256 or hashlib.sha256(event.body_bytes).hexdigest(),
        "curl": as_curl(event, session.endpoint.ingest_url),
        "hex_limit": HEX_DUMP_LIMIT,
    }
    return render(request, "testsessions/event.html", context)


def session_event_raw(request: HttpRequest, session_id: str, event_id: str) -> HttpResponse:
    session = live_session_or_404(session_id)
    event = get_object_or_404(Event, endpoint=session.endpoint, public_id=event_id)
    # Always a download: a sender's HTML or SVG must never render on our origin.
    response = HttpResponse(event.body_bytes, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{event.public_id}.bin"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def claim(request: HttpRequest, session_id: str) -> HttpResponse:
    session = live_session_or_404(session_id)
    if request.method != "POST":
        return render(request, "testsessions/claim.html", {"session": session})
    try:
        endpoint = session.claim(request.user)
    except TestSession.DoesNotExist:  # claimed or expired meanwhile
        raise Http404("Unknown or expired test session.") from None
    messages.success(request, "The test session is now an inbox endpoint of yours, with its requests.")
    return redirect("endpoint_detail", public_id=endpoint.public_id)
