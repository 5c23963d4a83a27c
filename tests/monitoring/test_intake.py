"""What ingest tells monitoring, through the real server and worker."""

import pytest
import requests
from django.db.models import Sum
from django.utils import timezone

from endpoints.models import Endpoint
from monitoring import rollups
from monitoring.intake import resolve_pointer
from monitoring.models import Alert, AlertType, Rollup
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox(alice) -> Endpoint:
    return Endpoint.objects.create(
        owner=alice, name="Inbox", monitoring={"required_fields": ["/id", "/data/object"], "max_body_bytes": 200}
    )


def post(server, endpoint: Endpoint, body: bytes, **headers: str) -> None:
    headers.setdefault("content-type", "application/json")
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200


def counted(endpoint: Endpoint, *names: str) -> dict:
    rollups.flush(timezone.now())
    return Rollup.objects.filter(endpoint=endpoint, minutes=1).aggregate(**{name: Sum(name) for name in names})


def open_alert(endpoint: Endpoint, type_: str) -> Alert:
    return wait_until(
        lambda: Alert.objects.filter(endpoint=endpoint, type=type_, state="open").first(), timeout=20,
        message=f"{type_} alert",
    )


def test_every_stored_event_is_counted(server, inbox) -> None:
    for n in range(3):
        post(server, inbox, b'{"id": %d, "data": {"object": 1}}' % n)
    assert wait_until(lambda: counted(inbox, "events")["events"] == 3, message="3 events counted")


def test_invalid_json_opens_an_integrity_alert_at_once(server, worker, inbox) -> None:
    post(server, inbox, b'{"id": 1, "data": ')
    alert = open_alert(inbox, AlertType.INTEGRITY)
    assert "not valid JSON" in alert.detail


def test_a_missing_required_field_opens_an_integrity_alert(server, worker, inbox) -> None:
    post(server, inbox, b'{"id": 1, "data": {"object": null}}')
    assert "/data/object is null" in open_alert(inbox, AlertType.INTEGRITY).detail


def test_an_oversize_body_opens_an_integrity_alert(server, worker, inbox) -> None:
    post(server, inbox, b'{"id": 1, "data": {"object": "%s"}}' % (b"x" * 300))
    assert "over the 200-byte limit" in open_alert(inbox, AlertType.INTEGRITY).detail


def test_a_well_formed_event_opens_nothing(server, worker, inbox) -> None:
    post(server, inbox, b'{"id": 1, "data": {"object": {"amount": 5}}}')
    assert wait_until(lambda: counted(inbox, "events")["events"] == 1, message="the event counted")
    assert counted(inbox, "integrity")["integrity"] == 0
    assert not Alert.objects.exists()


def test_the_same_payload_twice_opens_duplicates_and_three_times_counts_a_retry(server, worker, inbox) -> None:
    body = b'{"id": "evt_same", "data": {"object": 1}}'
    for _ in range(3):
        post(server, inbox, body)
    open_alert(inbox, AlertType.DUPLICATES)
    # Each web process carries its repeat counts for up to a second, so the
    # second request's duplicate may land after the third's retry.
    expected = {"duplicates": 2, "retries": 1}
    assert wait_until(lambda: counted(inbox, "duplicates", "retries") == expected, message=f"{expected} counted")


def test_a_providers_retry_header_counts_as_a_redelivery(server, inbox) -> None:
    post(server, inbox, b'{"id": 1, "data": {"object": 1}}', **{"Stripe-Webhook-Delivery-Attempt": "2"})
    assert wait_until(lambda: counted(inbox, "retries")["retries"] == 1, message="a retry counted")


def test_the_same_delivery_id_with_another_body_is_a_duplicate(server, inbox) -> None:
    post(server, inbox, b'{"id": 1, "data": {"object": 1}}', **{"X-GitHub-Delivery": "d-1"})
    post(server, inbox, b'{"id": 2, "data": {"object": 1}}', **{"X-GitHub-Delivery": "d-1"})
    assert wait_until(lambda: counted(inbox, "duplicates")["duplicates"] == 1, message="a duplicate counted")


def test_json_pointers_follow_rfc_6901() -> None:
    document = {"a/b": {"m~n": [10, 20]}, "": 1}
    assert resolve_pointer(document, "/a~1b/m~0n/1") == (True, 20)
    assert resolve_pointer(document, "/") == (True, 1)
    assert resolve_pointer(document, "/a~1b/m~0n/2") == (False, None)
    assert resolve_pointer(document, "/missing") == (False, None)


def test_a_burst_of_bad_signatures_opens_signature_failures_at_once(server, worker, alice) -> None:
    signed = Endpoint(owner=alice, name="Signed", verification_scheme="github", verification_mode="flag")
    signed.verification_secret = "s3cret"
    signed.save()
    for n in range(3):
        post(server, signed, b'{"id": %d}' % n, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    alert = open_alert(signed, AlertType.SIGNATURE_FAILURES)
    assert "3 requests failed signature verification" in alert.detail
    assert counted(signed, "signature_failures") == {"signature_failures": 3}


def test_a_duplicate_found_by_ingests_dedup_counts_here(server, worker, alice) -> None:
    deduped = Endpoint.objects.create(owner=alice, name="Dedup", dedup_window_seconds=3600, dedup_action="flag")
    post(server, deduped, b'{"id": "evt_1", "n": 1}', **{"Stripe-Signature": "t=1,v1=x"})
    post(server, deduped, b'{"id": "evt_1", "n": 2}', **{"Stripe-Signature": "t=1,v1=x"})
    open_alert(deduped, AlertType.DUPLICATES)
