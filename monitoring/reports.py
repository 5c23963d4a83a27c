"""`/m/<report_token>`: processing reports, a hot path like ingest.

A bare ASGI callable (no Django request cycle): it parses and validates the
request, then hands the rows to a per-process Batcher, so concurrent
reports share one token lookup, one INSERT and one commit, and one Redis
pipeline for the counters. Answered after the commit.
"""

import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DataError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.asgi_body import read_body
from config.event_loop_pool import open_pool
from endpoints.models import Endpoint
from events.batcher import Batcher
from events.models import Event
from monitoring import counters
from monitoring.intake import monitor_settings
from monitoring.models import Report

log = logging.getLogger(__name__)

_PATH = re.compile(r"/m/([a-z0-9]{32})(?:/(success|fail))?/?")
MAX_METRICS = 1000
KNOWN_FIELDS = {"status", "event_id", "processing_time_ms", "error_message", "error_type"}


class Invalid(ValueError):
    """The report cannot be stored; the message tells the sender why."""


@dataclass
class Submission:
    token: str
    received_at: datetime
    rows: list[dict] = field(default_factory=list)


def _number(value: object, name: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(f"{name} must be a number")
    if minimum is not None and value < minimum:
        raise Invalid(f"{name} must be at least {minimum:g}")
    return float(value)


def _text(value: object, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string")
    return value[:limit]


def _timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid("timestamp is out of range") from None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise Invalid("timestamp must be seconds since the epoch or an ISO 8601 date")


def outcome_row(succeeded: bool, data: dict) -> dict:
    processing = data.get("processing_time_ms")
    extra = {key: value for key, value in data.items() if key not in KNOWN_FIELDS}
    return {
        "kind": Report.Kind.OUTCOME,
        "succeeded": succeeded,
        "event_ref": _text(data.get("event_id"), "event_id", 200),
        "processing_time_ms": None if processing is None else _number(processing, "processing_time_ms", 0),
        "error_message": _text(data.get("error_message"), "error_message", 2000),
        "error_type": _text(data.get("error_type"), "error_type", 200),
        "extra": extra,
    }


def metric_rows(batch: object) -> list[dict]:
    if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_METRICS:
        raise Invalid(f"metrics_batch must be a list of 1 to {MAX_METRICS} metrics")
    rows = []
    for item in batch:
        if not isinstance(item, dict):
            raise Invalid("each metric must be an object")
        kind = item.get("type")
        if not isinstance(kind, str) or not 1 <= len(kind) <= 200:
            raise Invalid("each metric needs a type (a string of 1 to 200 characters)")
        tags = item.get("tags") or {}
        if not isinstance(tags, dict):
            raise Invalid("tags must be an object")
        rows.append(
            {
                "kind": Report.Kind.METRIC,
                "metric_type": kind,
                "value": _number(item.get("value"), "value"),
                "tags": tags,
                "measured_at": _timestamp(item.get("timestamp")),
            }
        )
    return rows


def parse(verb: str | None, method: str, body: bytes) -> list[dict]:
    """The rows one request asks to store."""
    if verb is not None:
        if method not in ("GET", "POST"):
            raise Invalid("use GET or POST")
        return [outcome_row(verb == "success", {})]
    if method != "POST":
        raise Invalid("POST a JSON report, or use /success and /fail")
    try:
        data = json.loads(body)
    except ValueError:
        raise Invalid("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    if "metrics_batch" in data:
        return metric_rows(data["metrics_batch"])
    status = data.get("status")
    if status not in ("success", "failure"):
        raise Invalid('status must be "success" or "failure"')
    return [outcome_row(status == "success", data)]


# --- storing a batch -----------------------------------------------------------


STORED, UNKNOWN = "stored", "unknown"


def store(submissions: list[Submission]) -> list[str]:
    """STORED, UNKNOWN (token) or the database's reason to refuse, per submission."""
    try:
        try:
            return _store_once(submissions)
        except DataError as exc:
            # One bad row (e.g. a NUL character) must not fail its batch.
            if len(submissions) == 1:
                return [str(exc).splitlines()[0]]
            return [store([submission])[0] for submission in submissions]
    finally:
        connection.close()  # an executor thread: hand the pooled connection back


def _store_once(submissions: list[Submission]) -> list[str]:
    with transaction.atomic():
        tokens = {s.token for s in submissions}
        endpoints = {
            e.report_token: e
            for e in Endpoint.objects.filter(report_token__in=tokens).only("pk", "report_token", "monitoring")
        }
        reports = _reports(submissions, endpoints)
        Report.objects.bulk_create(reports)
    counters.send(_tally(reports, endpoints))
    return [STORED if s.token in endpoints else UNKNOWN for s in submissions]


def _reports(submissions: list[Submission], endpoints: dict[str, Endpoint]) -> list[Report]:
    reports = []
    for submission in submissions:
        endpoint = endpoints.get(submission.token)
        if endpoint is None:
            continue
        for row in submission.rows:
            reports.append(Report(endpoint=endpoint, received_at=submission.received_at, **row))
    ours = {r.event_ref for r in reports if r.event_ref.startswith("evt_")}
    if ours:
        events = dict(
            Event.objects.filter(public_id__in=ours, endpoint__in=[r.endpoint for r in reports])
            .values_list("public_id", "pk")
        )
        for report in reports:
            report.event_id = events.get(report.event_ref)
    return reports


def _tally(reports: list[Report], endpoints: dict[str, Endpoint]) -> counters.Tally:
    tally = counters.Tally()
    limits = {e.pk: monitor_settings(e).get("latency_threshold_ms") for e in endpoints.values()}
    for report in reports:
        pk = report.endpoint_id
        if report.kind == Report.Kind.METRIC:
            tally.add(pk, "metrics")
            continue
        tally.add(pk, "reports_ok" if report.succeeded else "reports_failed")
        limit = limits.get(pk)
        if limit and report.processing_time_ms is not None and report.processing_time_ms > limit:
            tally.add(pk, "reports_slow")
    return tally


# --- PostgreSQL, from the event loop ------------------------------------------

_REPORT_FIELDS = (
    "endpoint_id", "received_at", "kind", "succeeded", "event_ref", "event_id", "processing_time_ms",
    "error_message", "error_type", "metric_type", "value", "tags", "measured_at", "extra",
)
_INSERT_SQL = (
    f"INSERT INTO {Report._meta.db_table} ({', '.join(_REPORT_FIELDS)}) "
    f"VALUES ({', '.join('%s' for _ in _REPORT_FIELDS)})"
)
_ENDPOINT_FIELDS = ("id", "report_token", "monitoring")
_ENDPOINT_SQL = f"SELECT id, report_token, monitoring FROM {Endpoint._meta.db_table} WHERE report_token = ANY(%s)"
_EVENT_SQL = f"SELECT public_id, id FROM {Event._meta.db_table} WHERE public_id = ANY(%s) AND endpoint_id = ANY(%s)"


def _row(report: Report) -> tuple:
    return (
        report.endpoint_id, report.received_at, report.kind, report.succeeded, report.event_ref, report.event_id,
        report.processing_time_ms, report.error_message, report.error_type, report.metric_type, report.value,
        json.dumps(report.tags), report.measured_at, json.dumps(report.extra),
    )


class PostgresReports:
    """Straight from this process's event loop, as ingest's PostgresStore
    is, but on a small psycopg async pool: no thread hop and no ORM on the
    way (the report path measured ~1,250 req/s through the ORM on an
    executor thread)."""

    def __init__(self) -> None:
        self._pool = None

    async def _connection_pool(self):
        if self._pool is None:
            self._pool = await open_pool()
        return self._pool

    async def __call__(self, submissions: list[Submission]) -> list[str]:
        import psycopg

        try:
            return await self._store_once(submissions)
        except psycopg.DataError as exc:  # see store(): one bad row must not fail its batch
            if len(submissions) == 1:
                return [str(exc).splitlines()[0]]
            return [(await self([submission]))[0] for submission in submissions]

    async def _store_once(self, submissions: list[Submission]) -> list[str]:
        pool = await self._connection_pool()
        async with pool.connection() as conn:  # one transaction, committed on leaving
            cursor = await conn.execute(_ENDPOINT_SQL, [list({s.token for s in submissions})])
            endpoints = {
                row[1]: Endpoint.from_db("default", _ENDPOINT_FIELDS, row) for row in await cursor.fetchall()
            }
            reports = [
                Report(endpoint=endpoints[s.token], received_at=s.received_at, **row)
                for s in submissions if s.token in endpoints
                for row in s.rows
            ]
            ours = list({r.event_ref for r in reports if r.event_ref.startswith("evt_")})
            if ours:
                found = await conn.execute(_EVENT_SQL, [ours, [e.pk for e in endpoints.values()]])
                events = dict(await found.fetchall())
                for report in reports:
                    report.event_id = events.get(report.event_ref)
            if reports:
                async with conn.cursor() as insert:
                    await insert.executemany(_INSERT_SQL, [_row(report) for report in reports])
        await counters.send_async(_tally(reports, endpoints))
        return [STORED if s.token in endpoints else UNKNOWN for s in submissions]


_batcher: Batcher[Submission, str] | None = None


def batcher() -> Batcher[Submission, str]:
    global _batcher
    if _batcher is None:
        if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
            flush = PostgresReports()
        else:
            flush = sync_to_async(store, thread_sensitive=False)
        _batcher = Batcher(flush, max_inflight=2)
    return _batcher


# --- ASGI ---------------------------------------------------------------------


async def _answer(send, status: int, payload: dict, extra=()) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def receive_report(scope, receive, send) -> None:
    received_at = timezone.now()
    matched = _PATH.fullmatch(scope["path"])
    if matched is None:
        await _answer(send, 404, {"detail": "Unknown report URL."})
        return
    try:
        body = await read_body(scope, receive, settings.MAX_REPORT_BYTES)
    except ConnectionAbortedError:
        return
    if body is None:
        await _answer(send, 413, {"detail": f"Report is larger than {settings.MAX_REPORT_BYTES} bytes."},
                      extra=[(b"connection", b"close")])
        return
    try:
        rows = parse(matched.group(2), scope["method"], body)
    except Invalid as exc:
        status = 405 if str(exc).startswith(("use ", "POST ")) else 400
        await _answer(send, status, {"detail": str(exc)})
        return
    try:
        outcome = await batcher().submit(Submission(matched.group(1), received_at, rows))
    except Exception:
        log.exception("a processing report could not be stored")
        await _answer(send, 503, {"detail": "Storage is unavailable; retry later."}, extra=[(b"retry-after", b"5")])
        return
    if outcome == UNKNOWN:
        await _answer(send, 404, {"detail": "Unknown report URL."})
    elif outcome != STORED:
        await _answer(send, 400, {"detail": f"This report cannot be stored: {outcome}"})
    else:
        await _answer(send, 200, {"ok": True})
