"""The login form and the admin login share the API's count of failed logins."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=10)
    return 3


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "admin-pass-3")


def login(client: Client, path: str, username: str, password: str):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR="198.51.100.20")


def test_the_login_form_answers_429_with_retry_after_once_locked(client: Client, alice, limit) -> None:
    for _ in range(limit - 1):
        assert login(client, "/accounts/login/", "alice", "nope").status_code == 200
    locked = login(client, "/accounts/login/", "alice", "nope")
    assert locked.status_code == 429
    assert 590 <= int(locked["Retry-After"]) <= 600
    assert "Too many failed logins" in locked.content.decode()
    right = login(client, "/accounts/login/", "alice", "correct-horse-1")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_locked_out_too(client: Client, admin_user, limit) -> None:
    for _ in range(limit):
        login(client, "/admin/login/", "root", "nope")
    locked = login(client, "/admin/login/", "root", "admin-pass-3")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_failures_on_the_api_lock_the_login_form(client: Client, alice, limit) -> None:
    for _ in range(limit):
        APIClient().post(
            "/api/v1/auth/token/", {"username": "alice", "password": "x"}, format="json", REMOTE_ADDR="203.0.113.3"
        )
    assert login(client, "/accounts/login/", "alice", "correct-horse-1").status_code == 429


def test_a_few_failures_below_the_limit_still_let_the_right_password_in(client: Client, alice, limit) -> None:
    for _ in range(limit - 1):
        login(client, "/accounts/login/", "alice", "nope")
    assert login(client, "/accounts/login/", "alice", "correct-horse-1").status_code == 302
