"""Rows the UI tests need over and over."""

from django.utils import timezone

from endpoints.models import Endpoint
from events.models import Event


def make_event(endpoint: Endpoint, body: bytes = b"{}", **fields) -> Event:
    fields.setdefault("received_at", timezone.now())
    fields.setdefault("method", "POST")
    return Event.objects.create(endpoint=endpoint, body=body, size=len(body), **fields)
