from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from events.models import Event

BODY_PREVIEW_CHARS = 4000


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["public_id", "endpoint", "method", "status", "size", "attempt_count", "received_at"]
    list_filter = ["status", "method"]
    search_fields = ["public_id", "endpoint__public_id", "endpoint__name"]
    list_select_related = ["endpoint"]
    # Events are evidence of what a sender sent: viewable, never edited here.
    readonly_fields = [
        "public_id", "endpoint", "method", "path", "query", "headers", "body_preview", "size", "source_ip",
        "content_type", "received_at", "status", "next_attempt_at", "enqueued_at", "attempt_count",
        "retry_index",
    ]
    exclude = ["body"]
    # Counting millions of rows on every changelist page is the slow part.
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).defer("body")

    @admin.display(description="body")
    def body_preview(self, event: Event) -> str:
        text = event.body_text()
        if text is None:
            return f"<{event.size} bytes of binary data>"
        if len(text) > BODY_PREVIEW_CHARS:
            return text[:BODY_PREVIEW_CHARS] + "…"
        return text

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False
