"""Token endpoints of the REST API: obtain, refresh (rotating) and logout.

All three are throttled per address (AuthRateThrottle); obtaining a token
also counts failed passwords per account and per address (django-axes), the
same count the login form and the admin login share.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenViewBase

from accounts.lockout import MESSAGE, seconds_until_unlocked
from accounts.throttling import AuthRateThrottle

ERROR = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})
THROTTLED = OpenApiResponse(ERROR, description="Too many requests or failed logins; see `Retry-After` (seconds).")
UNAUTHORIZED = OpenApiResponse(ERROR, description="Wrong credentials, or an invalid, expired or used token.")
# Field errors map names to messages; a body that is not JSON gets a sentence.
FIELD_ERRORS = inline_serializer("AuthFieldErrors", {"detail": serializers.JSONField()})
BAD_REQUEST = OpenApiResponse(
    FIELD_ERRORS, description="A field is missing or blank (`detail` maps it to its errors), or the body is not JSON."
)


class TokenObtainView(TokenObtainPairView):
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        summary="Exchange a username and password for an access and a refresh token",
        responses={200: TokenObtainPairSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            # django-axes flags the request it refused (or just locked out);
            # the serializer only saw "no active account".
            if getattr(request, "axes_locked_out", False):
                username = request.data.get("username") if hasattr(request.data, "get") else None
                wait = seconds_until_unlocked(request, username if isinstance(username, str) else None)
                raise Throttled(wait=wait, detail=MESSAGE) from None
            raise


class TokenRotateView(TokenRefreshView):
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        summary="Trade a refresh token for a new access and refresh token",
        description="The refresh token sent is blacklisted: each one works once.",
        responses={200: TokenRefreshSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except get_user_model().DoesNotExist:
            # simplejwt looks the token's user up with .get(): a deleted
            # account would otherwise be a 500.
            raise AuthenticationFailed("No active account found for the given token.") from None


class LogoutView(TokenViewBase):
    """The refresh token is the credential here, as on the refresh endpoint."""

    serializer_class = TokenBlacklistSerializer
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        summary="Log out: blacklist a refresh token",
        responses={204: None, 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        super().post(request, *args, **kwargs)
        return Response(status=204)
