"""Announce endpoints appearing and disappearing to their owner's sockets.

A socket subscribed to "*" joins the `user.<id>` group and, on these
announcements, joins or leaves the endpoint's own group.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from endpoints.models import Endpoint, user_group
from realtime import internal
from realtime.publish import publish_on_commit


@receiver(post_save, sender=Endpoint, dispatch_uid="endpoints.announce_created")
def announce_created(sender, instance: Endpoint, created: bool, **kwargs) -> None:
    # An ownerless endpoint belongs to an anonymous test session: no user's
    # sockets follow it (claiming it announces it to its new owner).
    if created and instance.owner_id is not None:
        publish_on_commit(user_group(instance.owner_id), internal.endpoint_created(instance.public_id))


@receiver(post_delete, sender=Endpoint, dispatch_uid="endpoints.announce_deleted")
def announce_deleted(sender, instance: Endpoint, **kwargs) -> None:
    if instance.owner_id is not None:
        publish_on_commit(user_group(instance.owner_id), internal.endpoint_deleted(instance.public_id))
