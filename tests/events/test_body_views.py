"""The event page's body views: which exist for a body, and which one opens."""

from events.bodyviews import HEX_DUMP_LIMIT, render_body


def names(body: bytes, content_type: str = "") -> list[str]:
    return [view.name for view in render_body(body, content_type).views]


def test_json_opens_pretty_printed_with_text_and_hex_beside_it():
    rendered = render_body(b'{"a":[1,2]}', "application/json")
    assert [view.name for view in rendered.views] == ["json", "text", "hex"]
    assert rendered.views[0].text == '{\n  "a": [\n    1,\n    2\n  ]\n}'


def test_a_form_post_is_shown_as_its_fields():
    rendered = render_body(b"name=Zo%C3%AB&tags=a&tags=b&empty=", "application/x-www-form-urlencoded")
    assert rendered.kind == "form"
    assert rendered.views[0].pairs == [("name", "Zoë"), ("tags", "a"), ("tags", "b"), ("empty", "")]


def test_a_form_shaped_body_is_a_form_even_without_its_content_type():
    assert names(b"token=abc&team_id=T1") == ["form", "text", "hex"]


def test_xml_is_indented():
    rendered = render_body(b"<?xml version='1.0'?><order><id>7</id><item sku='x'/></order>", "application/xml")
    assert rendered.kind == "xml"
    assert rendered.views[0].text.splitlines()[1:] == ["<order>", "  <id>7</id>", '  <item sku="x"/>', "</order>"]


def test_xml_entity_expansion_bombs_are_refused_not_expanded():
    bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    ) + b"]><l>&i;</l>"
    assert names(bomb, "application/xml") == ["text", "hex"]


def test_plain_text_has_text_and_hex():
    assert names(b"hello there", "text/plain") == ["text", "hex"]


def test_binary_has_only_hex_cut_at_the_limit():
    rendered = render_body(b"\xff" * (HEX_DUMP_LIMIT + 1), "")
    assert [view.name for view in rendered.views] == ["hex"]
    assert rendered.views[0].truncated
    assert rendered.views[0].text.count("\n") == HEX_DUMP_LIMIT // 16 - 1


def test_an_empty_body_has_no_views():
    assert render_body(b"", "application/json").kind == "empty"
