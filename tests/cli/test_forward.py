"""Where `hookline listen` sends an event: routes and URLs (pure functions)."""

import pytest

from hookline_cli.forward import Route, outgoing_headers, target_for, url_for


def test_the_first_matching_route_wins_else_forward_to() -> None:
    routes = [Route.parse("charge.*=http://a/"), Route.parse("*.succeeded=http://b/"), Route.parse("push=http://c/")]

    assert target_for("charge.succeeded", routes, "http://default/") == "http://a/"
    assert target_for("invoice.succeeded", routes, "http://default/") == "http://b/"
    assert target_for("push", routes, None) == "http://c/"
    assert target_for("issues", routes, "http://default/") == "http://default/"
    assert target_for(None, routes, "http://default/") == "http://default/"
    assert target_for("issues", routes, None) is None


def test_a_route_url_may_hold_an_equals_sign() -> None:
    assert Route.parse("a.*=http://h/x?k=v") == Route("a.*", "http://h/x?k=v")


@pytest.mark.parametrize("text", ["no-equals", "=http://h/", "glob=ftp://h/", "glob="])
def test_a_malformed_route_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Route.parse(text)


def test_the_sub_path_and_query_follow_the_target_path() -> None:
    assert url_for("http://localhost:3000/hooks", "charges/1", "x=1&y=%20") == "/hooks/charges/1?x=1&y=%20"
    assert url_for("http://localhost:3000/hooks/", "", "") == "/hooks/"
    assert url_for("http://localhost:3000", "", "") == "/"
    assert url_for("http://localhost:3000/h?k=v", "a%2Fb", "z=1") == "/h/a%2Fb?k=v&z=1"


def test_it_raises_the_hop_count_so_a_loop_through_an_ingest_url_stops() -> None:
    sent = [["X-Repeat", "one"], ["X-Hookline-Hops", "3"], ["Connection", "keep-alive"], ["X-Repeat", "two"]]
    assert outgoing_headers(sent) == [("X-Repeat", "one"), ("X-Repeat", "two"), ("x-hookline-hops", "4")]


def test_a_request_without_hops_leaves_with_one() -> None:
    assert outgoing_headers([["Content-Type", "text/plain"]]) == [("Content-Type", "text/plain"), ("x-hookline-hops", "1")]
