from django.contrib import admin
from django.http import HttpRequest

from endpoints.forms import EndpointAdminForm
from endpoints.models import ApiKey, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = ["name", "public_id", "owner", "destination_url", "paused", "health", "created_at"]
    list_filter = ["paused", "health"]
    search_fields = ["name", "public_id", "owner__username", "destination_url"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    # The encrypted secret is meaningless to read and dangerous to edit by hand.
    exclude = ["signing_secret_encrypted", "previous_signing_secret_encrypted", "verification_secret_encrypted"]
    # Toolkit settings are edited through the form's own fields (endpoints/toolkit_form.py).
    readonly_fields = [
        "public_id", "ingest_token", "health", "created_at", "updated_at", "verification_scheme",
        "verification_mode", "verification_options", "dedup_window_seconds", "dedup_action",
        "previous_secret_expires_at",
        "report_token", "paused_reason",
    ]
    date_hierarchy = "created_at"


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "public_id", "prefix", "owner", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "public_id", "prefix", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["public_id", "prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A key made here would have no raw value to hand out; ApiKey.issue does.
        return False
