from django.conf import settings
from django.http import HttpRequest


def signup(request: HttpRequest) -> dict[str, bool]:
    """Templates hide every sign-up link on a private install."""
    return {"signup_enabled": settings.SIGNUP_ENABLED}
