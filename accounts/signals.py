"""Credentials that end together: logging out or changing the password
blacklists every refresh token of the user; logging out closes the
WebSockets opened with that session, a password change those of all the
user's sessions."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.tokens import revoke_refresh_tokens
from realtime import internal
from realtime.publish import publish_on_commit

PASSWORD_CHANGED = "_password_changed"


@receiver(user_logged_out, dispatch_uid="accounts.end_session")
def end_session(sender, request: HttpRequest, user, **kwargs) -> None:
    if user is not None:
        revoke_refresh_tokens(user.pk)
    # Sent before the session is flushed, so its key is still known here.
    session_key = request.session.session_key if hasattr(request, "session") else None
    if session_key:
        publish_on_commit(internal.session_group(session_key), internal.session_ended())


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.note_password_change")
def note_password_change(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    # Saves that cannot touch the password (e.g. last_login) cost no query.
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    setattr(instance, PASSWORD_CHANGED, stored is not None and stored != instance.password)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.revoke_on_password_change")
def revoke_on_password_change(sender, instance, **kwargs) -> None:
    if getattr(instance, PASSWORD_CHANGED, False):
        setattr(instance, PASSWORD_CHANGED, False)
        revoke_refresh_tokens(instance.pk)
        # Every socket opened with one of the user's sessions closes (4001).
        publish_on_commit(internal.user_sessions_group(instance.pk), internal.password_changed())
