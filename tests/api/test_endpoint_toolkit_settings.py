"""`verification`, `dedup`, `handshakes` and `rotation_overlap` on /api/v1/endpoints/."""

import pytest

from endpoints.models import Endpoint

pytestmark = pytest.mark.django_db

STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def create(api, **fields):
    return api.post("/api/v1/endpoints/", {"name": "Stripe", **fields}, format="json")


def test_a_verification_secret_is_write_only_and_encrypted_at_rest(alice_api):
    response = create(alice_api, verification={"scheme": "stripe", "secret": "whsec_stripe_123", "mode": "reject"})
    assert response.status_code == 201, response.json()
    assert response.json()["verification"] == {"scheme": "stripe", "mode": "reject", "secret_set": True}
    assert "whsec_stripe_123" not in response.content.decode()
    endpoint = Endpoint.objects.get(public_id=response.json()["id"])
    assert "whsec_stripe_123" not in endpoint.verification_secret_encrypted
    assert endpoint.verification_secret == "whsec_stripe_123"
    shown = alice_api.get(f"/api/v1/endpoints/{endpoint.public_id}/").json()
    assert "whsec_stripe_123" not in str(shown)


def test_an_endpoint_verifies_nothing_by_default(alice_api):
    body = create(alice_api).json()
    assert body["verification"] == {"scheme": None, "mode": "off", "secret_set": False}
    assert body["dedup"] == {"window_seconds": 0, "action": "flag"}
    assert body["handshakes"] is False
    assert body["rotation_overlap"] == 86400
    assert body["previous_secret_expires_at"] is None


def test_the_hmac_scheme_keeps_its_header_algorithm_encoding_and_prefix(alice_api):
    verification = {
        "scheme": "hmac", "secret": "k", "mode": "flag", "header": "X-Signature",
        "algorithm": "sha512", "encoding": "base64", "prefix": "sha512=",
    }
    body = create(alice_api, verification=verification).json()
    assert body["verification"] == {
        "scheme": "hmac", "mode": "flag", "secret_set": True, "header": "X-Signature",
        "algorithm": "sha512", "encoding": "base64", "prefix": "sha512=",
    }


def test_patching_without_a_secret_keeps_the_stored_one(alice, alice_api):
    endpoint_id = create(alice_api, verification={"scheme": "github", "secret": "gh-secret"}).json()["id"]
    response = alice_api.patch(
        f"/api/v1/endpoints/{endpoint_id}/", {"verification": {"scheme": "github", "mode": "reject"}}, format="json"
    )
    assert response.status_code == 200
    endpoint = Endpoint.objects.get(public_id=endpoint_id)
    assert endpoint.verification_secret == "gh-secret"
    assert endpoint.verification_mode == "reject"


def test_null_turns_verification_off_and_forgets_the_secret(alice_api):
    endpoint_id = create(alice_api, verification={"scheme": "github", "secret": "gh-secret"}).json()["id"]
    response = alice_api.patch(f"/api/v1/endpoints/{endpoint_id}/", {"verification": None}, format="json")
    assert response.json()["verification"] == {"scheme": None, "mode": "off", "secret_set": False}
    assert Endpoint.objects.get(public_id=endpoint_id).verification_secret_encrypted == ""


@pytest.mark.parametrize(
    "verification, message",
    [
        ({"scheme": "paypal", "secret": "x"}, "Unknown scheme 'paypal'"),
        ({"scheme": "github", "secret": "x", "mode": "loud"}, "`mode` must be one of off, flag, reject."),
        ({"scheme": "github"}, "The github scheme needs the provider's `secret`."),
        ({"scheme": "github", "secret": ""}, "`secret` must be text of 1 to 500 characters."),
        ({"scheme": "standard", "secret": "not base64!"}, "A Standard Webhooks secret is `whsec_` followed by base64."),
        ({"scheme": "hmac", "secret": "x"}, "The hmac scheme needs `header`"),
        ({"scheme": "hmac", "secret": "x", "header": "X-Sig", "algorithm": "md5"}, "`algorithm` must be one of"),
        ({"scheme": "hmac", "secret": "x", "header": "X-Sig", "encoding": "base32"}, "`encoding` must be one of"),
        ({"scheme": "hmac", "secret": "x", "header": "Bad Header"}, "The hmac scheme needs `header`"),
        ({"scheme": "github", "secret": "x", "colour": "red"}, "Unknown verification field(s): colour."),
        ("github", "`verification` must be an object"),
    ],
)
def test_a_malformed_verification_is_a_clear_400_and_nothing_is_created(alice_api, verification, message):
    response = create(alice_api, verification=verification)
    assert response.status_code == 400
    assert message in response.json()["detail"]["verification"][0]
    assert Endpoint.objects.count() == 0


