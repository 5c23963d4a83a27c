"""The API, the web form and the Django admin refuse the same endpoint settings."""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from endpoints.models import Endpoint

pytestmark = pytest.mark.django_db

RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    settings.INGEST_BASE_URL = "https://hooks.hookline.test"


def save_through_api(user, **fields) -> tuple[int, dict]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    answer = client.post("/api/v1/endpoints/", {"name": "E", **fields}, format="json")
    return answer.status_code, answer.json()


def save_through_form(user, **fields) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    data = {"name": "E", "retry_schedule": "60", "timeout_seconds": "10", "destination_url": "",
            "response_content_type": "", **{k: str(v) for k, v in fields.items()}}
    answer = client.post("/endpoints/new/", data)
    return answer.status_code, answer.content.decode()


def save_through_admin(user, **fields) -> tuple[int, str]:
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    data = {"owner": str(user.pk), "name": "E", "retry_schedule": "60", "timeout_seconds": "10",
            "destination_url": "", "response_content_type": "", "response_body": "", "monitoring": "{}",
            **{k: str(v) for k, v in fields.items()}}
    answer = client.post("/admin/endpoints/endpoint/add/", data)
    return answer.status_code, answer.content.decode()


REFUSED = [
    ({"response_content_type": "text/html"}, "Content type must be one of"),
    ({"response_content_type": "application/xhtml+xml"}, "Content type must be one of"),
    ({"response_content_type": "text/plain; charset=utf-8\r\nSet-Cookie: x=1"}, "Content type must be one of"),
    ({"destination_url": "https://hooks.hookline.test/in/0123456789abcdef0123456789abcdef"}, "own ingest URL"),
    ({"destination_url": "http://127.0.0.1:8000/x/../in/0123456789abcdef0123456789abcdef"}, "own ingest URL"),
    ({"destination_url": "http://169.254.169.254/latest/meta-data/"}, "Destination refused"),
]


@pytest.mark.parametrize(("fields", "message"), REFUSED)
def test_the_api_refuses_it_with_a_json_400(alice, fields, message):
    status, body = save_through_api(alice, **fields)
    assert status == 400
    assert message in str(body["detail"][next(iter(fields))])
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(("fields", "message"), REFUSED)
def test_the_web_form_refuses_it(alice, fields, message):
    status, page = save_through_form(alice, **fields)
    assert status == 200
    assert message in page
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        *REFUSED,
        ({"retry_schedule": "0, 60"}, "Each retry delay"),
        ({"timeout_seconds": "90"}, "Timeout must be"),
        ({"monitoring": '{"grace_seconds": -1}'}, "grace_seconds must be a whole number"),
    ],
)
def test_the_admin_refuses_it(alice, fields, message):
    status, page = save_through_admin(alice, **fields)
    assert status == 200
    assert message in page
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain; charset=utf-8", "application/xml", "TEXT/XML; charset=\"ISO-8859-1\""],
)
def test_json_plain_text_and_xml_are_accepted_everywhere(alice, content_type):
    assert save_through_api(alice, response_content_type=content_type, destination_url=RECEIVER)[0] == 201
    assert save_through_form(alice, response_content_type=content_type, destination_url=RECEIVER)[0] == 302
    assert save_through_admin(alice, response_content_type=content_type, destination_url=RECEIVER)[0] == 302
    assert list(Endpoint.objects.values_list("response_content_type", flat=True)) == [content_type] * 3


def test_the_admin_keeps_the_retry_schedule_a_list_of_seconds(alice):
    assert save_through_admin(alice, retry_schedule="10, 60,300")[0] == 302
    assert Endpoint.objects.get().retry_schedule == [10, 60, 300]
