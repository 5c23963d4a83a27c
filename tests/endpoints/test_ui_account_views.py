import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from endpoints.models import Endpoint

pytestmark = pytest.mark.django_db


def test_signup_page_asks_for_the_contract_fields(client: Client) -> None:
    html = client.get("/accounts/signup/").content.decode()
    for name in ["username", "email", "password1", "password2"]:
        assert f'name="{name}"' in html
    assert "csrfmiddlewaretoken" in html


def test_signup_creates_the_user_signs_them_in_and_redirects_to_the_dashboard(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "carol@example.test", "password1": "pale-moon-river-9", "password2": "pale-moon-river-9"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard") == "/"
    user = get_user_model().objects.get(username="carol")
    assert user.email == "carol@example.test"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/").status_code == 200


def test_signup_requires_an_email(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "", "password1": "pale-moon-river-9", "password2": "pale-moon-river-9"},
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not get_user_model().objects.filter(username="carol").exists()


def test_signup_refuses_an_email_already_in_use(client: Client, alice) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "ALICE@example.test", "password1": "pale-moon-river-9", "password2": "pale-moon-river-9"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_signup_refuses_mismatched_passwords(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "carol@example.test", "password1": "pale-moon-river-9", "password2": "other-moon-river-9"},
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="carol").exists()


def test_login_with_the_right_password_redirects_to_the_dashboard(client: Client, alice) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct-horse-1"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_login_with_a_wrong_password_shows_an_error(client: Client, alice) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_a_post_that_signs_the_user_out(client: Client, alice) -> None:
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_pages_send_anonymous_visitors_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")


def test_the_navigation_links_the_dashboard_endpoints_and_api_docs(client: Client, alice) -> None:
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert 'href="/endpoints/"' in html
    assert 'href="/api/v1/docs/"' in html
    assert 'action="/accounts/logout/"' in html
    assert "alice" in html


def test_signup_without_a_csrf_token_is_forbidden() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "carol@example.test", "password1": "pale-moon-river-9", "password2": "pale-moon-river-9"},
    )
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="carol").exists()


@pytest.mark.parametrize("action", ["endpoint_pause", "endpoint_resume", "endpoint_rotate_secret", "endpoint_delete"])
def test_endpoint_actions_without_a_csrf_token_are_forbidden(alice, action: str) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", paused=action == "endpoint_resume")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse(action, args=[endpoint.public_id]))
    assert response.status_code == 403
    assert Endpoint.objects.filter(pk=endpoint.pk, paused=endpoint.paused).exists()


def test_endpoint_create_with_its_csrf_token_is_accepted(alice) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/endpoints/new/", {"name": "x", "retry_schedule": "60", "timeout_seconds": 5}).status_code == 403
    client.get("/endpoints/new/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/endpoints/new/", {"name": "x", "retry_schedule": "60", "timeout_seconds": 5, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Endpoint.objects.filter(owner=alice, name="x").count() == 1
