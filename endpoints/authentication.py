"""`X-API-Key: <key>` authentication for the REST API."""

from rest_framework import authentication, exceptions

from endpoints.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        raw = request.META.get(self.header)
        if not raw:
            return None
        key = ApiKey.authenticate(raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return key.owner, key

    def authenticate_header(self, request) -> str:
        return "X-API-Key"
