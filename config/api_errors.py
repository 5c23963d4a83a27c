"""Every API error is JSON `{"detail": ...}` (field errors keep their names)."""

from django.db import DatabaseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DatabaseError):
        response = Response({"detail": "Storage is unavailable; retry later."}, status=503)
        response["Retry-After"] = "5"
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {"detail": response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": response.data}
    return response
