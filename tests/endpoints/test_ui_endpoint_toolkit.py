"""The endpoint pages' toolkit parts: verification, dedup, handshakes, rotation, event search."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from endpoints.models import Endpoint
from events import search
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db

BASE = {"name": "Stripe", "destination_url": "", "retry_schedule": "60", "timeout_seconds": "10"}


def test_the_form_saves_verification_dedup_and_handshakes(alice_client: Client, alice) -> None:
    response = alice_client.post("/endpoints/new/", {
        **BASE, "verify_scheme": "stripe", "verify_mode": "reject", "verify_secret": "whsec_from_stripe",
        "dedup_window": "600", "dedup_on_repeat": "drop", "handshakes": "on", "rotation_overlap": "3600",
    })
    assert response.status_code == 302
    endpoint = Endpoint.objects.get(owner=alice)
    assert (endpoint.verification_scheme, endpoint.verification_mode) == ("stripe", "reject")
    assert endpoint.verification_secret == "whsec_from_stripe"
    assert (endpoint.dedup_window_seconds, endpoint.dedup_action) == (600, "drop")
    assert endpoint.handshakes and endpoint.rotation_overlap == 3600


def test_the_verification_secret_is_never_shown_again(alice_client: Client, alice) -> None:
    endpoint = Endpoint(owner=alice, name="Stripe", verification_scheme="stripe", verification_mode="flag")
    endpoint.verification_secret = "whsec_never_shown"
    endpoint.save()
    for path in (f"/endpoints/{endpoint.public_id}/", f"/endpoints/{endpoint.public_id}/edit/"):
        assert "whsec_never_shown" not in alice_client.get(path).content.decode()


def test_editing_without_a_secret_keeps_the_stored_one(alice_client: Client, alice) -> None:
    endpoint = Endpoint(owner=alice, name="Stripe", verification_scheme="github", verification_mode="flag")
    endpoint.verification_secret = "kept"
    endpoint.save()
    response = alice_client.post(
        f"/endpoints/{endpoint.public_id}/edit/", {**BASE, "verify_scheme": "github", "verify_mode": "reject"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.verification_secret == "kept" and endpoint.verification_mode == "reject"


def test_a_scheme_without_a_secret_is_refused_with_the_reason(alice_client: Client, alice) -> None:
    response = alice_client.post("/endpoints/new/", {**BASE, "verify_scheme": "hmac", "verify_mode": "flag", "verify_secret": "k"})
    assert response.status_code == 200
    assert "The hmac scheme needs `header`" in response.content.decode()
    response = alice_client.post("/endpoints/new/", {**BASE, "verify_scheme": "slack", "verify_mode": "flag"})
    assert "The slack scheme needs the provider&#x27;s `secret`." in response.content.decode()
    assert not Endpoint.objects.exists()


def test_the_page_shows_when_the_old_signing_secret_stops(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe", rotation_overlap=7200)
    response = alice_client.post(f"/endpoints/{endpoint.public_id}/rotate-secret/", follow=True)
    endpoint.refresh_from_db()
    stops = endpoint.previous_secret_expires_at
    assert stops is not None and timedelta(seconds=7190) < stops - timezone.now() <= timedelta(seconds=7200)
    html = response.content.decode()
    assert f'datetime="{stops.isoformat()}"' in html
    assert "both signatures travel in <code>webhook-signature</code> until then" in html


def test_the_events_list_shows_type_and_verdict_and_can_be_searched(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    headers = [["content-type", "application/json"]]
    wanted = make_event(
        endpoint, b'{"customer": "ada"}', headers=headers, event_type="invoice.paid",
        signature={"scheme": "stripe", "verdict": "invalid", "detail": "no v1 signature matches the body"},
    )
    other = make_event(endpoint, b'{"customer": "bob"}', headers=headers)
    search.index([wanted, other])
    html = alice_client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert '<span class="badge" data-verdict="invalid" title="stripe: no v1 signature matches the body">stripe invalid</span>' in html
    assert "<code>invoice.paid</code>" in html
    found = alice_client.get(f"/endpoints/{endpoint.public_id}/", {"q": "ADA", "verdict": "invalid"}).content.decode()
    assert wanted.public_id in found and other.public_id not in found
    by_type = alice_client.get(f"/endpoints/{endpoint.public_id}/", {"event_type": "invoice.paid"}).content.decode()
    assert wanted.public_id in by_type and other.public_id not in by_type


def test_a_bad_search_filter_says_why_and_lists_everything(alice_client: Client, alice) -> None:
    endpoint = Endpoint.objects.create(owner=alice, name="Stripe")
    event = make_event(endpoint)
    html = alice_client.get(f"/endpoints/{endpoint.public_id}/", {"verdict": "maybe"}).content.decode()
    assert "Unknown verdict" in html and event.public_id in html
