"""Logging out of the dashboard or changing the password ends every refresh token."""

from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken


def issue_refresh(username: str, password: str) -> str:
    r = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert r.status_code == 200
    return r.json()["refresh"]


def refresh_status(token: str) -> int:
    return APIClient().post("/api/v1/auth/token/refresh/", {"refresh": token}, format="json").status_code


def test_a_password_change_blacklists_every_refresh_token_of_the_user(alice, bob) -> None:
    laptop, phone = issue_refresh("alice", "correct-horse-1"), issue_refresh("alice", "correct-horse-1")
    bobs = issue_refresh("bob", "battery-staple-2")
    alice.set_password("a-new-passphrase-7")
    alice.save()
    assert refresh_status(laptop) == 401
    assert refresh_status(phone) == 401
    assert refresh_status(bobs) == 200


def test_a_password_change_through_the_admin_form_counts_too(alice) -> None:
    token = issue_refresh("alice", "correct-horse-1")
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client = Client()
    client.force_login(alice)
    r = client.post(
        "/admin/password_change/",
        {"old_password": "correct-horse-1", "new_password1": "a-new-passphrase-7", "new_password2": "a-new-passphrase-7"},
    )
    assert r.status_code == 302
    assert refresh_status(token) == 401


def test_saving_the_user_without_a_new_password_keeps_the_tokens(alice) -> None:
    token = issue_refresh("alice", "correct-horse-1")
    alice.email = "alice@elsewhere.example"
    alice.save()
    assert refresh_status(token) == 200


def test_logging_out_of_the_dashboard_blacklists_the_users_refresh_tokens(alice, bob) -> None:
    token = issue_refresh("alice", "correct-horse-1")
    bobs = issue_refresh("bob", "battery-staple-2")
    client = Client()
    client.force_login(alice)
    assert client.post("/accounts/logout/").status_code == 302
    assert refresh_status(token) == 401
    assert refresh_status(bobs) == 200


def test_revoking_twice_adds_no_rows(alice) -> None:
    issue_refresh("alice", "correct-horse-1")
    client = Client()
    for _ in range(2):
        client.force_login(alice)
        client.post("/accounts/logout/")
    assert BlacklistedToken.objects.count() == OutstandingToken.objects.count() == 1
