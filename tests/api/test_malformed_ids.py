"""Ids and parameters that cannot be ours are 404/400, never 500 or 503."""

import pytest

from endpoints.models import Endpoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/v1/events/%00/", "/api/v1/endpoints/%00/", "/api/v1/events/evt_%00/deliveries/", "/api/v1/api-keys/%00/"],
)
def test_a_malformed_id_is_404(alice_api, path):
    answer = alice_api.get(path) if "api-keys" not in path else alice_api.delete(path)
    assert answer.status_code == 404
    assert answer["content-type"].startswith("application/json")


def test_a_malformed_endpoint_filter_is_404_and_a_malformed_since_is_400(alice_api):
    assert alice_api.get("/api/v1/events/", {"endpoint": "ep_\x00"}).status_code == 404
    answer = alice_api.get("/api/v1/events/", {"since": "evt_\x00"})
    assert answer.status_code == 400
    assert "since" in answer.json()["detail"]


@pytest.mark.parametrize("value", ["text/\u2192", "text/plain\r\nX-Injected: 1"])
def test_a_content_type_that_cannot_be_a_header_is_400(alice_api, value):
    answer = alice_api.post("/api/v1/endpoints/", {"name": "x", "response_content_type": value}, format="json")
    assert answer.status_code == 400
    assert "response_content_type" in answer.json()["detail"]
    assert Endpoint.objects.count() == 0
