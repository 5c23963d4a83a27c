"""`/api/v1/channels/`: create, validate, scope to the caller, test button, history."""

import pytest
from standardwebhooks.webhooks import Webhook

from endpoints.models import Endpoint
from monitoring.channels import Channel
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


def create(api, **fields):
    return api.post("/api/v1/channels/", fields, format="json")


def test_it_creates_a_channel_with_the_contract_defaults(alice_api, receiver) -> None:
    answer = create(alice_api, kind="slack", target=receiver.url + "/services/T0/B0/x")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["id"].startswith("chn_")
    assert (body["endpoints"], body["alert_types"], body["cooldown_seconds"], body["notify_resolved"]) == (
        ["*"], [], 600, True,
    )
    assert body["signing_secret"] is None
    channel = Channel.objects.get(public_id=body["id"])
    assert receiver.url not in channel.target_encrypted  # encrypted at rest
    assert channel.target == receiver.url + "/services/T0/B0/x"


def test_a_webhook_channel_gets_a_signing_secret(alice_api, receiver) -> None:
    body = create(alice_api, kind="webhook", target=receiver.url).json()
    assert body["signing_secret"].startswith("whsec_")


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"kind": "sms", "target": "+15550100"}, "kind"),
        ({"kind": "email", "target": "not an address"}, "target"),
        ({"kind": "slack", "target": "ftp://files.example.test/"}, "target"),
        ({"kind": "webhook", "target": "http://169.254.169.254/latest"}, "target"),
        ({"kind": "email", "target": "ops@example.test", "endpoints": []}, "endpoints"),
        ({"kind": "email", "target": "ops@example.test", "alert_types": ["fire"]}, "alert_types"),
        ({"kind": "email", "target": "ops@example.test", "cooldown_seconds": -1}, "cooldown_seconds"),
    ],
)
def test_bad_channels_are_a_400_naming_the_field(alice_api, fields: dict, field: str) -> None:
    answer = create(alice_api, **fields)
    assert answer.status_code == 400
    assert field in answer.json()["detail"]
    assert not Channel.objects.exists()


@pytest.mark.parametrize("theirs_or_unknown", [True, False])
def test_another_users_or_an_unknown_endpoint_cannot_be_in_scope(alice_api, bob, theirs_or_unknown) -> None:
    theirs = Endpoint.objects.create(owner=bob, name="Theirs").public_id if theirs_or_unknown else "ep_nope"
    answer = create(alice_api, kind="email", target="ops@example.test", endpoints=[theirs])
    assert answer.status_code == 404
    assert list(answer.json()["detail"]) == ["endpoints"]
    assert not Channel.objects.exists()


def test_channels_are_private_to_their_owner(alice_api, bob_api) -> None:
    channel = create(alice_api, kind="email", target="ops@example.test").json()
    assert bob_api.get("/api/v1/channels/").json()["results"] == []
    assert bob_api.get(f"/api/v1/channels/{channel['id']}/").status_code == 404
    assert bob_api.post(f"/api/v1/channels/{channel['id']}/test/").status_code == 404
    assert bob_api.delete(f"/api/v1/channels/{channel['id']}/").status_code == 404


def test_patch_and_delete(alice_api, alice) -> None:
    mine = Endpoint.objects.create(owner=alice, name="Mine")
    channel = create(alice_api, kind="email", target="ops@example.test").json()
    answer = alice_api.patch(
        f"/api/v1/channels/{channel['id']}/",
        {"endpoints": [mine.public_id], "alert_types": ["endpoint_down"], "notify_resolved": False},
        format="json",
    )
    assert answer.status_code == 200
    assert (answer.json()["endpoints"], answer.json()["alert_types"]) == ([mine.public_id], ["endpoint_down"])
    assert alice_api.patch(f"/api/v1/channels/{channel['id']}/", {"target": "nope"}, format="json").status_code == 400
    assert alice_api.delete(f"/api/v1/channels/{channel['id']}/").status_code == 204
    assert not Channel.objects.exists()


def test_the_test_button_sends_a_signed_webhook_and_answers_with_its_outcome(alice_api, receiver) -> None:
    channel = create(alice_api, kind="webhook", target=receiver.url + "/alerts").json()
    answer = alice_api.post(f"/api/v1/channels/{channel['id']}/test/")
    assert answer.status_code == 200
    outcome = answer.json()
    assert (outcome["kind"], outcome["state"], outcome["status_code"], outcome["tries"]) == ("test", "sent", 200, 1)
    request = receiver.wait_for(1)[0]
    headers = {name.lower(): value for name, value in request.headers}
    assert Webhook(channel["signing_secret"]).verify(request.body, headers)["type"] == "test"
    assert headers["webhook-id"] == outcome["id"]


def test_a_failing_test_is_reported_and_kept_in_the_history(alice_api, receiver) -> None:
    receiver.script(Reply(500, body=b"no"))
    channel = create(alice_api, kind="slack", target=receiver.url).json()
    outcome = alice_api.post(f"/api/v1/channels/{channel['id']}/test/").json()
    assert (outcome["state"], outcome["status_code"], outcome["error"]) == ("failed", 500, "HTTP 500")
    history = alice_api.get(f"/api/v1/channels/{channel['id']}/notifications/").json()["results"]
    assert [item["id"] for item in history] == [outcome["id"]]


def test_an_email_test_goes_through_djangos_mail_framework(alice_api, mailoutbox) -> None:
    channel = create(alice_api, kind="email", target="ops@example.test").json()
    assert alice_api.post(f"/api/v1/channels/{channel['id']}/test/").json()["state"] == "sent"
    assert [m.to for m in mailoutbox] == [["ops@example.test"]]
    assert mailoutbox[0].subject == "Hookline test notification"


def test_an_apprise_channel_reaches_a_json_service_through_its_url(alice_api, receiver) -> None:
    target = receiver.url.replace("http://", "json://") + "/notify"
    channel = create(alice_api, kind="apprise", target=target).json()
    outcome = alice_api.post(f"/api/v1/channels/{channel['id']}/test/").json()
    assert outcome["state"] == "sent", outcome
    request = receiver.wait_for(1)[0]
    assert request.path == "/notify"
    assert b"this channel works" in request.body


def test_an_apprise_url_apprise_does_not_know_is_a_400(alice_api) -> None:
    answer = create(alice_api, kind="apprise", target="carrier-pigeon://coop/7")
    assert answer.status_code == 400
    assert "not an Apprise URL" in str(answer.json()["detail"])


def test_an_apprise_url_to_a_private_host_is_refused_and_never_sent(alice_api, alice, receiver, settings) -> None:
    settings.ALLOW_PRIVATE_DESTINATIONS = False
    target = receiver.url.replace("http://", "json://")
    assert create(alice_api, kind="apprise", target=target).status_code == 400
    stale = Channel(owner=alice, kind="apprise")  # saved back when private hosts were allowed
    stale.target = target
    stale.save()
    outcome = alice_api.post(f"/api/v1/channels/{stale.public_id}/test/").json()
    assert outcome["state"] == "failed"
    assert "private or loopback" in outcome["error"]
    assert receiver.requests == []
