"""Bulk replay pages: start one from an endpoint, follow it live, cancel it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from endpoints.models import Endpoint
from replays.forms import BulkReplayForm
from replays.models import BulkReplay
from replays.tasks import start_bulk_replay


def owned_replay(request: HttpRequest, public_id: str) -> BulkReplay:
    replays = BulkReplay.objects.filter(owner=request.user).select_related("endpoint")
    return get_object_or_404(replays, public_id=public_id)


@login_required
def bulk_new(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint.objects.filter(owner=request.user), public_id=public_id)
    form = BulkReplayForm(endpoint, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        job = start_bulk_replay(request.user, endpoint, form.cleaned_data)
        return redirect("bulk_replay", public_id=job.public_id)
    status = 400 if form.is_bound else 200
    return render(request, "replays/new.html", {"endpoint": endpoint, "form": form}, status=status)


@login_required
def bulk_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return render(request, "replays/detail.html", {"job": owned_replay(request, public_id)})


@login_required
@require_POST
def bulk_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    job = owned_replay(request, public_id)
    if job.cancel():
        messages.success(request, "Cancelled: events not sent yet are left alone.")
    else:
        messages.info(request, f"This replay had already finished ({job.state}).")
    return redirect("bulk_replay", public_id=job.public_id)
