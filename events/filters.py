"""The toolkit's event filters, shared by the API and the pages:
`event_type`, `verdict`, `q`, `received_after`, `received_before`."""

import re
from collections.abc import Mapping
from datetime import datetime, timezone as dt_timezone

from django.core.exceptions import ValidationError
from django.db.models import Lookup, Q, QuerySet, TextField
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from events.verification import INVALID, MISSING, UNCHECKED, VALID

VERDICTS = (VALID, INVALID, MISSING, UNCHECKED)
MAX_QUERY_CHARS = 200

# An unencoded "+" in a query string arrives as a space, so
# ?received_after=2025-01-01T10:00:00+02:00 reaches us as "...10:00:00 02:00".
_MANGLED_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")


@TextField.register_lookup
class ILikeContains(Lookup):
    """Case-insensitive substring match that PostgreSQL serves from the
    trigram index on `EventSearch.text` (Django's icontains wraps the column in
    UPPER(), which that index cannot serve)."""

    # Not "search": django.contrib.postgres registers that name for full-text search.
    lookup_name = "ilike_contains"

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def parse_moment(value: str) -> datetime:
    moment = parse_datetime(_MANGLED_OFFSET.sub(r"+\1", value.strip()))
    if moment is None:
        raise ValueError(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt_timezone.utc)
    # In UTC before it reaches PostgreSQL, which refuses offsets past ±15:59
    # (ISO 8601 allows ±23:59; that was a 500).
    try:
        return moment.astimezone(dt_timezone.utc)
    except OverflowError:  # past year 1 or 9999 in UTC: before or after every event
        edge = datetime.min if moment.year == 1 else datetime.max
        return edge.replace(tzinfo=dt_timezone.utc)


def _moment(params: Mapping[str, str], name: str) -> datetime:
    try:
        return parse_moment(params[name])
    except ValueError:
        raise ValidationError({name: ["Use an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z."]}) from None


def filter_events(events: QuerySet, params: Mapping[str, str]) -> QuerySet:
    """Apply the toolkit filters present in `params`; ValidationError names a bad one."""
    if event_type := params.get("event_type"):
        events = events.filter(event_type=event_type)
    if verdict := params.get("verdict"):
        if verdict not in VERDICTS:
            raise ValidationError({"verdict": [f"Unknown verdict {verdict!r}; use one of {', '.join(VERDICTS)}."]})
        if verdict == UNCHECKED:
            events = events.filter(Q(signature__isnull=True) | Q(signature__verdict=UNCHECKED))
        else:
            events = events.filter(signature__verdict=verdict)
    if text := params.get("q"):
        if len(text) > MAX_QUERY_CHARS:
            raise ValidationError({"q": [f"Search text is limited to {MAX_QUERY_CHARS} characters."]})
        events = events.filter(search__text__ilike_contains=like_pattern(text))
    if params.get("received_after"):
        events = events.filter(received_at__gte=_moment(params, "received_after"))
    if params.get("received_before"):
        events = events.filter(received_at__lt=_moment(params, "received_before"))
    return events
