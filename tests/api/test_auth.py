from datetime import timedelta

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from endpoints.models import ApiKey, Endpoint


def test_it_issues_access_and_refresh_tokens_for_good_credentials(alice) -> None:
    r = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "correct-horse-1"}, format="json")
    assert r.status_code == 200
    assert set(r.json()) == {"access", "refresh"}
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    assert me.get("/api/v1/endpoints/").status_code == 200


def test_it_refuses_a_wrong_password_with_401(alice) -> None:
    r = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert r.status_code == 401
    assert "detail" in r.json()


def test_it_names_missing_credentials_fields(db) -> None:
    r = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert r.status_code == 400
    assert set(r.json()["detail"]) == {"username", "password"}


def test_it_refreshes_an_access_token(alice) -> None:
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "correct-horse-1"}, format="json"
    ).json()
    r = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert r.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    assert client.get("/api/v1/endpoints/").status_code == 200


def test_it_refuses_an_invalid_refresh_token_with_401(db) -> None:
    r = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": "not-a-token"}, format="json")
    assert r.status_code == 401
    assert "detail" in r.json()


def test_it_refuses_an_access_token_after_15_minutes(alice) -> None:
    client = APIClient()
    access = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "correct-horse-1"}, format="json"
    ).json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert client.get("/api/v1/endpoints/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        r = client.get("/api/v1/endpoints/")
    assert r.status_code == 401
    assert "detail" in r.json()


def test_it_refuses_a_garbage_bearer_token_with_401(db) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    r = client.get("/api/v1/endpoints/")
    assert r.status_code == 401
    assert "detail" in r.json()


def test_it_answers_401_json_without_credentials(db) -> None:
    r = APIClient().get("/api/v1/events/")
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not provided."}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_it_accepts_an_api_key_header(alice) -> None:
    _, raw = ApiKey.issue(alice, "ci")
    Endpoint.objects.create(owner=alice, name="Stripe")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    r = client.get("/api/v1/endpoints/")
    assert r.status_code == 200
    assert [e["name"] for e in r.json()["results"]] == ["Stripe"]


def test_it_refuses_an_unknown_api_key_with_401(db) -> None:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY="hl_made-up")
    r = client.get("/api/v1/endpoints/")
    assert r.status_code == 401
    assert "detail" in r.json()


def test_it_answers_400_for_a_body_that_is_not_json(alice_api) -> None:
    r = alice_api.post("/api/v1/endpoints/", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert "JSON parse error" in r.json()["detail"]


def test_it_answers_405_json_for_a_method_the_route_lacks(alice, alice_api) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    r = alice_api.put(f"/api/v1/endpoints/{endpoint.public_id}/", {"name": "x"}, format="json")
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "PUT" not allowed.'}


def test_it_answers_404_json_for_an_unknown_api_path(alice_api) -> None:
    r = alice_api.get("/api/v1/nothing/here/")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not found."}
