"""The README's "Debugging webhooks" walkthrough, step by step against the real stack:
a Stripe-signed request, its verdict, an edited replay, forwarded to "localhost" by `hookline listen`."""

import json

import pytest
import requests

from endpoints.models import Endpoint
from tests.cli.support import Cli
from tests.support import providers
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_from_stripe"


def test_a_signed_webhook_is_verified_edited_and_replayed_to_localhost(
    server, api, alice_key, alice, receiver, tmp_path
) -> None:
    # 1. An inbox that checks Stripe's signatures (flag: store and stream every request).
    created = api.post(
        "/api/v1/endpoints/",
        {"name": "stripe", "verification": {"scheme": "stripe", "secret": SECRET, "mode": "flag"}},
    )
    assert created.status_code == 201, created.text
    endpoint = Endpoint.objects.get(public_id=created.json()["id"])

    # 2. `hookline listen` forwards everything it streams to the local app.
    cli = Cli(
        ["listen", endpoint.public_id, "--forward-to", receiver.url + "/webhooks", "--server", server.url,
         "--token", alice_key],
        tmp_path,
    )
    try:
        cli.wait_ready()

        # 3. Stripe (here: a request signed the way Stripe signs) sends a webhook.
        body = json.dumps({"id": "evt_1", "type": "charge.succeeded", "data": {"amount": 1200}}).encode()
        answer = requests.post(
            created.json()["ingest_url"], data=body, timeout=10,
            headers={"content-type": "application/json", **providers.stripe_headers(SECRET, body)},
        )
        original_id = answer.json()["event_id"]

        # 4. The verdict.
        event = api.get(f"/api/v1/events/{original_id}/").json()
        assert event["signature"]["verdict"] == "valid"
        assert event["event_type"] == "charge.succeeded"
        (first,) = receiver.wait_for(1)
        assert first.body == body

        # 5. Edit the body and replay it: a new event, which listen forwards too.
        edited = '{"id": "evt_1", "type": "charge.succeeded", "data": {"amount": 999}}'
        replayed = api.post(f"/api/v1/events/{original_id}/replay/", {"body": edited})
        assert replayed.status_code == 202, replayed.text
        assert replayed.json()["replay_of"] == original_id
        copy_id = replayed.json()["event_id"]
        second = receiver.wait_for(2)[1]
        assert (second.path, second.body) == ("/webhooks", edited.encode())
        assert second.header("stripe-signature") == first.header("stripe-signature")
        wait_until(lambda: cli.lines_with(copy_id), message="listen's line for the copy")
        assert "-> 200" in cli.lines_with(copy_id)[0]
    finally:
        cli.stop()
