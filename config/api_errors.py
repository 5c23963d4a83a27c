"""Every API error is JSON `{"detail": ...}` (field errors keep their names)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
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


def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/v1/ answer in JSON, like everything else there."""
    return JsonResponse({"detail": "Not found."}, status=404)
