"""Every API error is JSON `{"detail": ...}` (field errors keep their names).

That holds for answers DRF never sees too: unknown paths, refused hosts and
server errors under /api/ answer JSON; the rest of the site keeps Django's
HTML pages.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict) -> Response | None:
    # Only a database we cannot reach is "unavailable"; other database errors
    # are bugs or bad input and must not pass for an outage.
    if isinstance(exc, (OperationalError, InterfaceError)):
        response = Response({"detail": "Storage is unavailable; retry later."}, status=503)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, DjangoValidationError):
        # A model rule that fired below the serializer is still the client's 400.
        exc = exceptions.ValidationError(get_error_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {"detail": response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": response.data}
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# Exempt: it changes nothing, and a POST with a Bearer token to a mistyped
# path must learn "not found", not fail a cookie check it never needed.
@csrf_exempt
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/v1/ answer in JSON, like everything else there."""
    return JsonResponse({"detail": "Not found."}, status=404)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return not_found(request)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
