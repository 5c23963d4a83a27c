"""Replaying one event, the three ways the contract names.

- nothing changed, no URL: a new round of attempts on the same event;
- only a URL: one attempt of the same event to that URL (replays.attempt);
- an edited body or headers: a new event with `replay_of` set, forwarded to
  the URL if one is given, else to the endpoint's destination (on an inbox it
  is stored and streamed, like an arrival there).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from deliveries import tasks as delivery_tasks
from endpoints.models import endpoint_group
from events import inspection, search
from events.models import Event, EventStatus
from realtime import envelope
from realtime.publish import publish_on_commit
from replays import tasks


class NothingToReplayTo(Exception):
    """An unedited replay of an inbox's event with no URL: nowhere to send it."""


@dataclass(frozen=True)
class Changes:
    destination_url: str | None = None
    body: bytes | None = None
    headers: list[list[str]] | None = None

    @property
    def edits(self) -> bool:
        return self.body is not None or self.headers is not None


def replay(event: Event, changes: Changes) -> Event:
    """Replay `event`; returns the event that is sent (itself or its edited copy)."""
    # An edited copy on an inbox is stored and streamed like any arrival
    # there (`hookline listen` forwards it); the event itself has nowhere to go.
    if changes.destination_url is None and not event.endpoint.destination_url and not changes.edits:
        raise NothingToReplayTo
    with transaction.atomic():
        target = edited_copy(event, changes) if changes.edits else event
        if changes.destination_url is not None:
            url = changes.destination_url
            transaction.on_commit(lambda: tasks.send_once.delay(target.pk, url))
        elif target is event:
            delivery_tasks.replay(event)
    return target


def edited_copy(event: Event, changes: Changes) -> Event:
    """A new event like `event` with the changes; due now unless it goes to a URL."""
    endpoint = event.endpoint
    headers = changes.headers if changes.headers is not None else event.headers
    body = changes.body if changes.body is not None else event.body_bytes
    forwards = changes.destination_url is None and bool(endpoint.destination_url) and not endpoint.paused
    now = timezone.now()
    copy = Event.objects.create(
        endpoint=endpoint,
        method=event.method,
        path=event.path,
        query=event.query,
        headers=headers,
        body=body,
        size=len(body),
        content_type=content_type(headers),
        received_at=now,
        status=EventStatus.HELD if endpoint.paused and changes.destination_url is None else EventStatus.RECEIVED,
        next_attempt_at=now if forwards else None,
        enqueued_at=now if forwards else None,
        replay_of=event,
        **inspection.facts(headers, body),
    )
    search.index([copy])
    if forwards:
        delivery_tasks.wake([copy.pk])
    publish_on_commit(endpoint_group(endpoint.public_id), envelope.event_received(copy.summary()))
    return copy


def content_type(headers: list[list[str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value[:255]
    return ""
