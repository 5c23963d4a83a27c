"""The server's REST API, as much of it as `hookline listen` needs."""

import base64
from dataclasses import dataclass
from typing import Any

import requests

from hookline_cli.errors import Fatal

TIMEOUT = (5, 30)  # connect, read


@dataclass
class Request:
    """An event's request as the server stored it."""

    id: str
    event_type: str | None
    method: str
    path: str
    query: str
    headers: list[list[str]]
    body: bytes

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "Request":
        raw = data.get("body") or ""
        body = base64.b64decode(raw) if data.get("body_encoding") == "base64" else raw.encode("utf-8")
        return cls(
            id=data["id"],
            event_type=data.get("event_type"),
            method=data["method"],
            path=data.get("path") or "",
            query=data.get("query") or "",
            headers=data.get("headers") or [],
            body=body,
        )


def auth_headers(token: str) -> dict[str, str]:
    # API keys start with hl_; anything else is taken for a JWT access token.
    if token.startswith("hl_"):
        return {"X-API-Key": token}
    return {"Authorization": f"Bearer {token}"}


class Api:
    def __init__(self, server: str, token: str) -> None:
        self.server = server.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(auth_headers(token))
        self.session.headers["Accept"] = "application/json"
        # Proxies from the environment would see the token; the user names the server.
        self.session.trust_env = False

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.session.get(f"{self.server}{path}", params=params, timeout=TIMEOUT)
        if response.status_code in (401, 403):
            raise Fatal("the server refused the token (check --token or HOOKLINE_TOKEN)")
        response.raise_for_status()
        return response.json()

    def check(self, endpoint: str) -> None:
        """Fail early and clearly on a bad token, an unknown endpoint or no server."""
        try:
            if endpoint == "*":
                self._get("/api/v1/endpoints/")
                return
            response = self.session.get(f"{self.server}/api/v1/endpoints/{endpoint}/", timeout=TIMEOUT)
        except requests.ConnectionError:
            raise Fatal(f"cannot reach the Hookline server at {self.server} (check --server or HOOKLINE_SERVER)") from None
        if response.status_code in (401, 403):
            raise Fatal("the server refused the token (check --token or HOOKLINE_TOKEN)")
        if response.status_code == 404:
            raise Fatal(f"unknown endpoint {endpoint}: not one of this token's endpoints")
        response.raise_for_status()

    def event(self, event_id: str) -> Request:
        return Request.from_api(self._get(f"/api/v1/events/{event_id}/"))

    def event_ids(self, endpoint: str, since: str | None = None, limit: int | None = None) -> list[str]:
        """Event ids oldest first: all after `since`, or the newest `limit`."""
        params: dict[str, str] = {"limit": str(limit or 200)}
        if endpoint != "*":
            params["endpoint"] = endpoint
        if since:
            params["since"] = since
        ids: list[str] = []
        page = self._get("/api/v1/events/", params)
        while True:
            ids.extend(item["id"] for item in page["results"])
            if limit is not None or not page.get("next"):
                break
            page = self.session.get(page["next"], timeout=TIMEOUT).json()
        return list(reversed(ids))
