"""Ending every JWT refresh token of a user at once."""

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken


def revoke_refresh_tokens(user_id: int) -> int:
    """Blacklist the user's refresh tokens that still work; how many there were.

    Access tokens are not tracked; they run out within ACCESS_TOKEN_LIFETIME.
    """
    live = OutstandingToken.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).values_list("pk", flat=True)
    rows = [BlacklistedToken(token_id=pk) for pk in live]
    # A token blacklisted concurrently (its own rotation) is already dead.
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def delete_expired_tokens() -> int:
    """Forget refresh tokens past their expiry (their blacklist rows go too).

    Every login and every refresh records one; an expired token is refused
    by its signature's `exp` alone, so its row has nothing left to say.
    """
    deleted, _ = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
