"""`INGEST_BASE_URL` on its own origin: that host serves /in/ and nothing else."""

import asyncio
import os
import subprocess
import sys

import pytest
import requests
import websockets
from rest_framework_simplejwt.tokens import AccessToken

from endpoints.models import ApiKey, Endpoint
from events.models import Event
from tests.support import processes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def split_web(stack, tmp_path):
    """A server whose dashboard is http://127.0.0.1:<port> and whose ingest
    host is http://localhost:<port> (one process, told apart by Host)."""
    port = processes.free_port()
    env = {**stack.env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "INGEST_BASE_URL": f"http://localhost:{port}"}
    web = processes.web(port, env, tmp_path).start()
    processes.wait_http(f"http://127.0.0.1:{port}/accounts/login/")
    yield port
    web.stop()


@pytest.fixture
def inbox(alice):
    return Endpoint.objects.create(owner=alice, name="Inbox")


def test_the_ingest_host_receives_and_the_dashboard_host_does_not(split_web, inbox):
    assert requests.post(f"http://localhost:{split_web}/in/{inbox.ingest_token}", data=b"{}", timeout=10).status_code == 200
    refused = requests.post(f"http://127.0.0.1:{split_web}/in/{inbox.ingest_token}", data=b"{}", timeout=10)
    assert refused.status_code == 404
    assert Event.objects.count() == 1


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/v1/schema/", "/", "/static/realtime/live.js"])
def test_the_ingest_host_serves_nothing_but_in(split_web, path):
    answer = requests.get(f"http://localhost:{split_web}{path}", timeout=10)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Unknown ingest URL."}
    assert answer.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "set-cookie" not in answer.headers
    # The dashboard's own host still serves the page.
    assert requests.get(f"http://127.0.0.1:{split_web}/accounts/login/", timeout=10).status_code == 200


def test_the_dashboard_host_still_takes_processing_reports(split_web, inbox):
    answer = requests.post(f"http://127.0.0.1:{split_web}/m/{inbox.report_token}/success", timeout=10)
    assert answer.status_code == 200
    assert requests.post(f"http://localhost:{split_web}/m/{inbox.report_token}/success", timeout=10).status_code == 404


def test_the_ingest_host_refuses_websockets(split_web, alice):
    _, key = ApiKey.issue(alice, "ws")

    async def connect(host: str) -> None:
        async with websockets.connect(f"ws://{host}:{split_web}/v1/ws?token={key}", open_timeout=10):
            return None

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(connect("localhost"))
    assert refused.value.response.status_code == 403
    asyncio.run(connect("127.0.0.1"))


def test_ingest_urls_are_printed_with_the_ingest_base_url(settings, alice_client, alice):
    settings.INGEST_BASE_URL = "https://hooks.hookline.test"
    endpoint = Endpoint.objects.create(owner=alice, name="Printed")
    assert endpoint.ingest_url == f"https://hooks.hookline.test/in/{endpoint.ingest_token}"
    page = alice_client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert f"https://hooks.hookline.test/in/{endpoint.ingest_token}" in page
    api = alice_client.get(
        f"/api/v1/endpoints/{endpoint.public_id}/", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}"
    )
    assert api.json()["ingest_url"] == endpoint.ingest_url


@pytest.mark.parametrize("value", ["https://hooks.hookline.test/prefix", "ftp://hooks.hookline.test", "hooks.hookline.test"])
def test_an_ingest_base_url_with_a_path_or_another_scheme_stops_the_start(value):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=processes.ROOT, capture_output=True, text=True,
        timeout=30, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "INGEST_BASE_URL": value},
    )
    assert result.returncode != 0
    assert "INGEST_BASE_URL must look like https://host[:port]" in result.stderr
