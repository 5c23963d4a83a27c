"""Malformed requests get a clear answer and never hurt other senders."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from endpoints.models import Endpoint
from events.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def test_a_token_that_cannot_be_ours_is_404_without_a_query(server, inbox):
    for path in ("/in/%00", "/in/" + "a" * 33, "/in/ABC", "/in/"):
        assert requests.post(server.url + path, data=b"{}", timeout=10).status_code == 404
    assert Event.objects.count() == 0


def test_a_nul_in_the_sub_path_is_refused_alone_while_others_are_stored(server, inbox):
    good = f"{server.url}/in/{inbox.ingest_token}/fine"
    bad = f"{server.url}/in/{inbox.ingest_token}/a%00b"

    def post(i: int) -> int:
        return requests.post(bad if i % 4 == 0 else good, data=b"{}", timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(post, range(80)))
    assert codes.count(400) == 20
    assert codes.count(200) == 60
    assert Event.objects.count() == 60


def test_the_400_says_why(server, inbox):
    answer = requests.post(f"{server.url}/in/{inbox.ingest_token}/a%00b", data=b"{}", timeout=10)
    assert answer.status_code == 400
    assert "cannot be stored" in answer.json()["detail"]


def test_a_long_sub_path_is_stored_whole(server, inbox):
    sub = "x" * 3000
    assert requests.post(f"{server.url}/in/{inbox.ingest_token}/{sub}", data=b"{}", timeout=10).status_code == 200
    assert Event.objects.get().path == sub
