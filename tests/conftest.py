import os
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.support.flush import retry_flush_on_deadlock
from tests.support.offline import sitecustomize as offline
from tests.support.receiver import Receiver
from tests.support.stack import Stack

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

retry_flush_on_deadlock()

# No test reaches past this machine: this process is guarded by the import
# above, and every process a test starts imports the same guard at start-up.
os.environ["PYTHONPATH"] = os.pathsep.join(
    part for part in (str(Path(offline.__file__).parent), os.environ.get("PYTHONPATH", "")) if part
)


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", "alice@example.test", "correct-horse-1")


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", "bob@example.test", "battery-staple-2")


@pytest.fixture
def alice_client(client, alice):
    """The Django test client, signed in as alice."""
    client.force_login(alice)
    return client


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Real web, Celery worker and beat processes on the test database.

    Tests that use it need committed rows (transactional_db) so the other
    processes can see them.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    running = Stack(name, tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


@pytest.fixture
def server(stack):
    stack.start_web()
    return stack


@pytest.fixture
def worker(stack):
    stack.start_worker()
    return stack


@pytest.fixture
def no_worker(stack):
    """For tests that forward in their own process on committed rows: a
    worker left running by an earlier test would claim the same due events
    (its engine looks for them on its own)."""
    stack.worker.stop()
    return stack


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
