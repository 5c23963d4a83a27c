"""What a client locked out by django-axes is told: 429 and when to come back."""

import math

from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

MESSAGE = "Too many failed logins. Try again later."


def seconds_until_unlocked(request: HttpRequest, username: str | None) -> int:
    """When every failure that can hold this lockout has expired.

    The lockout may come from the account or from the address; the newest
    failure of either bounds both.
    """
    cool_off = get_cool_off(request)
    matching = Q(ip_address=get_client_ip_address(request))
    if username:
        matching |= Q(username=username)
    newest = AccessAttempt.objects.filter(matching).aggregate(newest=Max("attempt_time"))["newest"]
    if newest is None:
        return math.ceil(cool_off.total_seconds())
    return max(1, math.ceil((newest + cool_off - timezone.now()).total_seconds()))


def submitted_username(request: HttpRequest) -> str | None:
    value = request.POST.get("username")
    return value if isinstance(value, str) else None


def lockout_response(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE for the login form and the admin login (the API
    answers its own JSON 429: accounts.api.TokenObtainView).

    Axes calls it with (request, response, credentials) from sync code and
    (request, credentials) from async code; only the request is needed.
    """
    wait = seconds_until_unlocked(request, submitted_username(request))
    response = render(request, "registration/locked_out.html", {"wait_minutes": math.ceil(wait / 60)}, status=429)
    response["Retry-After"] = str(wait)
    return response
