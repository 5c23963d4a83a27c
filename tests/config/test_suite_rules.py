"""Rules every test module keeps, checked on the source so new tests keep them too."""

import ast
import ipaddress
import re
import tokenize
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
# RFC 2606 / 6761 names that can never be someone's real server.
RESERVED_SUFFIXES = (".test", ".invalid", ".example", ".localhost")
URL = re.compile(r"\b(?:https?|wss?)://(\[[^\]/\"']*\]?|[^/:?#\"'\s{}]+)")


def modules() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def is_requests_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in HTTP_VERBS
        and isinstance(node.value, ast.Name)
        and node.value.id == "requests"
    )


def calls_without_timeout(tree: ast.AST) -> list[int]:
    missing = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        # requests.post(...) itself, or requests.post handed to a runner (asyncio.to_thread, pool.submit)
        if is_requests_call(node.func) or any(is_requests_call(arg) for arg in node.args):
            if not any(keyword.arg == "timeout" for keyword in node.keywords):
                missing.append(node.lineno)
    return missing


def test_every_requests_call_in_the_tests_has_a_timeout():
    offenders = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in modules()
        for line in calls_without_timeout(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == [], "requests calls without timeout=: " + ", ".join(offenders)


def is_local_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        # A single label ("http://default/") names no internet host; the offline
        # guard keeps it from reaching a DNS server all the same.
        return "." not in host or host.endswith(RESERVED_SUFFIXES)


def string_literals(path: Path) -> list[tuple[int, str]]:
    # Only strings can become a request; a comment may cite a provider's docs.
    with path.open("rb") as source:
        return [(token.start[0], token.string) for token in tokenize.tokenize(source.readline)
                if token.type == tokenize.STRING]


def test_no_test_names_a_public_host():
    offenders = [
        f"{path.relative_to(TESTS)}:{number}: {match.group(0)}"
        for path in modules()
        for number, text in string_literals(path)
        for match in URL.finditer(text)
        if not is_local_host(match.group(1))
    ]
    assert offenders == [], "use 127.0.0.1 or a reserved name (*.test, *.invalid): " + ", ".join(offenders)


def test_the_rules_catch_what_they_are_for():
    assert calls_without_timeout(ast.parse("requests.post(url, data=b'')")) == [1]
    assert calls_without_timeout(ast.parse("asyncio.to_thread(requests.get, url)")) == [1]
    assert calls_without_timeout(ast.parse("requests.get(url, timeout=5)")) == []
    assert not is_local_host("example.com") and not is_local_host("8.8.8.8")
    assert is_local_host("hooks.example.test") and is_local_host("127.0.0.1") and is_local_host("[::1]") and is_local_host("default")
