"""The test session pages: Get a URL, the public page, claiming after sign-up."""

import pytest

from endpoints.models import Endpoint
from testsessions.models import TestSession

pytestmark = pytest.mark.django_db


def test_the_login_page_offers_a_url_without_an_account(client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/t/"' in page
    assert "Get a URL" in page


def test_get_a_url_opens_a_session_and_shows_its_page(client) -> None:
    answer = client.post("/t/")

    session = TestSession.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/t/{session.public_id}/"
    page = client.get(answer["Location"]).content.decode()
    assert session.endpoint.ingest_url in page
    assert f'data-ws-url="/v1/ws/test/{session.public_id}"' in page
    assert "<script>" not in page  # CSP-friendly: scripts come from static files only
    assert f"/accounts/signup/?next=/t/{session.public_id}/claim/" in page


def test_get_a_url_needs_a_post_with_a_csrf_token() -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get("/t/").status_code == 405
    assert strict.post("/t/").status_code == 403
    assert not TestSession.objects.exists()


def test_it_refuses_past_the_hourly_allowance_with_a_page(client, settings) -> None:
    settings.TEST_SESSIONS_PER_IP_PER_HOUR = 1
    ip = "198.51.100.23"
    assert client.post("/t/", REMOTE_ADDR=ip).status_code == 302

    refused = client.post("/t/", REMOTE_ADDR=ip)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert b"Too many test sessions" in refused.content


def test_an_unknown_session_page_is_404(client) -> None:
    assert client.get("/t/ts_nothinghere00000000000000/").status_code == 404
    assert client.get("/t/ep_nothinghere/").status_code == 404


def test_sign_up_returns_to_the_claim_page(client) -> None:
    session = TestSession.open(None)
    claim_path = f"/t/{session.public_id}/claim/"
    form = client.get(f"/accounts/signup/?next={claim_path}").content.decode()
    assert f'name="next" value="{claim_path}"' in form

    answer = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "c@example.com", "password1": "correct-horse-9", "password2": "correct-horse-9",
         "next": claim_path},
    )

    assert answer["Location"] == claim_path


def test_sign_up_never_redirects_off_site(client) -> None:
    answer = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "c@example.com", "password1": "correct-horse-9", "password2": "correct-horse-9",
         "next": "https://evil.example/"},
    )
    assert answer["Location"] == "/"


def test_claiming_needs_a_sign_in(client) -> None:
    session = TestSession.open(None)
    answer = client.post(f"/t/{session.public_id}/claim/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")
    assert Endpoint.objects.get(pk=session.endpoint_id).owner is None


def test_claiming_moves_the_session_to_the_account(alice_client, alice) -> None:
    session = TestSession.open(None)
    assert b"Move it to my account" in alice_client.get(f"/t/{session.public_id}/claim/").content

    answer = alice_client.post(f"/t/{session.public_id}/claim/")

    endpoint = Endpoint.objects.get(owner=alice)
    assert answer["Location"] == f"/endpoints/{endpoint.public_id}/"
    assert alice_client.get(f"/t/{session.public_id}/").status_code == 404
