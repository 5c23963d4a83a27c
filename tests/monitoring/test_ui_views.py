"""Monitoring pages: alerts with filters, an endpoint's charts and settings."""

import pytest

from endpoints.models import DEFAULT_MONITORING, Endpoint
from monitoring import counters
from monitoring.models import Alert, AlertType

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(alice) -> Endpoint:
    return Endpoint.objects.create(owner=alice, name="Shop")


def test_the_alerts_page_lists_and_filters_the_users_alerts(alice_client, shop, bob) -> None:
    theirs = Endpoint.objects.create(owner=bob, name="Theirs")
    Alert.raise_for(theirs, AlertType.INTEGRITY, "bob's problem")
    resolved = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow <b>answers</b>")
    resolved.resolve()
    Alert.raise_for(shop, AlertType.INTEGRITY, "bad JSON")
    page = alice_client.get("/alerts/").content.decode()
    assert "slow &lt;b&gt;answers&lt;/b&gt;" in page and "bad JSON" in page
    assert "bob&#x27;s problem" not in page and "bob's problem" not in page
    filtered = alice_client.get("/alerts/?state=open&type=integrity").content.decode()
    assert "bad JSON" in filtered and "answers" not in filtered


def test_the_dashboard_shows_open_alerts(alice_client, shop) -> None:
    Alert.raise_for(shop, AlertType.SILENT, "no event since noon")
    closed = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    closed.resolve()
    page = alice_client.get("/").content.decode()
    assert 'data-open-alerts' in page
    assert "no event since noon" in page
    assert ">timeouts<" not in page


def test_the_monitoring_page_shows_stats_charts_and_alerts(alice_client, shop) -> None:
    tally = counters.Tally()
    tally.add(shop.pk, "events", 50)
    counters.send(tally)
    page = alice_client.get(f"/endpoints/{shop.public_id}/monitoring/?range=24h").content.decode()
    for metric in ("events", "success", "p95"):
        assert f"/endpoints/{shop.public_id}/charts/{metric}.svg?range=24h" in page
    assert "<dd>5.0</dd>" in page


def test_a_chart_is_an_svg_of_the_rollups(alice_client, shop) -> None:
    tally = counters.Tally()
    tally.add(shop.pk, "events", 12)
    counters.send(tally)
    answer = alice_client.get(f"/endpoints/{shop.public_id}/charts/events.svg?range=1h")
    assert answer["Content-Type"] == "image/svg+xml"
    svg = answer.content.decode()
    assert svg.startswith("<svg") and "<polyline" in svg
    assert 'data-total="12.00"' in svg
    for window in ("24h", "7d"):
        assert alice_client.get(f"/endpoints/{shop.public_id}/charts/p95.svg?range={window}").status_code == 200


def test_charts_and_pages_of_another_users_endpoint_are_404(alice_client, bob) -> None:
    theirs = Endpoint.objects.create(owner=bob, name="Theirs")
    assert alice_client.get(f"/endpoints/{theirs.public_id}/monitoring/").status_code == 404
    assert alice_client.get(f"/endpoints/{theirs.public_id}/charts/events.svg").status_code == 404


def test_an_unknown_chart_or_range_is_404(alice_client, shop) -> None:
    assert alice_client.get(f"/endpoints/{shop.public_id}/charts/cpu.svg").status_code == 404
    assert alice_client.get(f"/endpoints/{shop.public_id}/charts/events.svg?range=1y").status_code == 404


def test_the_settings_form_saves_with_the_apis_rules(alice_client, shop) -> None:
    url = f"/endpoints/{shop.public_id}/monitoring/"
    form = {"expected_every_seconds": "3600", "grace_seconds": "120", "required_fields": "/id\n/data/object\n",
            "max_body_bytes": "", "latency_threshold_ms": "2000", "auto_pause_after_seconds": ""}
    assert alice_client.post(url, form).status_code == 302
    shop.refresh_from_db()
    assert shop.monitor_settings == {
        "expected_every_seconds": 3600, "grace_seconds": 120, "required_fields": ["/id", "/data/object"],
        "max_body_bytes": None, "latency_threshold_ms": 2000, "auto_pause_after_seconds": None,
    }


def test_a_bad_setting_is_explained_and_saves_nothing(alice_client, shop) -> None:
    url = f"/endpoints/{shop.public_id}/monitoring/"
    form = {"grace_seconds": "60", "required_fields": "id", "latency_threshold_ms": "2000"}
    page = alice_client.post(url, form)
    assert page.status_code == 200
    assert "JSON pointer" in page.content.decode()
    shop.refresh_from_db()
    assert shop.monitor_settings == DEFAULT_MONITORING


def test_the_settings_form_needs_the_csrf_token(client, alice, shop) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    answer = strict.post(f"/endpoints/{shop.public_id}/monitoring/", {"grace_seconds": "1", "latency_threshold_ms": "1"})
    assert answer.status_code == 403
