"""The channel layer on real Redis: one decode per group message, handlers first, the queue otherwise."""

import asyncio

import pytest
import pytest_asyncio
from channels.layers import get_channel_layer

from realtime import envelope
from realtime.publish import layer_message, publish
from tests.realtime.support import announce_event, create_endpoint, create_event, subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

GROUP = "endpoint.ep_layertest"


@pytest_asyncio.fixture
async def layer():
    layer = get_channel_layer()
    yield layer
    await layer.flush()


async def joined(layer, count: int) -> list[str]:
    channels = [await layer.new_channel() for _ in range(count)]
    for channel in channels:
        await layer.group_add(GROUP, channel)
    return channels


async def test_every_member_gets_the_same_decoded_message(layer):
    first, second, third = await joined(layer, 3)
    taken = []
    layer.attach(first, lambda message: taken.append(message) or True)
    message = layer_message(envelope.envelope("ping"))
    await layer.group_send(GROUP, message)
    second_got = await asyncio.wait_for(layer.receive(second), 3)
    third_got = await asyncio.wait_for(layer.receive(third), 3)
    assert second_got == message
    # Decoded once for the group: the very same object reaches everyone.
    assert second_got is third_got
    assert taken == [message] and taken[0] is second_got


async def test_a_message_the_handler_declines_waits_on_the_queue(layer):
    (channel,) = await joined(layer, 1)
    offered = []
    layer.attach(channel, lambda message: offered.append(message["type"]) and False)
    await layer.group_send(GROUP, {"type": "endpoint.created", "endpoint": "ep_x"})
    assert (await asyncio.wait_for(layer.receive(channel), 3))["type"] == "endpoint.created"
    assert offered == ["endpoint.created"]


async def test_a_failing_handler_costs_no_other_member_its_message(layer):
    broken, healthy = await joined(layer, 2)

    def fail(message):
        raise RuntimeError("consumer bug")

    layer.attach(broken, fail)
    await layer.group_send(GROUP, {"type": "endpoint.created", "endpoint": "ep_x"})
    assert (await asyncio.wait_for(layer.receive(healthy), 3))["type"] == "endpoint.created"


async def test_a_detached_channel_gets_its_messages_on_the_queue_again(layer):
    (channel,) = await joined(layer, 1)
    layer.attach(channel, lambda message: True)
    layer.detach(channel)
    await layer.group_send(GROUP, {"type": "endpoint.created", "endpoint": "ep_x"})
    assert (await asyncio.wait_for(layer.receive(channel), 3))["type"] == "endpoint.created"


async def test_sockets_get_the_publishers_text_as_it_was_encoded(sockets, alice, alice_token):
    endpoint = await create_endpoint(alice)
    clients = [await sockets.connect(alice_token) for _ in range(3)]
    for ws in clients:
        await subscribe(ws, [endpoint.public_id])
    event = await create_event(endpoint)
    message = envelope.event_received(event.summary())
    await publish(f"endpoint.{endpoint.public_id}", message)
    expected = layer_message(message)["text"]
    for ws in clients:
        assert await ws.receive_from() == expected


async def test_a_burst_reaches_an_idle_socket_whole_and_in_order(sockets, alice, alice_token):
    endpoint = await create_endpoint(alice)
    ws = await sockets.connect(alice_token)
    await subscribe(ws, [endpoint.public_id])
    sent = await asyncio.gather(*[announce_event(await create_event(endpoint)) for _ in range(30)])
    assert [await ws.receive_json_from() for _ in sent] == list(sent)
    assert await ws.receive_nothing(timeout=0.3)


async def test_a_pipelined_batch_is_one_publish_per_group_handed_out_in_order(layer):
    from monitoring.counters import async_client
    from realtime.publish import queue_many

    (member,) = await joined(layer, 1)
    other_group = "endpoint.ep_layerother"
    outsider = await layer.new_channel()
    await layer.group_add(other_group, outsider)
    offered = []
    layer.attach(member, lambda message: offered.append(message["message"]["n"]) and False)
    pings = [envelope.envelope("ping", n=n) for n in range(4)]
    pipe = async_client().pipeline(transaction=False)
    queue_many(pipe, [(GROUP, pings[0]), (other_group, pings[1]), (GROUP, pings[2]), (GROUP, pings[3])])
    assert len(pipe) == 2  # one PUBLISH per group
    await pipe.execute()
    got = [await asyncio.wait_for(layer.receive(member), 3) for _ in range(3)]
    assert [message["message"]["n"] for message in got] == [0, 2, 3]
    assert got[0]["text"] == layer_message(pings[0])["text"]
    assert offered == [0, 2, 3]
    assert (await asyncio.wait_for(layer.receive(outsider), 3))["message"]["n"] == 1
    await layer.group_discard(other_group, outsider)
