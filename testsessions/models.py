"""Anonymous test sessions: a throwaway ingest URL with no account.

A session owns a hidden inbox Endpoint whose owner is NULL. Ingest,
storage, rate limiting and inspection are the endpoint's own, so nothing on
the hot path knows about sessions; every user-facing query filters on
`owner=<user>`, which a NULL owner never matches. Claiming a session gives
that endpoint an owner and forgets the session: the anonymous capability
ends and the events stay where they are.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from config.ids import new_id
from endpoints.models import Endpoint, user_group
from realtime import internal
from realtime.publish import publish_on_commit


def new_test_session_id() -> str:
    return new_id("ts")


def test_session_group(public_id: str) -> str:
    return f"testsession.{public_id}"


class TestSessionQuerySet(models.QuerySet):
    def live(self, now: datetime | None = None) -> "TestSessionQuerySet":
        return self.filter(expires_at__gt=now or timezone.now())


class TestSession(models.Model):
    __test__ = False  # a model, not a pytest class

    public_id = models.CharField(max_length=40, unique=True, default=new_test_session_id, editable=False)
    endpoint = models.OneToOneField(Endpoint, on_delete=models.CASCADE, related_name="test_session")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    objects = TestSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.public_id

    @classmethod
    def open(cls, source_ip: str | None) -> "TestSession":
        now = timezone.now()
        with transaction.atomic():
            endpoint = Endpoint.objects.create(
                owner=None, name="Test session", rate_limit=settings.TEST_SESSION_INGEST_RATE_LIMIT
            )
            return cls.objects.create(
                endpoint=endpoint,
                source_ip=source_ip,
                created_at=now,
                expires_at=now + timedelta(seconds=settings.TEST_SESSION_TTL_SECONDS),
            )

    @property
    def ws_url(self) -> str:
        return f"/v1/ws/test/{self.public_id}"

    @property
    def page_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/t/{self.public_id}"

    @property
    def group_name(self) -> str:
        return test_session_group(self.public_id)

    def claim(self, user) -> Endpoint:
        """Give the hidden endpoint (and so its events) to `user`."""
        with transaction.atomic():
            # Locked first: the expiry sweep skips a locked session, and a
            # session it already deleted raises DoesNotExist here.
            TestSession.objects.live().select_for_update().get(pk=self.pk)
            endpoint = Endpoint.objects.select_for_update().get(pk=self.endpoint_id, owner__isnull=True)
            endpoint.owner = user
            endpoint.name = f"Test session {self.public_id}"
            # The anonymous ingest limit protects us from strangers; the
            # owner now sets their own.
            endpoint.rate_limit = None
            endpoint.save(update_fields=["owner", "name", "rate_limit", "updated_at"])
            self.delete()
            publish_on_commit(user_group(user.pk), internal.endpoint_created(endpoint.public_id))
            publish_on_commit(self.group_name, internal.test_session_ended(self.public_id))
        return endpoint


def delete_expired(batch: int = 200) -> int:
    """Delete sessions past their expiry with their endpoints and events."""
    deleted = 0
    while True:
        with transaction.atomic():
            expired = list(
                TestSession.objects.filter(expires_at__lte=timezone.now())
                .select_for_update(skip_locked=True)
                .values_list("public_id", "endpoint_id")[:batch]
            )
            if not expired:
                return deleted
            # The endpoint's cascade takes the events, attempts and session.
            Endpoint.objects.filter(pk__in=[endpoint_id for _, endpoint_id in expired], owner__isnull=True).delete()
            for public_id, _ in expired:
                publish_on_commit(test_session_group(public_id), internal.test_session_ended(public_id))
        deleted += len(expired)
