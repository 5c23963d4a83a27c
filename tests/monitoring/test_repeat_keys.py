"""What monitoring takes for the same delivery arriving again
(monitoring/intake.py `repeat_key`): no database, no server."""

from types import SimpleNamespace

import pytest

from monitoring.intake import repeat_key


@pytest.mark.parametrize(
    "header", ["webhook-id", "x-github-delivery", "x-shopify-webhook-id", "paypal-transmission-id", "svix-id", "x-request-id"]
)
def test_every_delivery_id_header_keys_a_repeat_whatever_the_body(header) -> None:
    first, second = (SimpleNamespace(size=5, sha256=digest * 64, body=b"") for digest in "ab")
    assert repeat_key(first, {header: "d-1"}) == repeat_key(second, {header: "d-1"})
    assert repeat_key(first, {header: "d-1"}) != repeat_key(first, {header: "d-2"})
    assert repeat_key(first, {}) != repeat_key(second, {})


def test_bare_pings_are_never_repeats_unless_they_carry_an_id() -> None:
    ping = SimpleNamespace(size=0, sha256="", body=b"")
    assert repeat_key(ping, {}) is None
    assert repeat_key(ping, {"webhook-id": "msg_1"}) is not None
