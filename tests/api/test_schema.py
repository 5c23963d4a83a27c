from rest_framework.test import APIClient

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
