"""The hourly task forgets refresh tokens that expired on their own."""

from datetime import timedelta

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tasks import delete_expired_tokens


def issue_refresh() -> str:
    r = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "correct-horse-1"}, format="json")
    return r.json()["refresh"]


def test_it_deletes_expired_refresh_tokens_and_their_blacklist_rows(alice):
    old = issue_refresh()
    APIClient().post("/api/v1/auth/logout/", {"refresh": old}, format="json")
    with time_machine.travel(timezone.now() + timedelta(hours=23), tick=False):
        issue_refresh()
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1), tick=False):
        assert delete_expired_tokens.apply().get() == 2  # the token and its blacklist row
    assert OutstandingToken.objects.count() == 1
    assert BlacklistedToken.objects.count() == 0