def test_a_standard_webhooks_secret_is_accepted(alice_api):
    response = create(alice_api, verification={"scheme": "standard", "secret": STANDARD_SECRET})
    assert response.status_code == 201


def test_dedup_and_handshakes_are_saved(alice_api):
    body = create(alice_api, dedup={"window_seconds": 3600, "action": "drop"}, handshakes=True).json()
    assert body["dedup"] == {"window_seconds": 3600, "action": "drop"}
    assert body["handshakes"] is True


@pytest.mark.parametrize(
    "dedup, message",
    [
        ({"window_seconds": -1}, "`window_seconds` must be whole seconds from 0 to 604800"),
        ({"window_seconds": "60"}, "`window_seconds` must be whole seconds"),
        ({"window_seconds": 60, "action": "ignore"}, "`action` must be one of flag, drop."),
        ({"window_seconds": 60, "key": "x"}, "Unknown dedup field(s): key."),
        ([60], "`dedup` must be an object"),
    ],
)
def test_a_malformed_dedup_is_a_clear_400(alice_api, dedup, message):
    response = create(alice_api, dedup=dedup)
    assert response.status_code == 400
    assert message in response.json()["detail"]["dedup"][0]


def test_rotating_the_secret_keeps_the_old_one_for_the_overlap(alice, alice_api):
    created = create(alice_api, rotation_overlap=3600).json()
    response = alice_api.post(f"/api/v1/endpoints/{created['id']}/rotate-secret/")
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["signing_secret"] != created["signing_secret"]
    assert rotated["previous_secret_expires_at"] is not None
    endpoint = Endpoint.objects.get(public_id=created["id"])
    assert endpoint.previous_signing_secret == created["signing_secret"]


def test_a_zero_overlap_drops_the_old_secret_at_once(alice_api):
    created = create(alice_api, rotation_overlap=0).json()
    rotated = alice_api.post(f"/api/v1/endpoints/{created['id']}/rotate-secret/").json()
    assert rotated["previous_secret_expires_at"] is None
    assert Endpoint.objects.get(public_id=created["id"]).previous_signing_secret == ""


def test_another_users_endpoint_cannot_be_rotated(alice_api, bob):
    theirs = Endpoint.objects.create(owner=bob, name="Bob's")
    secret = theirs.signing_secret
    assert alice_api.post(f"/api/v1/endpoints/{theirs.public_id}/rotate-secret/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.signing_secret == secret


def test_rotation_overlap_is_bounded(alice_api):
    response = create(alice_api, rotation_overlap=10**9)
    assert response.status_code == 400
    assert "rotation_overlap" in response.json()["detail"]


@pytest.mark.parametrize(
    "verification",
    [
        {"scheme": ["stripe"], "secret": "s"},
        {"scheme": "hmac", "secret": "s", "header": "x-sig", "algorithm": {}},
        {"scheme": "hmac", "secret": "s", "header": "x-sig", "encoding": []},
    ],
)
def test_a_verification_option_of_the_wrong_type_is_a_400_not_a_500(alice_api, verification):
    # Found by schemathesis: a dict or list here used to raise TypeError (unhashable).
    response = create(alice_api, verification=verification)
    assert response.status_code == 400
    assert list(response.json()["detail"]) == ["verification"]
