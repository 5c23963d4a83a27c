"""Two real server processes share one count of failed logins (database) and
one request budget per address (Redis): switching process gains nothing."""

import uuid

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.support import processes

pytestmark = pytest.mark.django_db(transaction=True)

FAILURE_LIMIT = 4
REQUESTS_PER_MINUTE = 10
PASSWORD = "a-long-passphrase-9"


@pytest.fixture(scope="module")
def two_servers(stack, tmp_path_factory):
    # Their own Redis namespace: no other test's requests count against them.
    env = {
        **stack.env,
        "LOGIN_FAILURE_LIMIT": str(FAILURE_LIMIT),
        "AUTH_REQUESTS_PER_MINUTE": str(REQUESTS_PER_MINUTE),
        "CHANNEL_PREFIX": f"hl-test-lockout-{uuid.uuid4().hex[:8]}",
    }
    log_dir = tmp_path_factory.mktemp("two-servers")
    servers = [processes.web(processes.free_port(), env, log_dir) for _ in range(2)]
    for server in servers:
        server.start()
    urls = [f"http://127.0.0.1:{server.argv[server.argv.index('--port') + 1]}" for server in servers]
    try:
        for url in urls:
            processes.wait_http(url + "/in/ready-check")
        yield urls
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def carol(db):
    # A hash the server processes can check (the test process hashes with MD5).
    user = get_user_model().objects.create(username="carol", email="carol@example.com")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt")
    user.save(update_fields=["password"])
    return user


def token(url: str, password: str, address: str) -> requests.Response:
    # The servers trust X-Forwarded-For from 127.0.0.1, as behind a local proxy.
    return requests.post(
        f"{url}/api/v1/auth/token/",
        json={"username": "carol", "password": password},
        headers={"X-Forwarded-For": address},
        timeout=10,
    )


def login_form(url: str, password: str, address: str) -> requests.Response:
    csrf = requests.get(f"{url}/accounts/login/", timeout=10).cookies["csrftoken"]
    return requests.post(
        f"{url}/accounts/login/",
        data={"username": "carol", "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Cookie": f"csrftoken={csrf}", "Origin": url, "X-Forwarded-For": address},
        allow_redirects=False,
        timeout=10,
    )


def test_failures_spread_over_two_processes_lock_the_account(two_servers, carol):
    first, second = two_servers
    answers = [token(two_servers[n % 2], "wrong", "198.51.100.31").status_code for n in range(FAILURE_LIMIT - 1)]
    assert answers == [401] * (FAILURE_LIMIT - 1)
    locked = token(second, "wrong", "198.51.100.31")
    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/json"
    assert locked.json()["detail"].startswith("Too many failed logins")
    assert 800 <= int(locked.headers["Retry-After"]) <= 900
    # From another address, on the other process, with the right password.
    assert token(first, PASSWORD, "203.0.113.32").status_code == 429
    form = login_form(first, PASSWORD, "203.0.113.33")
    assert form.status_code == 429
    assert int(form.headers["Retry-After"]) > 0


def test_the_right_password_works_before_the_limit(two_servers, carol):
    assert token(two_servers[0], "wrong", "198.51.100.41").status_code == 401
    assert token(two_servers[1], PASSWORD, "198.51.100.41").status_code == 200
    assert login_form(two_servers[0], PASSWORD, "198.51.100.41").status_code == 302


def test_requests_per_address_are_counted_across_processes(two_servers, carol):
    answers = [token(two_servers[n % 2], PASSWORD, "192.0.2.51").status_code for n in range(REQUESTS_PER_MINUTE)]
    assert answers == [200] * REQUESTS_PER_MINUTE
    throttled = token(two_servers[0], PASSWORD, "192.0.2.51")
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert "detail" in throttled.json()
    assert token(two_servers[1], PASSWORD, "192.0.2.52").status_code == 200
