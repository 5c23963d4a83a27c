"""The minute's run: every detector over every endpoint worth a look.

One query for the working set, one for its rollups of the last 70 minutes,
one for the open alerts; writes happen only where an alert opens, repeats
or resolves.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from endpoints.models import Endpoint, Health
from events.models import Event
from monitoring import autopause
from monitoring.detectors import AT_ONCE, DETECTORS, HISTORY_MINUTES, Context
from monitoring.intake import monitor_settings
from monitoring.models import Alert, AlertState, AlertType
from monitoring.rollups import active_endpoint_pks, series

log = logging.getLogger(__name__)


def working_set(now: datetime) -> list[Endpoint]:
    """Endpoints with recent traffic, an open alert, a silence check or a problem."""
    since = now - timedelta(minutes=HISTORY_MINUTES)
    active = active_endpoint_pks(since)
    alerted = Alert.objects.filter(state=AlertState.OPEN).values("endpoint_id")
    last_event = Event.objects.filter(endpoint=OuterRef("pk")).order_by("-received_at", "-id").values("received_at")[:1]
    return list(
        Endpoint.objects.filter(
            Q(pk__in=active)
            | Q(pk__in=alerted)
            | Q(health=Health.FAILING)
            | ~Q(paused_reason="")
            | Q(monitoring__expected_every_seconds__gt=0)
        ).annotate(last_event_at=Subquery(last_event))
    )


def run(now: datetime) -> dict[str, int]:
    """Open, count and resolve alerts for the state of things at `now`."""
    endpoints = working_set(now)
    history = series([e.pk for e in endpoints], now - timedelta(minutes=HISTORY_MINUTES), now)
    open_alerts = {
        (a.endpoint_id, a.type): a
        for a in Alert.objects.filter(state=AlertState.OPEN, endpoint__in=endpoints)
    }
    changes = {"endpoints": len(endpoints), "opened": 0, "resolved": 0, "paused": 0}
    for endpoint in endpoints:
        if autopause.check(endpoint, now):
            changes["paused"] += 1
            open_alerts[(endpoint.pk, AlertType.AUTO_PAUSED)] = Alert.objects.get(
                endpoint=endpoint, type=AlertType.AUTO_PAUSED, state=AlertState.OPEN
            )
        ctx = Context(
            endpoint=endpoint,
            now=now,
            minutes=history.get(endpoint.pk, {}),
            options=monitor_settings(endpoint),
            thresholds=settings.MONITOR,
            last_event_at=endpoint.last_event_at,
        )
        for type_, detector in DETECTORS.items():
            condition = detector(ctx)
            if condition is None:
                continue
            current = open_alerts.get((endpoint.pk, type_))
            with transaction.atomic():
                if condition.active and (current is None or type_ not in AT_ONCE):
                    Alert.raise_for(endpoint, type_, condition.detail, now)
                    changes["opened"] += current is None
                elif not condition.active and current is not None:
                    current.endpoint = endpoint
                    changes["resolved"] += current.resolve(now)
    return changes
