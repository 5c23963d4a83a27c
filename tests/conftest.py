import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", "correct-horse-1")


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "battery-staple-2")
