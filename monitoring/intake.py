"""What monitoring learns from each stored webhook, after ingest answered.

Per batch: the counters and the repeat counters of the batch's bodies (or
provider delivery ids) in one Redis pipeline (ingest's own, beside its
realtime messages), the duplicates found in a second, and, only when a
request shows a problem on its own (integrity, duplicate), one Celery
message to open the alert at once. Nothing here touches the database.
"""

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass

import redis

from config.hot_settings import hot
from endpoints.models import DEFAULT_MONITORING
from events import verification
from events.inspection import DELIVERY_ID_HEADERS, load_json
from monitoring import counters
from monitoring.models import AlertType

log = logging.getLogger(__name__)

REPEAT_WINDOW_SECONDS = 600
# Headers a provider sets to the same value on every redelivery of a message:
# deduplication's (events/inspection.py), and two that only count repeats
# here (a wrong guess costs a counter, never a webhook).
REDELIVERY_ID_HEADERS = (*DELIVERY_ID_HEADERS, "svix-id", "x-request-id")
# Headers whose value counts the provider's attempts (1 on the first one).
RETRY_COUNT_HEADERS = ("stripe-webhook-delivery-attempt", "x-webhook-retry-count")
# A problem seen on one request opens its alert at once; repeats within this
# many seconds only add to the counters (the per-minute detectors count them).
RAISE_DEBOUNCE_SECONDS = 5.0
# The window counter of signature failures shares the repeat counters' keys.
SIGNATURE_KEY = "signature-failures"

_last_raised: dict[tuple[int, str], float] = {}

# INCR each key; a new one expires ARGV[1] seconds later. The counts, in order.
COUNT_SEEN = """
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then
        redis.call('EXPIRE', key, ARGV[1])
    end
end
return counts
"""


@dataclass
class Finding:
    endpoint_pk: int
    type: str
    detail: str


def monitor_settings(endpoint) -> dict:
    raw = endpoint.monitoring
    if isinstance(raw, str):  # the raw psycopg path hands jsonb over as text on some setups
        raw = json.loads(raw)
    return {**DEFAULT_MONITORING, **(raw or {})}


def resolve_pointer(document: object, pointer: str) -> tuple[bool, object]:
    """(found, value) for an RFC 6901 JSON pointer."""
    if pointer == "":
        return True, document
    current = document
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return False, None
    return True, current


def integrity_problem(event, options: dict, document: object = None) -> str | None:
    """Why this request's payload is not what the endpoint expects, or None.
    `document`: the body already parsed, when it was (None: parse it here)."""
    limit = options.get("max_body_bytes")
    if limit and event.size > limit:
        return f"{event.public_id}: body of {event.size} bytes is over the {limit}-byte limit"
    required = options.get("required_fields") or []
    is_json = "json" in (event.content_type or "").lower()
    if not is_json and not required:
        return None
    if document is None:
        try:
            document = load_json(bytes(event.body))
        except ValueError:
            return f"{event.public_id}: the body is not valid JSON" if is_json or required else None
    for pointer in required:
        found, value = resolve_pointer(document, pointer)
        if not found:
            return f"{event.public_id}: required field {pointer} is missing"
        if value is None:
            return f"{event.public_id}: required field {pointer} is null"
    return None


def repeat_key(event, headers: verification.Headers) -> str | None:
    """What identifies a redelivery: the provider's delivery id, else the body.
    `headers`: the event's, first value by lowercased name."""
    for name in REDELIVERY_ID_HEADERS:
        value = headers.get(name)
        if value:
            return "id:" + hashlib.sha256(value.encode()).hexdigest()[:32]
    if not event.size:
        return None  # bare pings are alike by nature, not duplicates
    return "body:" + (event.sha256 or hashlib.sha256(bytes(event.body)).hexdigest())[:32]


def signature_failed(event) -> bool:
    """Verification ran and refused the request (a missing signature included)."""
    return bool(event.signature) and event.signature.get("verdict") in (verification.INVALID, verification.MISSING)


def provider_retry(headers: verification.Headers) -> bool:
    for name in RETRY_COUNT_HEADERS:
        value = headers.get(name)
        if value and value.strip().isdigit() and int(value) > 1:
            return True
    return False


