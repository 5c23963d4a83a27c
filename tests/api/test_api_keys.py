from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from endpoints.models import ApiKey, hash_api_key


def test_it_shows_a_new_key_once(alice, alice_api) -> None:
    r = alice_api.post("/api/v1/api-keys/", {"name": "deploy bot"}, format="json")
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "name", "key", "created_at"}
    assert body["id"].startswith("key_")
    assert body["name"] == "deploy bot"

    listed = alice_api.get("/api/v1/api-keys/").json()["results"]
    assert listed == [
        {
            "id": body["id"],
            "name": "deploy bot",
            "prefix": body["key"][:10],
            "created_at": body["created_at"],
            "last_used_at": None,
        }
    ]


def test_it_stores_the_key_hashed_only(alice, alice_api) -> None:
    raw = alice_api.post("/api/v1/api-keys/", {"name": "ci"}, format="json").json()["key"]
    key = ApiKey.objects.get(owner=alice)
    assert key.key_hash == hash_api_key(raw)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM endpoints_apikey")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert raw not in stored


def test_the_new_key_authenticates_and_records_its_use(alice, alice_api) -> None:
    raw = alice_api.post("/api/v1/api-keys/", {"name": "ci"}, format="json").json()["key"]
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    assert client.get("/api/v1/endpoints/").status_code == 200
    assert alice_api.get("/api/v1/api-keys/").json()["results"][0]["last_used_at"] is not None


def test_it_requires_a_name(alice_api) -> None:
    r = alice_api.post("/api/v1/api-keys/", {"name": ""}, format="json")
    assert r.status_code == 400
    assert list(r.json()["detail"]) == ["name"]


def test_revoking_a_key_makes_it_answer_401(alice, alice_api) -> None:
    created = alice_api.post("/api/v1/api-keys/", {"name": "ci"}, format="json").json()
    r = alice_api.delete(f"/api/v1/api-keys/{created['id']}/")
    assert r.status_code == 204
    assert ApiKey.objects.get(public_id=created["id"]).revoked_at is not None

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=created["key"])
    r = client.get("/api/v1/endpoints/")
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid or revoked API key."}


def test_a_revoked_key_leaves_the_list_and_cannot_be_revoked_again(alice, alice_api) -> None:
    key, _ = ApiKey.issue(alice, "old")
    assert alice_api.delete(f"/api/v1/api-keys/{key.public_id}/").status_code == 204
    assert alice_api.get("/api/v1/api-keys/").json()["results"] == []
    r = alice_api.delete(f"/api/v1/api-keys/{key.public_id}/")
    assert r.status_code == 404
    assert "detail" in r.json()


def test_it_lists_keys_newest_first(alice, alice_api) -> None:
    first, _ = ApiKey.issue(alice, "first")
    second, _ = ApiKey.issue(alice, "second")
    ids = [k["id"] for k in alice_api.get("/api/v1/api-keys/").json()["results"]]
    assert ids == [second.public_id, first.public_id]


def test_listing_keys_takes_the_same_queries_for_many_rows(alice, alice_api, django_assert_max_num_queries) -> None:
    ApiKey.issue(alice, "one")
    with CaptureQueriesContext(connection) as few:
        alice_api.get("/api/v1/api-keys/")
    for n in range(20):
        ApiKey.issue(alice, f"key {n}")
    with django_assert_max_num_queries(len(few)):
        r = alice_api.get("/api/v1/api-keys/")
    assert r.json()["count"] == 21


def test_an_api_key_cannot_list_create_or_revoke_api_keys(alice) -> None:
    key, raw = ApiKey.issue(alice, "leaked")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    answers = [
        client.get("/api/v1/api-keys/"),
        client.post("/api/v1/api-keys/", {"name": "survivor"}, format="json"),
        client.delete(f"/api/v1/api-keys/{key.public_id}/"),
    ]
    assert [r.status_code for r in answers] == [403, 403, 403]
    assert all(r.json()["detail"].startswith("API keys cannot manage API keys") for r in answers)
    assert list(ApiKey.objects.values_list("name", "revoked_at")) == [("leaked", None)]


def test_a_session_can_manage_api_keys(alice_client) -> None:
    r = alice_client.post("/api/v1/api-keys/", {"name": "from the dashboard"}, content_type="application/json")
    assert r.status_code == 201
