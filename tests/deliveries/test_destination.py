"""The forwarded request's URL and headers (deliveries/destination.py), sent to a real receiver."""

import pytest
from django.utils import timezone

from deliveries import destination, engine
from endpoints.models import Endpoint
from events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture
def endpoint(alice, receiver):
    return Endpoint.objects.create(
        owner=alice, name="Dest", destination_url=receiver.url + "/hooks/receiver?k=v", timeout_seconds=2
    )


def forwarded_path(endpoint: Endpoint, receiver, path: str, query: str = "", headers=None) -> str:
    now = timezone.now()
    event = Event.objects.create(
        endpoint=endpoint, method="POST", path=path, query=query, headers=headers or [], body=b"{}", size=2,
        received_at=now, next_attempt_at=now,
    )
    engine.forward(event.pk)
    return receiver.wait_for(1)[0].path


def test_encoded_question_mark_and_hash_stay_inside_the_path(endpoint, receiver):
    assert forwarded_path(endpoint, receiver, "admin%3Fx=1%23frag") == "/hooks/receiver/admin%3Fx=1%23frag?k=v"


def test_an_encoded_slash_stays_encoded(endpoint, receiver):
    assert forwarded_path(endpoint, receiver, "a%2Fb/c", "q=1") == "/hooks/receiver/a%2Fb/c?k=v&q=1"


def test_a_stored_decoded_sub_path_is_encoded_again_and_never_climbs_out(endpoint, receiver):
    # Rows stored before ingest kept the raw path hold it decoded.
    sent = forwarded_path(endpoint, receiver, "../../admin?x=1#frag")
    assert sent == "/hooks/receiver/admin%3Fx=1%23frag?k=v"


def test_stored_encoded_dot_segments_resolve_inside_the_destination_path(endpoint, receiver):
    sent = forwarded_path(endpoint, receiver, "a/%2e%2e/%2E%2e/%2e%2e/admin/.%2e;x/b")
    assert sent == "/hooks/receiver/admin/b?k=v"


def test_a_hash_in_the_query_cannot_become_a_fragment(endpoint, receiver):
    assert forwarded_path(endpoint, receiver, "", "a=1#b") == "/hooks/receiver?k=v&a=1%23b"


def test_non_ascii_bytes_are_percent_encoded(endpoint, receiver):
    assert forwarded_path(endpoint, receiver, "café", "name=\xe9") == "/hooks/receiver/caf%C3%A9?k=v&name=%E9"


def test_every_forward_carries_the_hop_count_one_higher(endpoint, receiver):
    forwarded_path(endpoint, receiver, "", headers=[["X-Hookline-Hops", "2"], ["x-hookline-hops", "junk"]])
    assert receiver.requests[0].header("x-hookline-hops") == "3"


def test_a_first_forward_carries_one_hop(endpoint, receiver):
    forwarded_path(endpoint, receiver, "")
    assert receiver.requests[0].header("x-hookline-hops") == "1"


@pytest.mark.parametrize(
    "sub_path",
    ["..", ".", "a/../b", "%2e%2e", "%2E%2e/x", ".%2e", "..;jsessionid=1", "a/..%2Fadmin", "..%5Cadmin",
     "%252e%252e", "a%00b"],
)
def test_a_sub_path_that_hides_a_dot_segment_or_nul_is_unsafe(sub_path):
    assert destination.sub_path_problem(sub_path)


@pytest.mark.parametrize("sub_path", ["", "a/b", "v1.2/..x", "...", "a%2Fb", "x%3Fy=1%23z", ".well-known/a"])
def test_ordinary_sub_paths_are_safe(sub_path):
    assert destination.sub_path_problem(sub_path) is None
