"""The body views of the event page: JSON, form, XML, text and hex.

Each view exists only when the body reads that way; the page opens on the
most specific one. Everything is rendered as text by the template (escaped),
never as markup.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl
from xml.dom import minidom
from xml.parsers.expat import ExpatError

# A hex dump is ~4.5x the bytes it shows; past this the raw download is the
# better tool and the page stays light.
HEX_DUMP_LIMIT = 16 * 1024
HEX_WIDTH = 16
# Pretty-printing re-parses the body on every page view.
PARSE_LIMIT = 1024 * 1024
_FORM = re.compile(r"[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*")


@dataclass
class BodyView:
    name: str  # "json", "form", "xml", "text" or "hex"
    label: str
    text: str = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    truncated: bool = False


@dataclass
class RenderedBody:
    views: list[BodyView]

    @property
    def kind(self) -> str:
        """The view the page opens on ("empty" when there is no body)."""
        return self.views[0].name if self.views else "empty"


def hex_dump(data: bytes) -> str:
    lines = []
    for offset in range(0, len(data), HEX_WIDTH):
        chunk = data[offset : offset + HEX_WIDTH]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk)
        ascii_part = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hex_part:<{HEX_WIDTH * 3 - 1}}  |{ascii_part}|")
    return "\n".join(lines)


def json_view(text: str) -> BodyView | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, (dict, list)):
        # A bare "42" or "null" reads best as the sender wrote it.
        return None
    return BodyView("json", "JSON", json.dumps(parsed, indent=2, ensure_ascii=False))


def form_view(text: str, content_type: str) -> BodyView | None:
    declared = content_type.lower().startswith("application/x-www-form-urlencoded")
    if not declared and not _FORM.fullmatch(text.strip()):
        return None
    pairs = parse_qsl(text.strip(), keep_blank_values=True)
    return BodyView("form", "Form", pairs=pairs) if pairs else None


def xml_view(text: str, content_type: str) -> BodyView | None:
    if "xml" not in content_type.lower() and not text.lstrip().startswith("<"):
        return None
    try:
        # expat resolves no external entities and (2.4+) refuses entity
        # expansion bombs, so a sender's XML cannot reach files or blow up.
        document = minidom.parseString(text.encode())
    except (ExpatError, ValueError):
        return None
    pretty = document.toprettyxml(indent="  ")
    lines = [line for line in pretty.splitlines() if line.strip()]
    return BodyView("xml", "XML", "\n".join(lines))


def render_body(body: bytes, content_type: str) -> RenderedBody:
    if not body:
        return RenderedBody([])
    views: list[BodyView] = []
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and len(body) <= PARSE_LIMIT:
        for view in (json_view(text), form_view(text, content_type), xml_view(text, content_type)):
            if view is not None:
                views.append(view)
                break
    if text is not None:
        views.append(BodyView("text", "Text", text))
    views.append(BodyView("hex", "Hex", hex_dump(body[:HEX_DUMP_LIMIT]), truncated=len(body) > HEX_DUMP_LIMIT))
    return RenderedBody(views)
