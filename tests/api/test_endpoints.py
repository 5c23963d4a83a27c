from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliveries import tasks
from endpoints.models import DEFAULT_RETRY_SCHEDULE, Endpoint
from events.models import Event, EventStatus

FIELDS = {
    "id",
    "name",
    "ingest_url",
    "destination_url",
    "paused",
    "retry_schedule",
    "timeout_seconds",
    "rate_limit",
    "paused_reason",
    "report_url",
    "monitoring",
    "retention_days",
    "stats",
    "signing_secret",
    "health",
    "response_status",
    "response_content_type",
    "response_body",
    "verification",
    "dedup",
    "handshakes",
    "rotation_overlap",
    "previous_secret_expires_at",
    "created_at",
    "updated_at",
}


def test_it_creates_an_endpoint_owned_by_the_caller(alice, alice_api) -> None:
    r = alice_api.post(
        "/api/v1/endpoints/", {"name": "Stripe", "destination_url": "https://hooks.example.test/stripe"}, format="json"
    )
    assert r.status_code == 201
    body = r.json()
    assert set(body) == FIELDS
    endpoint = Endpoint.objects.get(public_id=body["id"])
    assert endpoint.owner == alice
    assert body["id"].startswith("ep_")
    assert body["ingest_url"] == endpoint.ingest_url
    assert body["destination_url"] == "https://hooks.example.test/stripe"
    assert body["retry_schedule"] == DEFAULT_RETRY_SCHEDULE
    assert body["timeout_seconds"] == 10
    assert body["paused"] is False
    assert body["health"] == "inactive"


