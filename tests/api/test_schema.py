import os
import subprocess
import sys

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from endpoints.models import Endpoint
from tests.support.processes import ROOT
from tests.support.redis_keys import drop_run_keys

PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/api-keys/",
    "/api/v1/api-keys/{id}/",
    "/api/v1/endpoints/",
    "/api/v1/endpoints/{id}/",
    "/api/v1/events/",
    "/api/v1/events/{id}/",
    "/api/v1/events/{id}/deliveries/",
    "/api/v1/events/{id}/replay/",
]


def test_it_serves_an_openapi_schema_with_every_route(db) -> None:
    r = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    assert set(PATHS) <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert schema["components"]["schemas"]["BodyEncodingEnum"]["enum"] == ["text", "base64"]


def test_it_serves_swagger_ui_from_local_assets(db) -> None:
    r = APIClient().get("/api/v1/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr.net" not in html


def test_it_serves_redoc_from_local_assets(db) -> None:
    r = APIClient().get("/api/v1/redoc/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in html
    assert "cdn.jsdelivr.net" not in html


# Fixed, so a failure found once is found again on the next run.
SCHEMATHESIS_SEED = "20261202"


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_answer_the_schema_does_not_promise(server, alice, tmp_path, redis_client) -> None:
    """Every operation the schema lists, with every check, against the live server."""
    Endpoint.objects.create(owner=alice, name="Inbox")
    access = AccessToken.for_user(alice)
    argv = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/api/v1/schema/",
        "--checks", "all", "--seed", SCHEMATHESIS_SEED, "--max-examples", "20", "--workers", "1",
        "--header", f"Authorization: Bearer {access}", "--request-timeout", "10",
        "--suppress-health-check", "too_slow",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=540, cwd=tmp_path, env=env)
    finally:
        # Its hundreds of requests spend this run's per-address allowances
        # (test sessions, login throttles) in Redis; later tests start afresh.
        drop_run_keys(redis_client)
    assert run.returncode == 0, run.stdout[-30000:] + run.stderr[-5000:]
