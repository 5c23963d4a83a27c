import base64
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from config import crypto
from config.ids import new_id, random_token
from realtime import internal
from realtime.publish import publish_on_commit

DEFAULT_RETRY_SCHEDULE = [60, 300, 1800, 7200, 21600, 43200, 86400]


def default_retry_schedule() -> list[int]:
    return list(DEFAULT_RETRY_SCHEDULE)


def new_endpoint_id() -> str:
    return new_id("ep")


def new_ingest_token() -> str:
    return random_token(32)


def new_report_token() -> str:
    return random_token(32)


DEFAULT_MONITORING = {
    "expected_every_seconds": None,
    "grace_seconds": 300,
    "required_fields": [],
    "max_body_bytes": None,
    "latency_threshold_ms": 5000,
    "auto_pause_after_seconds": 432000,
}


def default_monitoring() -> dict:
    return dict(DEFAULT_MONITORING)


def new_signing_secret() -> str:
    # Standard Webhooks: the part after the prefix is base64 of the HMAC key.
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class VerificationMode(models.TextChoices):
    OFF = "off"
    FLAG = "flag"
    REJECT = "reject"


class DedupAction(models.TextChoices):
    FLAG = "flag"
    DROP = "drop"


DEFAULT_ROTATION_OVERLAP = 86400


class Health(models.TextChoices):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"
    INACTIVE = "inactive"


class Endpoint(models.Model):
    # NULL only for the hidden inbox of an anonymous test session
    # (testsessions.models); every user-facing query filters on the owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="endpoints", null=True, blank=True
    )
    public_id = models.CharField(max_length=40, unique=True, default=new_endpoint_id, editable=False)
    name = models.CharField(max_length=200)
    ingest_token = models.CharField(max_length=64, unique=True, default=new_ingest_token, editable=False)
    destination_url = models.URLField(max_length=2000, null=True, blank=True)
    paused = models.BooleanField(default=False)
    retry_schedule = models.JSONField(default=default_retry_schedule)
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    signing_secret_encrypted = models.TextField(blank=True, default="")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=200, blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    # Ingest requests per second above which senders get 429; None: no limit.
    rate_limit = models.PositiveIntegerField(null=True, blank=True)
    health = models.CharField(max_length=16, choices=Health.choices, default=Health.INACTIVE)
    # Why the endpoint is paused when monitoring paused it ("" when a person did).
    paused_reason = models.CharField(max_length=300, blank=True, default="")
    report_token = models.CharField(max_length=64, unique=True, default=new_report_token, editable=False)
    # Days its events are kept; None: the installation's RETENTION_DAYS.
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    # Detector settings (README "Monitoring"); missing keys take DEFAULT_MONITORING.
    monitoring = models.JSONField(default=default_monitoring)
    # Inbound signature verification (events/verification.py); the secret is
    # write-only in every interface and encrypted like the signing secret.
    verification_scheme = models.CharField(max_length=16, blank=True, default="")
    verification_mode = models.CharField(
        max_length=8, choices=VerificationMode.choices, default=VerificationMode.OFF
    )
    verification_secret_encrypted = models.TextField(blank=True, default="")
    # The generic "hmac" scheme's header, algorithm, encoding and prefix.
    verification_options = models.JSONField(default=dict, blank=True)
    dedup_window_seconds = models.PositiveIntegerField(default=0)
    dedup_action = models.CharField(max_length=8, choices=DedupAction.choices, default=DedupAction.FLAG)
    handshakes = models.BooleanField(default=False)
    # Signing secret rotation: the previous secret still signs until it expires.
    previous_signing_secret_encrypted = models.TextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    rotation_overlap = models.PositiveIntegerField(default=DEFAULT_ROTATION_OVERLAP)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    def save(self, *args, **kwargs) -> None:
        if not self.signing_secret_encrypted:
            self.signing_secret = new_signing_secret()
        super().save(*args, **kwargs)

    @property
    def signing_secret(self) -> str:
        return crypto.decrypt(self.signing_secret_encrypted) if self.signing_secret_encrypted else ""

    @signing_secret.setter
    def signing_secret(self, value: str) -> None:
        self.signing_secret_encrypted = crypto.encrypt(value) if value else ""

    @property
    def verification_secret(self) -> str:
        return crypto.decrypt(self.verification_secret_encrypted) if self.verification_secret_encrypted else ""

    @verification_secret.setter
    def verification_secret(self, value: str) -> None:
        self.verification_secret_encrypted = crypto.encrypt(value) if value else ""

    @property
    def previous_signing_secret(self) -> str:
        """The secret replaced by the last rotation, while it still signs."""
        expires = self.previous_secret_expires_at
        if not self.previous_signing_secret_encrypted or expires is None or expires <= timezone.now():
            return ""
        return crypto.decrypt(self.previous_signing_secret_encrypted)

    def rotate_signing_secret(self) -> None:
        """A new secret now; the old one keeps signing for `rotation_overlap` seconds."""
        if self.rotation_overlap and self.signing_secret_encrypted:
            self.previous_signing_secret_encrypted = self.signing_secret_encrypted
            self.previous_secret_expires_at = timezone.now() + timedelta(seconds=self.rotation_overlap)
        else:
            self.previous_signing_secret_encrypted = ""
            self.previous_secret_expires_at = None
        self.signing_secret = new_signing_secret()
        self.save(
            update_fields=[
                "signing_secret_encrypted", "previous_signing_secret_encrypted", "previous_secret_expires_at",
                "updated_at",
            ]
        )

    @property
    def ingest_url(self) -> str:
        return f"{settings.INGEST_BASE_URL}/in/{self.ingest_token}"

    @property
    def report_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/m/{self.report_token}"

    @property
    def monitor_settings(self) -> dict:
        return {**DEFAULT_MONITORING, **(self.monitoring or {})}

    @property
    def group_name(self) -> str:
        return endpoint_group(self.public_id)

    def rotate_ingest_token(self) -> None:
        self.ingest_token = new_ingest_token()
        self.save(update_fields=["ingest_token", "updated_at"])


def endpoint_group(public_id: str) -> str:
    return f"endpoint.{public_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def hash_api_key(raw: str) -> str:
    # API keys carry 190+ bits of randomness, so a fast hash is enough and
    # lets authentication be one indexed lookup.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    public_id = models.CharField(max_length=40, unique=True, editable=False)
    name = models.CharField(max_length=200)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, owner, name: str) -> tuple["ApiKey", str]:
        """Create a key; the raw key is returned once and never stored."""
        raw = "hl_" + secrets.token_urlsafe(32)
        key = cls.objects.create(
            owner=owner, name=name, public_id=new_id("key"), key_hash=hash_api_key(raw), prefix=raw[:10]
        )
        return key, raw

    @classmethod
    def authenticate(cls, raw: str) -> "ApiKey | None":
        key = cls.objects.active().select_related("owner").filter(key_hash=hash_api_key(raw)).first()
        if key is None or not key.owner.is_active:
            return None
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            cls.objects.filter(pk=key.pk).update(last_used_at=now)
        return key

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
        # Open WebSockets authenticated with this key close with 4001.
        publish_on_commit(internal.api_key_group(self.public_id), internal.api_key_revoked(self.public_id))
