"""subscribe / unsubscribe / "*", and what each socket then receives."""

import pytest

from endpoints.models import endpoint_group
from realtime import envelope
from realtime.publish import publish
from tests.realtime.support import announce_event, create_endpoint, create_event, delete_endpoint, subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_it_answers_subscribe_with_the_sorted_current_list(sockets, alice, alice_token):
    first, second = await create_endpoint(alice, "A"), await create_endpoint(alice, "B")
    ws = await sockets.connect(alice_token)
    answer = await subscribe(ws, [second.public_id])
    assert answer == {"type": "subscribed", "channel": "control", "endpoints": [second.public_id]}
    answer = await subscribe(ws, [first.public_id])
    assert answer["endpoints"] == sorted([first.public_id, second.public_id])


async def test_it_forwards_the_envelopes_of_subscribed_endpoints_unchanged(sockets, alice, alice_token):
    watched, other = await create_endpoint(alice, "A"), await create_endpoint(alice, "B")
    ws = await sockets.connect(alice_token)
    await subscribe(ws, [watched.public_id])
    sent = await announce_event(await create_event(watched))
    status = envelope.endpoint_status(watched.public_id, "failing", "healthy")
    await publish(endpoint_group(watched.public_id), status)
    await announce_event(await create_event(other))
    assert await ws.receive_json_from() == sent
    assert await ws.receive_json_from() == status
    assert await ws.receive_nothing(timeout=0.3)


async def test_unsubscribe_stops_the_stream_and_answers_the_rest(sockets, alice, alice_token):
    first, second = await create_endpoint(alice, "A"), await create_endpoint(alice, "B")
    ws = await sockets.connect(alice_token)
    await subscribe(ws, [first.public_id, second.public_id])
    await ws.send_json_to({"type": "unsubscribe", "endpoints": [first.public_id]})
    assert await ws.receive_json_from() == {
        "type": "subscribed", "channel": "control", "endpoints": [second.public_id],
    }
    await announce_event(await create_event(first))
    kept = await announce_event(await create_event(second))
    assert await ws.receive_json_from() == kept
    assert await ws.receive_nothing(timeout=0.3)


async def test_star_covers_every_endpoint_including_ones_created_later(sockets, alice, alice_token):
    existing = await create_endpoint(alice, "Existing")
    ws = await sockets.connect(alice_token)
    assert (await subscribe(ws, ["*"]))["endpoints"] == ["*"]
    created = await create_endpoint(alice, "Created later")
    # The consumer joins the new endpoint's group when it hears of it; poll
    # with real announcements until one arrives, then expect every later one.
    first = None
    for _ in range(100):
        await announce_event(await create_event(created))
        if not await ws.receive_nothing(timeout=0.02):
            first = await ws.receive_json_from()
            break
    assert first is not None and first["data"]["endpoint"] == created.public_id
    while not await ws.receive_nothing(timeout=0.1):  # announcements racing the join
        assert (await ws.receive_json_from())["data"]["endpoint"] == created.public_id
    for endpoint in (existing, created):
        sent = await announce_event(await create_event(endpoint))
        assert await ws.receive_json_from() == sent


async def test_star_leaves_a_deleted_endpoint(sockets, alice, alice_token):
    doomed, kept = await create_endpoint(alice, "Doomed"), await create_endpoint(alice, "Kept")
    ws = await sockets.connect(alice_token)
    await subscribe(ws, ["*"])
    event = await create_event(doomed)
    await delete_endpoint(doomed)
    # Announced after the delete: the socket must have left the group.
    consumer_left = False
    for _ in range(100):
        await announce_event(event)
        if await ws.receive_nothing(timeout=0.02):
            consumer_left = True
            break
        await ws.receive_json_from()
    assert consumer_left
    sent = await announce_event(await create_event(kept))
    assert await ws.receive_json_from() == sent


async def test_unsubscribing_star_keeps_endpoints_subscribed_by_id(sockets, alice, alice_token):
    named, other = await create_endpoint(alice, "Named"), await create_endpoint(alice, "Other")
    ws = await sockets.connect(alice_token)
    await subscribe(ws, [named.public_id])
    assert (await subscribe(ws, ["*"]))["endpoints"] == ["*", named.public_id]
    await ws.send_json_to({"type": "unsubscribe", "endpoints": ["*"]})
    assert (await ws.receive_json_from())["endpoints"] == [named.public_id]
    await announce_event(await create_event(other))
    sent = await announce_event(await create_event(named))
    assert await ws.receive_json_from() == sent
    assert await ws.receive_nothing(timeout=0.3)


async def test_internal_messages_never_reach_the_client(sockets, alice, alice_token):
    ws = await sockets.connect(alice_token)
    await subscribe(ws, ["*"])
    endpoint = await create_endpoint(alice)
    await delete_endpoint(endpoint)
    assert await ws.receive_nothing(timeout=0.3)
