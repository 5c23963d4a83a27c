"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in `test_schema.py`'s run.

Two refusals are outside what a request schema can say, and only those are
forgiven (a 400 naming that one field alone); every other failure counts:

- `destination_url`: refused when Django's URL rule does (e.g. a host name
  over 253 characters) or when the address it resolves to is one we never
  send to;
- `verification`: a scheme needs a secret, unless the endpoint already has
  one stored (a PATCH keeps it), `hmac` needs its header and `standard` a
  `whsec_` secret: rules across fields and across the stored row;
- a notification channel's `target`: what it must be (an address, a URL, an
  Apprise URL) depends on its `kind`.
"""

CROSS_FIELD_VERIFICATION = (" needs ", "A Standard Webhooks secret is")

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
    if not isinstance(detail, dict) or len(detail) != 1:
        return True
    field, messages = next(iter(detail.items()))
    if field in ("destination_url", "target"):
        return False
    cross_field = all(any(rule in message for rule in CROSS_FIELD_VERIFICATION) for message in messages)
    return not (field == "verification" and cross_field)
