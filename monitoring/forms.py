"""The monitoring settings form of an endpoint (same rules as the API)."""

from django import forms

from endpoints.models import DEFAULT_MONITORING, Endpoint
from endpoints.validation import validate_monitoring


class MonitoringForm(forms.Form):
    expected_every_seconds = forms.IntegerField(
        required=False, min_value=1, label="Expect an event every (seconds)",
        help_text="Empty: never alert on silence.",
    )
    grace_seconds = forms.IntegerField(min_value=0, label="Grace (seconds)")
    required_fields = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Required fields",
        help_text="One JSON pointer per line, e.g. /data/object/id.",
    )
    max_body_bytes = forms.IntegerField(required=False, min_value=1, label="Largest expected body (bytes)")
    latency_threshold_ms = forms.IntegerField(min_value=1, label="Slow processing above (ms)")
    auto_pause_after_seconds = forms.IntegerField(
        required=False, min_value=60, label="Auto-pause after failing for (seconds)", help_text="Empty: never.",
    )

    def __init__(self, *args, initial: dict | None = None, **kwargs) -> None:
        initial = dict(initial or DEFAULT_MONITORING)
        initial["required_fields"] = "\n".join(initial.get("required_fields") or [])
        super().__init__(*args, initial=initial, **kwargs)

    def clean_required_fields(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["required_fields"].splitlines() if line.strip()]

    def save(self, endpoint: Endpoint) -> None:
        settings = {**endpoint.monitor_settings, **self.cleaned_data}
        validate_monitoring(settings)  # the API's rules: one place decides
        endpoint.monitoring = settings
        endpoint.save(update_fields=["monitoring", "updated_at"])
