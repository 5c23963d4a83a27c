"""`GET /api/v1/alerts/` with its filters, scoped to the caller."""

import pytest

from endpoints.models import Endpoint
from monitoring.models import Alert, AlertType

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(alice, bob):
    shop = Endpoint.objects.create(owner=alice, name="Shop")
    billing = Endpoint.objects.create(owner=alice, name="Billing")
    theirs = Endpoint.objects.create(owner=bob, name="Theirs")
    resolved = Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    resolved.resolve()
    return {
        "shop": shop, "billing": billing, "theirs": theirs, "resolved": resolved,
        "open": Alert.raise_for(shop, AlertType.INTEGRITY, "bad JSON"),
        "billing_open": Alert.raise_for(billing, AlertType.TIMEOUTS, "slow"),
        "bobs": Alert.raise_for(theirs, AlertType.INTEGRITY, "bad JSON"),
    }


def ids(answer) -> set[str]:
    assert answer.status_code == 200, answer.json()
    return {item["id"] for item in answer.json()["results"]}


def test_it_lists_only_the_callers_alerts_with_the_contract_fields(alice_api, alerts) -> None:
    answer = alice_api.get("/api/v1/alerts/")
    assert ids(answer) == {alerts[k].public_id for k in ("resolved", "open", "billing_open")}
    first = answer.json()["results"][0]
    assert set(first) == {"id", "endpoint", "type", "state", "opened_at", "resolved_at", "detail", "count"}


def test_it_filters_by_endpoint_state_and_type(alice_api, alerts) -> None:
    shop = alerts["shop"].public_id
    assert ids(alice_api.get(f"/api/v1/alerts/?endpoint={shop}")) == {
        alerts["resolved"].public_id, alerts["open"].public_id,
    }
    assert ids(alice_api.get("/api/v1/alerts/?state=resolved")) == {alerts["resolved"].public_id}
    assert ids(alice_api.get("/api/v1/alerts/?state=open&type=timeouts")) == {alerts["billing_open"].public_id}


def test_another_users_endpoint_or_alert_is_404(alice_api, alerts) -> None:
    assert alice_api.get(f"/api/v1/alerts/?endpoint={alerts['theirs'].public_id}").status_code == 404
    assert alice_api.get("/api/v1/alerts/?endpoint=not-an-id").status_code == 404
    assert alice_api.get(f"/api/v1/alerts/{alerts['bobs'].public_id}/").status_code == 404
    assert alice_api.get(f"/api/v1/alerts/{alerts['open'].public_id}/").json()["type"] == "integrity"


def test_an_unknown_state_or_type_is_a_400(alice_api, alerts) -> None:
    answer = alice_api.get("/api/v1/alerts/?state=closed")
    assert answer.status_code == 400
    assert "state" in answer.json()["detail"]
    assert alice_api.get("/api/v1/alerts/?type=fire").status_code == 400


def test_it_needs_credentials(client, alerts) -> None:
    assert client.get("/api/v1/alerts/").status_code == 401
