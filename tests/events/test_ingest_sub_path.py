"""The sub-path stays under the destination's path, from ingest to a real receiver."""

import pytest

from endpoints.models import Endpoint
from events.models import Event, EventStatus
from tests.events.test_ingest_answers import raw_request
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def forwarder(alice, receiver):
    return Endpoint.objects.create(
        owner=alice, name="Fwd", destination_url=receiver.url + "/hooks/receiver?k=v", retry_schedule=[3600]
    )


def delivered() -> Event:
    """The one event, once the worker has recorded its attempt (so nothing
    is still writing when the test's database is flushed)."""
    return wait_until(
        lambda: Event.objects.filter(status=EventStatus.DELIVERED).first(), timeout=30, message="the delivery"
    )


@pytest.mark.parametrize(
    "sub_path",
    [
        "%2e%2e/%2e%2e/admin%3Fx=1%23frag",
        "../../admin",
        "a/%2E%2E/%2e%2E/b",
        ".%2e/admin",
        "%2e",
        "..%2f..%2fadmin",
        "..%5cadmin",
        "..;x=1/admin",
        "%252e%252e/admin",
        "a/./b",
    ],
)
def test_a_dot_segment_is_refused_with_400_and_nothing_is_stored_or_sent(server, worker, forwarder, receiver, sub_path):
    status, _, body = raw_request(server, "POST", f"/in/{forwarder.ingest_token}/{sub_path}")
    assert status == 400
    assert "dot segments" in body.decode()
    assert Event.objects.count() == 0
    assert receiver.requests == []


def test_encoded_question_mark_hash_and_slash_reach_the_receiver_still_encoded(server, worker, forwarder, receiver):
    status, _, _ = raw_request(server, "POST", f"/in/{forwarder.ingest_token}/admin%3Fx=1%23frag/a%2Fb?q=2")
    assert status == 200
    assert receiver.wait_for(1)[0].path == "/hooks/receiver/admin%3Fx=1%23frag/a%2Fb?k=v&q=2"
    event = delivered()
    # The stored sub-path is the one the sender sent, escapes included.
    assert (event.path, event.query) == ("admin%3Fx=1%23frag/a%2Fb", "q=2")


def test_a_plain_sub_path_is_stored_and_forwarded_as_before(server, worker, forwarder, receiver):
    status, _, _ = raw_request(server, "POST", f"/in/{forwarder.ingest_token}/stripe/charges.v2/...x")
    assert status == 200
    assert receiver.wait_for(1)[0].path == "/hooks/receiver/stripe/charges.v2/...x?k=v"
    assert delivered().path == "stripe/charges.v2/...x"


def test_raw_non_ascii_and_spaces_are_stored_percent_encoded(server, worker, forwarder, receiver):
    status, _, _ = raw_request(server, "POST", f"/in/{forwarder.ingest_token}/caf%C3%A9/a%20b")
    assert status == 200
    assert receiver.wait_for(1)[0].path == "/hooks/receiver/caf%C3%A9/a%20b?k=v"
    assert delivered().path == "caf%C3%A9/a%20b"
