"""When the next attempt is due."""

from datetime import datetime, timedelta


def retry_delay(schedule: list[int], retry_index: int, retry_after: int | None) -> int | None:
    """Seconds until the next attempt after a failure, or None when none is left.

    `retry_index` counts the failures before this one since the last (re)play.
    A Retry-After from a 429/503 replaces the scheduled delay but is kept
    within the schedule's own bounds, so a destination can neither make us
    hammer it nor park an event beyond the longest configured wait.
    """
    if retry_index >= len(schedule):
        return None
    delay = schedule[retry_index]
    if retry_after is not None:
        delay = min(max(retry_after, min(schedule)), max(schedule))
    return delay


def next_retry_at(now: datetime, schedule: list[int], retry_index: int, retry_after: int | None) -> datetime | None:
    delay = retry_delay(schedule, retry_index, retry_after)
    return None if delay is None else now + timedelta(seconds=delay)
