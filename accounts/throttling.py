"""DRF throttle for the token endpoints: requests per minute and address."""

import logging

from django.conf import settings
from redis import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


class AuthRateThrottle(SimpleRateThrottle):
    scope = "auth"

    def get_rate(self) -> str:
        return f"{settings.AUTH_REQUESTS_PER_MINUTE}/min"

    def get_ident(self, request: Request) -> str:
        # Not DRF's default, which believes any client's X-Forwarded-For: the
        # server (uvicorn) already took the address from trusted proxies only.
        return request.META.get("REMOTE_ADDR", "")

    def get_cache_key(self, request: Request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            # Failed logins are still counted in the database (axes); a Redis
            # outage must not lock everybody out.
            log.exception("auth throttle unavailable; letting the request through")
            return True
