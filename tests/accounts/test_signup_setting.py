"""SIGNUP_ENABLED: on by default; off, a private install has no sign-up at all."""

from django.contrib.auth import get_user_model
from django.test import Client

FORM = {"username": "carol", "email": "carol@example.com", "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"}


def test_sign_up_is_open_by_default(client: Client, db) -> None:
    assert client.get("/accounts/signup/").status_code == 200
    assert 'href="/accounts/signup/"' in client.get("/accounts/login/").content.decode()


def test_with_sign_up_off_the_page_is_404_and_nothing_is_created(client: Client, db, settings) -> None:
    settings.SIGNUP_ENABLED = False
    assert client.get("/accounts/signup/").status_code == 404
    assert client.post("/accounts/signup/", FORM).status_code == 404
    assert not get_user_model().objects.filter(username="carol").exists()


def test_with_sign_up_off_no_page_links_to_it(client: Client, db, settings) -> None:
    settings.SIGNUP_ENABLED = False
    login_page = client.get("/accounts/login/").content.decode()
    assert login_page.count("/accounts/signup/") == 0
    assert "Log in" in login_page
