from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from deliveries.models import DeliveryAttempt

RESPONSE_PREVIEW_CHARS = 4000


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["public_id", "event", "endpoint", "attempt", "outcome", "status_code", "duration_ms", "started_at"]
    list_filter = ["outcome"]
    search_fields = ["public_id", "event__public_id", "endpoint__public_id"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [
        "public_id", "event", "endpoint", "attempt", "url", "request_headers", "status_code", "outcome",
        "duration_ms", "response_headers", "response_preview", "error", "started_at", "next_retry_at",
    ]
    exclude = ["response_body"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeliveryAttempt]:
        # The event's body is never shown here; do not load it for every row.
        return (
            super()
            .get_queryset(request)
            .select_related("event", "endpoint")
            .defer("response_body", "event__body", "event__headers")
        )

    @admin.display(description="response body")
    def response_preview(self, attempt: DeliveryAttempt) -> str:
        text = attempt.response_text()
        return text[:RESPONSE_PREVIEW_CHARS] + ("…" if len(text) > RESPONSE_PREVIEW_CHARS else "")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DeliveryAttempt | None = None) -> bool:
        return False
