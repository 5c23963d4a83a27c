"""The endpoint API's `report_url`, `monitoring` and read-only `stats`."""

import pytest

from endpoints.models import DEFAULT_MONITORING, Endpoint
from monitoring import counters

pytestmark = pytest.mark.django_db


def test_a_new_endpoint_has_a_report_url_and_default_monitoring(alice_api) -> None:
    body = alice_api.post("/api/v1/endpoints/", {"name": "Shop"}, format="json").json()
    endpoint = Endpoint.objects.get(public_id=body["id"])
    assert body["report_url"] == f"http://127.0.0.1:8000/m/{endpoint.report_token}"
    assert endpoint.report_token != endpoint.ingest_token
    assert body["monitoring"] == DEFAULT_MONITORING
    assert body["monitoring"]["auto_pause_after_seconds"] == 432000
    assert body["stats"] == {
        "events_per_min": 0.0, "success_rate_1h": None, "p50_ms": None, "p95_ms": None,
        "processing_success_rate_1h": None, "last_event_at": None,
    }


def test_a_patch_changes_only_the_monitoring_keys_it_names(alice_api, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Shop")
    answer = alice_api.patch(
        f"/api/v1/endpoints/{endpoint.public_id}/",
        {"monitoring": {"expected_every_seconds": 3600, "required_fields": ["/id", "/data/object"]}},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    endpoint.refresh_from_db()
    assert endpoint.monitor_settings == {
        **DEFAULT_MONITORING, "expected_every_seconds": 3600, "required_fields": ["/id", "/data/object"],
    }


@pytest.mark.parametrize(
    "monitoring",
    [
        {"expected_every_seconds": 0},
        {"auto_pause_after_seconds": "soon"},
        {"grace_seconds": True},
        {"required_fields": ["id"]},
        {"required_fields": "/id"},
        {"alarm": 1},
        ["/id"],
    ],
)
def test_bad_monitoring_settings_are_a_400_and_change_nothing(alice_api, alice, monitoring) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Shop")
    answer = alice_api.patch(f"/api/v1/endpoints/{endpoint.public_id}/", {"monitoring": monitoring}, format="json")
    assert answer.status_code == 400
    assert "monitoring" in answer.json()["detail"]
    endpoint.refresh_from_db()
    assert endpoint.monitor_settings == DEFAULT_MONITORING


def test_stats_and_report_url_are_read_only(alice_api, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Shop")
    alice_api.patch(
        f"/api/v1/endpoints/{endpoint.public_id}/",
        {"stats": {"events_per_min": 99}, "report_url": "x", "paused_reason": "x"},
        format="json",
    )
    endpoint.refresh_from_db()
    assert endpoint.paused_reason == ""


def test_stats_come_from_the_counters(alice_api, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Shop")
    tally = counters.Tally()
    tally.add(endpoint.pk, "events", 30)
    tally.add(endpoint.pk, "attempts_ok", 3)
    tally.add(endpoint.pk, "attempts_failed", 1)
    tally.add(endpoint.pk, "reports_ok", 1)
    for duration in (10, 10, 10, 900):
        tally.latency(endpoint.pk, duration)
    counters.send(tally)
    stats = alice_api.get(f"/api/v1/endpoints/{endpoint.public_id}/").json()["stats"]
    assert stats == {
        "events_per_min": 3.0, "success_rate_1h": 0.75, "p50_ms": 10, "p95_ms": 1000,
        "processing_success_rate_1h": 1.0, "last_event_at": None,
    }


def test_the_list_computes_stats_for_a_page_in_a_fixed_number_of_queries(
    alice_api, alice, django_assert_max_num_queries
) -> None:
    for n in range(12):
        Endpoint.objects.create(owner=alice, name=f"E{n}")
    with django_assert_max_num_queries(8):
        answer = alice_api.get("/api/v1/endpoints/")
    assert all("stats" in item for item in answer.json()["results"])