def _should_raise(finding: Finding) -> bool:
    key = (finding.endpoint_pk, finding.type)
    now = time.monotonic()
    if now - _last_raised.get(key, 0.0) < RAISE_DEBOUNCE_SECONDS:
        return False
    _last_raised[key] = now
    return True


class Arrivals:
    """What monitoring counts of a batch of stored events.

    `queue` adds the batch's counters and repeat counters to the caller's
    Redis pipeline (ingest sends its realtime messages in the same round
    trip); `finish` reads the repeat counts back, opens the alerts a
    single request proves and returns what the repeats add to the counters:
    ingest queues that in its next pipeline instead of a round trip of its own.
    """

    def __init__(self, stored: list) -> None:
        self.tally = counters.Tally()
        self.findings: list[Finding] = []
        self.repeats: list[tuple[int, str, bool]] = []
        options: dict[int, dict] = {}  # each endpoint's monitoring settings, read once per batch
        for item in stored:
            endpoint = item.endpoint
            if endpoint.id not in options:
                options[endpoint.id] = monitor_settings(endpoint)
            self._count(item.event, endpoint.id, options[endpoint.id], item.headers, item.document)
        self._at: int | None = None  # where the repeat counts are in the pipeline's results

    def _count(self, event, pk: int, options: dict, headers: verification.Headers, document: object) -> None:
        self.tally.add(pk, "events")
        if signature_failed(event):
            self.tally.add(pk, "signature_failures")
            self.repeats.append((pk, SIGNATURE_KEY, False))
        problem = integrity_problem(event, options, document)
        if problem:
            self.tally.add(pk, "integrity")
            self.findings.append(Finding(pk, AlertType.INTEGRITY, problem))
        if provider_retry(headers):
            self.tally.add(pk, "retries")
        key = repeat_key(event, headers)
        if key is not None:
            # duplicate_of: ingest's own dedup matched it (e.g. a provider id in the body).
            self.repeats.append((pk, key, bool(event.duplicate_of)))

    def queue(self, pipe) -> None:
        """Count each repeat key within REPEAT_WINDOW_SECONDS of its first use."""
        self._at = None
        if self.repeats:
            self._at = len(pipe)
            keys = [f"{counters.prefix()}:seen:{pk}:{key}" for pk, key, _ in self.repeats]
            pipe.eval(COUNT_SEEN, len(keys), *keys, REPEAT_WINDOW_SECONDS)
        self.tally.queue(pipe)

    async def finish(self, results: list) -> counters.Tally:
        """Opens what the repeat counts prove; returns the counts they add
        (duplicates, retries), for the caller's next pipeline to carry."""
        repeats = counters.Tally(self.tally.now)
        seen = [] if self._at is None else results[self._at]
        findings = self.findings + self._repeat_findings(seen, repeats)
        raise_now = [f for f in findings if _should_raise(f)]
        if raise_now:
            await asyncio.to_thread(_enqueue, raise_now)
        return repeats

    def _repeat_findings(self, seen: list[int], tally: counters.Tally) -> list[Finding]:
        """A second sighting is a duplicate, the storm threshold a redelivery,
        enough signature failures a burst."""
        monitor = hot("MONITOR")
        findings = []
        for (pk, key, known_duplicate), count in zip(self.repeats, seen, strict=True):
            if key == SIGNATURE_KEY:
                if count >= monitor["SIGNATURE_FAILURES_MIN"]:
                    detail = f"{count} requests failed signature verification in 10 minutes"
                    findings.append(Finding(pk, AlertType.SIGNATURE_FAILURES, detail))
                continue
            if count >= 2 or known_duplicate:
                tally.add(pk, "duplicates")
                findings.append(Finding(pk, AlertType.DUPLICATES, f"the same delivery arrived {max(count, 2)} times in 10 minutes"))
            if count >= monitor["RETRY_STORM_REPEATS"]:
                tally.add(pk, "retries")
        return findings


def _enqueue(findings: list[Finding]) -> None:
    from monitoring.tasks import raise_alerts

    try:
        raise_alerts.delay([[f.endpoint_pk, f.type, f.detail] for f in findings])
    except Exception:  # the minute's detectors open them from the counters
        log.exception("could not enqueue %d alerts", len(findings))