def test_it_shows_the_decrypted_signing_secret(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    body = alice_api.get(f"/api/v1/endpoints/{endpoint.public_id}/").json()
    assert body["signing_secret"].startswith("whsec_")
    assert body["signing_secret"] == endpoint.signing_secret
    assert body["signing_secret"] != endpoint.signing_secret_encrypted


def test_it_creates_an_inbox_without_destination(alice_api) -> None:
    r = alice_api.post("/api/v1/endpoints/", {"name": "Inbox", "destination_url": ""}, format="json")
    assert r.status_code == 201
    assert r.json()["destination_url"] is None
    assert Endpoint.objects.get(public_id=r.json()["id"]).destination_url is None


def test_it_ignores_read_only_fields(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    r = alice_api.patch(
        f"/api/v1/endpoints/{endpoint.public_id}/",
        {"id": "ep_mine", "health": "failing", "signing_secret": "whsec_x", "ingest_url": "http://evil.example.test/"},
        format="json",
    )
    assert r.status_code == 200
    endpoint.refresh_from_db()
    assert r.json()["id"] == endpoint.public_id != "ep_mine"
    assert endpoint.health == "inactive"
    assert endpoint.signing_secret != "whsec_x"


def test_it_lists_endpoints_newest_first_with_pages(alice, alice_api) -> None:
    older = Endpoint.objects.create(owner=alice, name="older")
    newer = Endpoint.objects.create(owner=alice, name="newer")
    body = alice_api.get("/api/v1/endpoints/").json()
    assert body["count"] == 2
    assert body["next"] is None
    assert [e["id"] for e in body["results"]] == [newer.public_id, older.public_id]


def test_it_shows_one_endpoint(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")
    r = alice_api.get(f"/api/v1/endpoints/{endpoint.public_id}/")
    assert r.status_code == 200
    assert r.json()["name"] == "Stripe"


def test_it_returns_404_json_for_an_unknown_endpoint(alice_api) -> None:
    r = alice_api.get("/api/v1/endpoints/ep_doesnotexist/")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"
    assert "detail" in r.json()


def test_it_updates_an_endpoint(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    r = alice_api.patch(
        f"/api/v1/endpoints/{endpoint.public_id}/",
        {
            "name": "GitHub",
            "destination_url": "https://hooks.example.test/gh",
            "retry_schedule": [5, 10],
            "timeout_seconds": 30,
            "response_status": 202,
            "response_content_type": "text/plain",
            "response_body": "ok",
        },
        format="json",
    )
    assert r.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.name == "GitHub"
    assert endpoint.destination_url == "https://hooks.example.test/gh"
    assert endpoint.retry_schedule == [5, 10]
    assert endpoint.timeout_seconds == 30
    assert (endpoint.response_status, endpoint.response_content_type, endpoint.response_body) == (
        202,
        "text/plain",
        "ok",
    )


def test_it_clears_a_destination_with_null(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")
    r = alice_api.patch(f"/api/v1/endpoints/{endpoint.public_id}/", {"destination_url": None}, format="json")
    assert r.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.destination_url is None


def test_it_deletes_an_endpoint_and_its_events(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    Event.objects.create(endpoint=endpoint, method="POST", received_at=timezone.now())
    r = alice_api.delete(f"/api/v1/endpoints/{endpoint.public_id}/")
    assert r.status_code == 204
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("destination_url", "ftp://files.example.test/in"),
        ("destination_url", "not a url"),
        ("destination_url", "http://169.254.169.254/latest/meta-data/"),
        ("retry_schedule", []),
        ("retry_schedule", [60] * 21),
        ("retry_schedule", [0]),
        ("retry_schedule", [8 * 24 * 3600]),
        ("retry_schedule", ["60"]),
        ("retry_schedule", [1.5]),
        ("retry_schedule", 60),
        ("timeout_seconds", 0),
        ("timeout_seconds", 31),
        ("rate_limit", 0),
        ("rate_limit", 100_001),
        ("timeout_seconds", "soon"),
        ("response_status", 99),
        ("response_status", 600),
        ("paused", "maybe"),
    ],
)
def test_it_answers_400_naming_the_bad_field(alice, alice_api, field: str, value: object) -> None:
    r = alice_api.post("/api/v1/endpoints/", {"name": "Stripe", field: value}, format="json")
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert list(detail) == [field]
    assert isinstance(detail[field], list) and detail[field]
    assert not Endpoint.objects.exists()


def test_it_refuses_a_bad_value_on_update_too(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    r = alice_api.patch(f"/api/v1/endpoints/{endpoint.public_id}/", {"retry_schedule": [0]}, format="json")
    assert r.status_code == 400
    assert list(r.json()["detail"]) == ["retry_schedule"]
    endpoint.refresh_from_db()
    assert endpoint.retry_schedule == DEFAULT_RETRY_SCHEDULE


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://10.0.0.5/hook", "http://192.168.1.20/hook"])
def test_it_refuses_a_private_destination_when_not_allowed(alice_api, settings, url: str) -> None:
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    r = alice_api.post("/api/v1/endpoints/", {"name": "Local", "destination_url": url}, format="json")
    assert r.status_code == 400
    assert "private or loopback" in r.json()["detail"]["destination_url"][0]


def test_it_accepts_a_private_destination_when_allowed(alice_api, settings) -> None:
    settings.ALLOW_PRIVATE_DESTINATIONS = True
    r = alice_api.post(
        "/api/v1/endpoints/", {"name": "Local", "destination_url": "http://127.0.0.1:9000/hook"}, format="json"
    )
    assert r.status_code == 201


def test_resuming_an_endpoint_releases_its_held_events(
    alice, alice_api, django_capture_on_commit_callbacks
) -> None:
    endpoint = Endpoint.objects.create(
        owner=alice, name="Stripe", destination_url="https://hooks.example.test/", paused=True
    )
    held = Event.objects.create(
        endpoint=endpoint, method="POST", received_at=timezone.now(), status=EventStatus.HELD
    )
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.patch(f"/api/v1/endpoints/{endpoint.public_id}/", {"paused": False}, format="json")
    assert r.status_code == 200
    assert r.json()["paused"] is False
    held.refresh_from_db()
    assert held.status == EventStatus.RECEIVED
    assert held.next_attempt_at is not None
    assert held.next_attempt_at <= timezone.now() + timedelta(seconds=1)
    assert callbacks == [tasks.forward_due.delay]


def test_pausing_an_endpoint_releases_nothing(alice, alice_api, django_capture_on_commit_callbacks) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", destination_url="https://hooks.example.test/")
    with django_capture_on_commit_callbacks() as callbacks:
        r = alice_api.patch(f"/api/v1/endpoints/{endpoint.public_id}/", {"paused": True}, format="json")
    assert r.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.paused is True
    assert callbacks == []


def test_listing_endpoints_takes_the_same_queries_for_many_rows(
    alice, alice_api, django_assert_max_num_queries
) -> None:
    Endpoint.objects.create(owner=alice, name="first")
    with CaptureQueriesContext(connection) as few:
        alice_api.get("/api/v1/endpoints/")
    for n in range(25):
        Endpoint.objects.create(owner=alice, name=f"endpoint {n}")
    with django_assert_max_num_queries(len(few)):
        r = alice_api.get("/api/v1/endpoints/")
    assert r.json()["count"] == 26
