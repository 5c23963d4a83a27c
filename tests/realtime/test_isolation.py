"""alice's endpoints never stream to bob, whatever he asks for."""

import pytest

from tests.realtime.support import announce_event, create_endpoint, create_event, subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_bob_subscribing_to_alices_endpoint_gets_an_error_and_nothing_of_it(
    sockets, alice, bob, bob_token
):
    alices = await create_endpoint(alice, "Alice's")
    bobs = await create_endpoint(bob, "Bob's")
    ws = await sockets.connect(bob_token)
    await ws.send_json_to({"type": "subscribe", "endpoints": [alices.public_id, bobs.public_id]})
    error = await ws.receive_json_from()
    assert error["type"] == "error" and error["channel"] == "control"
    assert alices.public_id in error["detail"]
    answer = await ws.receive_json_from()
    assert answer == {"type": "subscribed", "channel": "control", "endpoints": [bobs.public_id]}
    await announce_event(await create_event(alices))
    assert await ws.receive_nothing(timeout=0.3)
    # The connection stays usable.
    sent = await announce_event(await create_event(bobs))
    assert await ws.receive_json_from() == sent


async def test_an_unknown_endpoint_gets_the_same_error_as_someone_elses(sockets, bob, bob_token):
    ws = await sockets.connect(bob_token)
    await ws.send_json_to({"type": "subscribe", "endpoints": ["ep_doesnotexist"]})
    error = await ws.receive_json_from()
    assert error == {"type": "error", "channel": "control", "detail": "Unknown endpoint: ep_doesnotexist"}
    assert (await ws.receive_json_from())["endpoints"] == []


async def test_bobs_star_covers_only_his_endpoints(sockets, alice, bob, alice_token, bob_token):
    alices = await create_endpoint(alice, "Alice's")
    bobs = await create_endpoint(bob, "Bob's")
    alice_ws, bob_ws = await sockets.connect(alice_token), await sockets.connect(bob_token)
    await subscribe(alice_ws, ["*"])
    await subscribe(bob_ws, ["*"])
    for_alice = await announce_event(await create_event(alices))
    assert await alice_ws.receive_json_from() == for_alice
    for_bob = await announce_event(await create_event(bobs))
    assert await bob_ws.receive_json_from() == for_bob
    # An endpoint alice creates later does not join bob's stream either.
    await create_endpoint(alice, "Alice's new one")
    assert await bob_ws.receive_nothing(timeout=0.3)
    assert await alice_ws.receive_nothing(timeout=0.01)


async def test_bob_cannot_replay_from_alices_event(sockets, alice, bob, bob_token):
    alices = await create_endpoint(alice, "Alice's")
    await create_endpoint(bob, "Bob's")
    event = await create_event(alices)
    await create_event(alices)
    ws = await sockets.connect(bob_token)
    await ws.send_json_to({"type": "subscribe", "endpoints": ["*"], "since": event.public_id})
    error = await ws.receive_json_from()
    assert error["type"] == "error" and event.public_id in error["detail"]
    assert await ws.receive_nothing(timeout=0.3)


async def test_malformed_ids_get_an_error_and_keep_the_connection(sockets, bob, bob_token):
    bobs = await create_endpoint(bob, "Bob's")
    ws = await sockets.connect(bob_token)
    await ws.send_json_to({"type": "subscribe", "endpoints": ["ep_\u0000", bobs.public_id]})
    assert (await ws.receive_json_from())["type"] == "error"
    assert (await ws.receive_json_from())["endpoints"] == [bobs.public_id]
    await ws.send_json_to({"type": "subscribe", "endpoints": ["*"], "since": "evt_\u0000"})
    assert (await ws.receive_json_from())["type"] == "error"
    sent = await announce_event(await create_event(bobs))
    assert await ws.receive_json_from() == sent
