"""The OpenAPI schema states every answer an operation can give.

drf-spectacular documents the success answer of each operation; the error
answers follow from the shape of the operation, so they are added here for
every view, including ones added later:

- 400 when the request carries a body or query parameters to validate;
- 401 everywhere: a bad or expired credential is refused even where
  anonymous access is allowed, and the token views refuse bad passwords;
- 403 when the view needs permissions beyond anonymous access;
- 404 when the path, the body or the query names an object (or a page, for
  a cursor);
- 429 when the view is throttled.

`tests/api/test_schema.py` runs schemathesis against the live server to hold
the schema to this.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.fields import CharField
from rest_framework.permissions import AllowAny

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {
            "description": "A sentence, or an object of field names to lists of sentences for a rejected body.",
        }
    },
    "required": ["detail"],
}
REASONS = {
    "400": "The request is not valid; `detail` says why (per field for a body).",
    "401": "Missing, invalid, expired or revoked credentials.",
    "403": "These credentials may not do this.",
    "404": "No such object among yours (another user's object is not found either), or no such page (cursor).",
    "429": "Too many requests; wait for the `Retry-After` seconds.",
}


def documents(**constraints: Any) -> Callable:
    """Marks a plain validator function with the JSON Schema it enforces.

    `@documents(minimum=1, maximum=30)` on `validate_timeout` puts those
    bounds into the schema of every serializer field using the validator,
    so a schema-valid request is never refused by a rule the schema hid.
    """

    def mark(validator: Callable) -> Callable:
        validator.openapi = constraints  # type: ignore[attr-defined]
        return validator

    return mark


class AutoSchema(SpectacularAutoSchema):
    def _insert_field_validators(self, field: Any, schema: dict) -> None:
        super()._insert_field_validators(field, schema)
        for validator in field.validators:
            schema.update(getattr(validator, "openapi", {}))
        if isinstance(field, CharField) and "pattern" not in schema and not field.read_only:
            # DRF refuses NUL characters in any text, and trims whitespace
            # before the blank check: say both, or fuzzers' valid strings fail.
            if field.trim_whitespace and not field.allow_blank:
                schema["pattern"] = r"^[^\x00]*[^\s\x00][^\x00]*$"
            else:
                schema["pattern"] = r"^[^\x00]*$"

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        self.registry.register_on_missing(self._error_component())
        responses = operation["responses"]
        for code in self._error_codes(operation):
            responses.setdefault(code, self._error_response(code))
        return operation

    def _error_codes(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        codes = []
        takes_input = "requestBody" in operation or any(p["in"] == "query" for p in parameters)
        if takes_input:
            codes.append("400")
        codes.append("401")
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes.append("403")
        # Input may name an object too (an endpoint to filter by or replay).
        if takes_input or any(p["in"] == "path" for p in parameters):
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _error_component(self) -> ResolvedComponent:
        return ResolvedComponent(
            name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=ERROR_COMPONENT, schema=ERROR_SCHEMA
        )

    def _error_response(self, code: str) -> dict:
        response: dict = {
            "description": REASONS[code],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}},
        }
        if code == "429":
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
        return response
