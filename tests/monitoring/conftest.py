import pytest

from monitoring import counters
from tests.api.conftest import alice_api, bob_api  # noqa: F401  (shared fixtures)
from tests.realtime.conftest import alice_token, bob_token, sockets  # noqa: F401


@pytest.fixture(autouse=True)
def clean_counters(redis_client):
    """Each test starts with no live counters (the run's prefix is shared by its tests)."""
    for key in redis_client.scan_iter(match=f"{counters.prefix()}:*", count=1000):
        redis_client.delete(key)
    yield


@pytest.fixture
def endpoint(alice):
    from endpoints.models import Endpoint

    return Endpoint.objects.create(owner=alice, name="Shop", destination_url="https://shop.example.test/hooks")
