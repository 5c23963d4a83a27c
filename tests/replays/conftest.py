import pytest
import requests

from endpoints.models import ApiKey


class Api:
    """The real server's REST API, as a script with an API key calls it."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = key

    def post(self, path: str, payload: dict | None = None) -> requests.Response:
        return self.session.post(self.base_url + path, json=payload, timeout=10)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=10)


@pytest.fixture
def alice_key(alice) -> str:
    return ApiKey.issue(alice, "tests")[1]


@pytest.fixture
def api(server, alice_key) -> Api:
    return Api(server.url, alice_key)
