"""`/api/v1/auth/token/`, `.../refresh/` and `/api/v1/auth/logout/`: guessing
is throttled, refresh tokens work once, logout ends a refresh token."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

GOOD = {"username": "alice", "password": "correct-horse-1"}
BAD = {"username": "alice", "password": "wrong"}


def post(path: str, data: dict, address: str = "198.51.100.1"):
    return APIClient().post(path, data, format="json", REMOTE_ADDR=address)


def tokens(address: str = "198.51.100.1") -> dict:
    r = post("/api/v1/auth/token/", GOOD, address)
    assert r.status_code == 200, r.content
    return r.json()


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return 3


def test_it_locks_an_account_out_after_the_limit_with_429_and_retry_after(alice, limit) -> None:
    answers = [post("/api/v1/auth/token/", BAD).status_code for _ in range(limit - 1)]
    assert answers == [401] * (limit - 1)
    r = post("/api/v1/auth/token/", BAD)
    assert r.status_code == 429
    assert r.json()["detail"].startswith("Too many failed logins")
    assert 890 <= int(r.headers["Retry-After"]) <= 900
    # Even the right password, now: a lockout must not confirm a guess.
    assert post("/api/v1/auth/token/", GOOD).status_code == 429


def test_it_locks_the_account_out_from_every_address(alice, limit) -> None:
    for n in range(limit):
        post("/api/v1/auth/token/", BAD, address=f"198.51.100.{10 + n}")
    r = post("/api/v1/auth/token/", GOOD, address="203.0.113.99")
    assert r.status_code == 429
    assert "Retry-After" in r.headers


def test_it_locks_an_address_out_for_every_account(alice, bob, limit) -> None:
    for n in range(limit):
        post("/api/v1/auth/token/", {"username": f"guess{n}", "password": "x"}, address="198.51.100.7")
    r = post("/api/v1/auth/token/", {"username": "bob", "password": "battery-staple-2"}, address="198.51.100.7")
    assert r.status_code == 429
    assert post("/api/v1/auth/token/", {"username": "bob", "password": "battery-staple-2"}, "198.51.100.8").status_code == 200


def test_the_lockout_ends_when_retry_after_says(alice, limit) -> None:
    for _ in range(limit):
        post("/api/v1/auth/token/", BAD)
    wait = int(post("/api/v1/auth/token/", BAD).headers["Retry-After"])
    with time_machine.travel(timezone.now() + timedelta(seconds=wait - 5), tick=False):
        assert post("/api/v1/auth/token/", GOOD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(seconds=wait + 1), tick=False):
        assert post("/api/v1/auth/token/", GOOD).status_code == 200


def test_it_throttles_token_requests_per_address_with_retry_after(alice, settings) -> None:
    settings.AUTH_REQUESTS_PER_MINUTE = 2
    assert [post("/api/v1/auth/token/", GOOD, "192.0.2.44").status_code for _ in range(2)] == [200, 200]
    r = post("/api/v1/auth/token/refresh/", {"refresh": "whatever"}, "192.0.2.44")
    assert r.status_code == 429
    assert "detail" in r.json()
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert post("/api/v1/auth/token/", GOOD, "192.0.2.45").status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(alice, settings) -> None:
    settings.AUTH_REQUESTS_PER_MINUTE = 1
    client = APIClient()
    first = client.post("/api/v1/auth/token/", GOOD, format="json", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR="10.0.0.1")
    second = client.post("/api/v1/auth/token/", GOOD, format="json", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR="10.0.0.2")
    assert (first.status_code, second.status_code) == (200, 429)


def test_a_refresh_rotates_and_the_old_refresh_token_stops_working(alice) -> None:
    first = tokens()
    r = post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]})
    assert r.status_code == 200
    second = r.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]
    again = post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]})
    assert again.status_code == 401
    assert "blacklisted" in again.json()["detail"]
    assert post("/api/v1/auth/token/refresh/", {"refresh": second["refresh"]}).status_code == 200


def test_logout_blacklists_the_refresh_token(alice) -> None:
    issued = tokens()
    r = post("/api/v1/auth/logout/", {"refresh": issued["refresh"]})
    assert r.status_code == 204
    assert post("/api/v1/auth/token/refresh/", {"refresh": issued["refresh"]}).status_code == 401


def test_logout_refuses_a_token_that_is_not_a_refresh_token(alice) -> None:
    r = post("/api/v1/auth/logout/", {"refresh": tokens()["access"]})
    assert r.status_code == 401
    assert "detail" in r.json()


def test_logout_names_a_missing_refresh_token(db) -> None:
    r = post("/api/v1/auth/logout/", {})
    assert r.status_code == 400
    assert list(r.json()["detail"]) == ["refresh"]


def test_a_refresh_token_of_a_deleted_account_is_401(alice) -> None:
    issued = tokens()
    alice.delete()
    r = post("/api/v1/auth/token/refresh/", {"refresh": issued["refresh"]})
    assert r.status_code == 401
    assert r.json()["detail"] == "No active account found for the given token."
