"""The calls deliveries makes into monitoring: attempts recorded, health changed."""

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint, Health
from monitoring import autopause, counters
from monitoring.models import Alert, AlertType

# Outcomes whose duration is the destination's answer time (a timeout's is
# the timeout, a refused connection's is nothing): they feed p50/p95.
TIMED = {Outcome.SUCCESS, Outcome.HTTP_ERROR}


def count_attempts(attempts: list[DeliveryAttempt], pipe=None) -> None:
    """Count recorded attempts (after their commit): in the caller's Redis
    pipeline, or in a round trip of their own."""
    tally = counters.Tally()
    for attempt in attempts:
        pk = attempt.endpoint_id
        tally.add(pk, "attempts_ok" if attempt.outcome == Outcome.SUCCESS else "attempts_failed")
        tally.add(pk, f"outcome_{attempt.outcome}")  # for /metrics' attempts by outcome
        if attempt.outcome == Outcome.TIMEOUT:
            tally.add(pk, "timeouts")
        if attempt.outcome in TIMED:
            tally.latency(pk, attempt.duration_ms)
    if pipe is None:
        counters.send(tally)
    elif tally:
        tally.queue(pipe)


def observe_attempts(attempts: list[DeliveryAttempt]) -> None:
    """A destination that answers 410 Gone pauses its endpoint."""
    for attempt in attempts:
        if attempt.status_code == 410:
            autopause.gone(attempt.endpoint, attempt.url)


def health_changed(endpoint: Endpoint, health: str) -> None:
    """endpoint_down opens when health turns failing and resolves once healthy."""
    if health == Health.FAILING:
        Alert.raise_for(endpoint, AlertType.ENDPOINT_DOWN, "most recent delivery attempts failed")
    elif health == Health.HEALTHY:
        Alert.clear(endpoint, AlertType.ENDPOINT_DOWN)
