"""Pages of anonymous test sessions: open one, watch it live, claim it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

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
