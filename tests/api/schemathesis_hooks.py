"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in `test_schema.py`'s run.

One answer is outside what any JSON Schema can say: a `destination_url` is
refused when Django's URL rule does (e.g. a host name over 253 characters)
or when the address it resolves to is one we never send to. That refusal
is a 400 naming `destination_url` alone; every other failure counts.
"""

import json

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    try:
        detail = json.loads(response.content)["detail"]
    except (ValueError, KeyError, TypeError):
        return True
    return not (isinstance(detail, dict) and set(detail) == {"destination_url"})
