"""The real server (DEBUG off, as in production) sends the security headers,
secure cookies, and serves static files through WhiteNoise."""

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

pytestmark = pytest.mark.django_db(transaction=True)


def set_cookie(response: requests.Response, name: str) -> str:
    cookies = [line for line in response.raw.headers.getlist("Set-Cookie") if line.startswith(f"{name}=")]
    assert len(cookies) == 1, response.raw.headers.getlist("Set-Cookie")
    return cookies[0].lower()


def test_pages_carry_the_csp_and_cannot_be_framed(server):
    response = requests.get(f"{server.url}/accounts/login/", timeout=10)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "; secure" in set_cookie(response, "csrftoken")


def test_the_session_cookie_is_secure_and_http_only(server):
    user = get_user_model().objects.create(username="carol", email="carol@example.com")
    # A hash the server process can check (the test process hashes with MD5).
    user.password = PBKDF2PasswordHasher().encode("a-long-passphrase-9", "saltsaltsalt")
    user.save(update_fields=["password"])
    csrf = requests.get(f"{server.url}/accounts/login/", timeout=10).cookies["csrftoken"]
    response = requests.post(
        f"{server.url}/accounts/login/",
        data={"username": "carol", "password": "a-long-passphrase-9", "csrfmiddlewaretoken": csrf},
        headers={"Cookie": f"csrftoken={csrf}", "Origin": server.url},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    session = set_cookie(response, "sessionid")
    assert "; secure" in session and "; httponly" in session


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/static/hookline/app.css", "text/css"), ("/static/realtime/socket.js", "text/javascript"), ("/static/admin/css/base.css", "text/css")],
)
def test_static_files_come_from_whitenoise_behind_the_security_headers(server, path, content_type):
    response = requests.get(server.url + path, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in response.headers["Cache-Control"]
    again = requests.get(server.url + path, headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


def test_an_unknown_static_file_is_404(server):
    assert requests.get(f"{server.url}/static/hookline/nothing-here.css", timeout=10).status_code == 404
