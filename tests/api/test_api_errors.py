"""Every answer under /api/ is JSON, including those DRF never sees."""

import pytest
import requests
from django.test import RequestFactory
from rest_framework_simplejwt.tokens import AccessToken

from config.api_errors import server_error


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/endpoints/ep_x/nothing/", "/api/v2/", "/api/x"])
def test_a_post_with_a_bearer_token_to_an_unknown_api_path_is_a_json_404(server, alice, path):
    answer = requests.post(
        server.url + path, headers={"Authorization": f"Bearer {AccessToken.for_user(alice)}"}, json={}, timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": "Not found."}


@pytest.mark.django_db(transaction=True)
def test_a_refused_host_header_under_the_api_is_a_json_400(server):
    answer = requests.get(server.url + "/api/v1/endpoints/", headers={"Host": "evil.example.test"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Bad request."}


@pytest.mark.django_db(transaction=True)
def test_the_site_outside_the_api_keeps_its_html_pages(server):
    answer = requests.get(server.url + "/no-such-page/", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")


def test_a_server_error_under_the_api_is_json():
    answer = server_error(RequestFactory().get("/api/v1/endpoints/"))
    assert answer.status_code == 500
    assert answer["content-type"] == "application/json"
    assert answer.content == b'{"detail": "Server error."}'
