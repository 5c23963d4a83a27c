"""`curl` commands that send an event's request again, byte for byte.

Every stored header goes back as sent except the ones curl must compute
for the new connection (Host, Content-Length, Transfer-Encoding). curl's
own defaults (User-Agent, Accept, Content-Type for data, Expect for large
bodies) are switched off when the original had none, so the new event's
headers are the original's. A UTF-8 body goes on the command line; any
other body is fed through `printf` octal escapes; a large one is read from
the raw download.
"""

import shlex

from events.models import Event

INLINE_BODY_LIMIT = 64 * 1024
COMPUTED = {"host", "content-length", "transfer-encoding"}


def _octal_printf(body: bytes) -> str:
    # POSIX printf understands \ooo in every shell; % and \ and ' are escaped
    # too, so the format string is one single-quoted word.
    parts = []
    for byte in body:
        char = chr(byte)
        if 32 <= byte < 127 and char not in "%\\'":
            parts.append(char)
        else:
            parts.append(f"\\{byte:03o}")
    return "printf '" + "".join(parts) + "'"


def _header(name: str, value: str) -> str:
    # "Name;" is curl's way to send a header with an empty value ("Name:" removes it).
    return shlex.quote(f"{name}: {value}" if value else f"{name};")


def as_curl(event: Event, ingest_url: str) -> str:
    url = ingest_url + (f"/{event.path}" if event.path else "") + (f"?{event.query}" if event.query else "")
    body = event.body_bytes
    names = {name.lower() for name, _ in event.headers}
    sends_body = bool(body) or "content-length" in names or "transfer-encoding" in names
    method = "--head" if event.method == "HEAD" else f"-X {shlex.quote(event.method)}"
    lines = [f"curl --globoff --path-as-is {method} {shlex.quote(url)}"]
    for name, value in event.headers:
        if name.lower() not in COMPUTED:
            lines.append(f"-H {_header(name, value)}")
    defaults = ["user-agent", "accept"] + (["content-type", "expect"] if sends_body else [])
    lines += [f"-H {shlex.quote(name + ':')}" for name in defaults if name not in names]
    prefix = ""
    if sends_body:
        text = _inline_text(body)
        if text is not None:
            lines.append(f"--data-binary {shlex.quote(text)}")
        elif len(body) <= INLINE_BODY_LIMIT:
            prefix = _octal_printf(body) + " | "
            lines.append("--data-binary @-")
        else:
            prefix = f"# {event.public_id}.bin is the raw body (Download raw)\n"
            lines.append(f"--data-binary {shlex.quote('@' + event.public_id + '.bin')}")
    return prefix + " \\\n  ".join(lines)


def _inline_text(body: bytes) -> str | None:
    """The body as one shell word, when that is exact: UTF-8, no NUL, not
    starting with "@" (curl would read a file), and small."""
    if len(body) > INLINE_BODY_LIMIT or b"\x00" in body or body.startswith(b"@"):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None
