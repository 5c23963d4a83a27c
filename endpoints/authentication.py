"""`X-API-Key: <key>` authentication for the REST API."""

from rest_framework import authentication, exceptions, permissions

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


class NotWithApiKey(permissions.BasePermission):
    """For managing API keys: a leaked key must not be able to mint the keys
    that would outlive its own revocation. A JWT or a session is needed."""

    message = "API keys cannot manage API keys; use a JWT access token or the dashboard."

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.auth, ApiKey)
