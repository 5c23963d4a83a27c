"""`/m/<report_token>` against the real server process."""

import pytest
import requests
from django.db.models import Sum
from django.utils import timezone

from endpoints.models import Endpoint
from monitoring import rollups
from monitoring.models import Report, Rollup
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def url(server, endpoint) -> str:
    return f"{server.url}/m/{endpoint.report_token}"


def test_success_and_fail_pings_record_one_outcome_each(url, endpoint) -> None:
    assert requests.get(f"{url}/success", timeout=10).json() == {"ok": True}
    assert requests.post(f"{url}/fail", timeout=10).status_code == 200
    assert requests.get(f"{url}/fail/", timeout=10).status_code == 200
    outcomes = list(Report.objects.filter(endpoint=endpoint).order_by("id").values_list("kind", "succeeded"))
    assert outcomes == [("outcome", True), ("outcome", False), ("outcome", False)]


def test_a_json_report_is_stored_and_linked_to_our_event(url, endpoint) -> None:
    event = make_event(endpoint)
    answer = requests.post(url, json={
        "status": "failure", "event_id": event.public_id, "processing_time_ms": 812.5,
        "error_message": "order not found", "error_type": "KeyError", "attempt": 2,
    }, timeout=10)
    assert answer.status_code == 200
    report = Report.objects.get(endpoint=endpoint)
    assert (report.succeeded, report.event_id, report.event_ref) == (False, event.pk, event.public_id)
    assert (report.processing_time_ms, report.error_message, report.error_type) == (812.5, "order not found", "KeyError")
    assert report.extra == {"attempt": 2}


def test_a_providers_id_is_kept_as_sent(url, endpoint) -> None:
    requests.post(url, json={"status": "success", "event_id": "evt_1NyQ2Stripe"}, timeout=10)
    report = Report.objects.get(endpoint=endpoint)
    assert (report.event_ref, report.event_id) == ("evt_1NyQ2Stripe", None)


def test_a_metrics_batch_stores_one_row_per_metric(url, endpoint) -> None:
    answer = requests.post(url, json={"metrics_batch": [
        {"type": "queue_depth", "value": 12, "tags": {"queue": "orders"}, "timestamp": 1767225600},
        {"type": "processing_time_ms", "value": 41.5, "timestamp": "2026-01-01T00:00:00Z"},
    ]}, timeout=10)
    assert answer.json() == {"ok": True}
    metrics = list(Report.objects.filter(endpoint=endpoint, kind="metric").order_by("id"))
    assert [(m.metric_type, m.value, m.tags) for m in metrics] == [
        ("queue_depth", 12.0, {"queue": "orders"}), ("processing_time_ms", 41.5, {}),
    ]
    assert metrics[0].measured_at == metrics[1].measured_at


def test_it_returns_404_and_stores_nothing_for_an_unknown_token(server, endpoint) -> None:
    for path in ("/m/" + "a" * 32 + "/success", "/m/not-a-token", "/m/" + endpoint.ingest_token):
        answer = requests.post(server.url + path, json={"status": "success"}, timeout=10)
        assert answer.status_code == 404, path
        assert answer.json() == {"detail": "Unknown report URL."}
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "body, detail",
    [
        (b"{nope", "the body is not valid JSON"),
        (b"[]", "the body must be a JSON object"),
        (b'{"status": "ok"}', 'status must be "success" or "failure"'),
        (b'{"status": "success", "processing_time_ms": -1}', "processing_time_ms must be at least 0"),
        (b'{"metrics_batch": []}', "metrics_batch must be a list of 1 to 1000 metrics"),
        (b'{"metrics_batch": [{"type": "x", "value": "high"}]}', "value must be a number"),
        (b'{"metrics_batch": [{"type": "x", "value": 1, "timestamp": "soon"}]}',
         "timestamp must be seconds since the epoch or an ISO 8601 date"),
    ],
)
def test_it_explains_a_bad_report_with_400_and_stores_nothing(url, body: bytes, detail: str) -> None:
    answer = requests.post(url, data=body, headers={"content-type": "application/json"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json() == {"detail": detail}
    assert not Report.objects.exists()


def test_a_row_the_database_refuses_is_a_400_not_a_500(url) -> None:
    answer = requests.post(url, json={"status": "failure", "error_message": "nul \u0000 here"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("This report cannot be stored")
    assert not Report.objects.exists()


def test_a_report_without_a_verb_must_be_posted(url) -> None:
    assert requests.get(url, timeout=10).status_code == 405
    assert requests.put(f"{url}/success", timeout=10).status_code == 405


def test_reports_are_counted_per_endpoint_and_minute(url, endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(monitoring={"latency_threshold_ms": 1000})
    requests.get(f"{url}/success", timeout=10)
    requests.post(url, json={"status": "success", "processing_time_ms": 2500}, timeout=10)
    requests.post(url, json={"status": "failure"}, timeout=10)
    batch = [{"type": "depth", "value": 1}, {"type": "depth", "value": 2}]
    requests.post(url, json={"metrics_batch": batch}, timeout=10)
    rollups.flush(timezone.now())
    # Summed: the requests may straddle a minute boundary.
    totals = Rollup.objects.filter(endpoint=endpoint, minutes=1).aggregate(
        ok=Sum("reports_ok"), failed=Sum("reports_failed"), slow=Sum("reports_slow"), metrics=Sum("metrics")
    )
    assert totals == {"ok": 2, "failed": 1, "slow": 1, "metrics": 2}
