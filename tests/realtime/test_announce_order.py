"""An ingest answer leaves only once its `event.received` is published.

So a sender that waits for each answer before its next request sees its
webhooks streamed in the order it sent them, whichever web process took
each one (the server runs two, and each announces on its own).
"""

import pytest
import requests

from endpoints.models import Endpoint, endpoint_group
from realtime.publish import group_channel

pytestmark = pytest.mark.django_db(transaction=True)

PAUSE_MS = 150  # under the longest an answer waits for its announcement


def test_the_answer_waits_until_the_event_received_message_is_in_redis(server, alice, redis_client):
    endpoint = Endpoint.objects.create(owner=alice, name="Ordered")
    listener = redis_client.pubsub()
    listener.subscribe(group_channel(endpoint_group(endpoint.public_id)))
    assert listener.get_message(timeout=5)["type"] == "subscribe"
    requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=b"{}", timeout=10)  # warm pools

    # Redis holds every write (PUBLISH included) for a moment: an answer
    # that did not wait for its announcement would arrive before it.
    redis_client.client_pause(PAUSE_MS, all=False)
    answer = requests.post(f"{server.url}/in/{endpoint.ingest_token}", data=b'{"n": 2}', timeout=10)

    assert answer.status_code == 200
    published = list(iter(lambda: listener.get_message(timeout=0.02), None))
    assert any(answer.json()["event_id"].encode() in message["data"] for message in published)
    listener.close()
