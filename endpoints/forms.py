from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError

from endpoints import toolkit_form
from endpoints.models import DEFAULT_MONITORING, Endpoint, default_retry_schedule
from endpoints.validation import (
    validate_destination_url,
    validate_monitoring,
    validate_rate_limit,
    validate_response_content_type,
    validate_response_status,
    validate_retry_schedule,
    validate_timeout,
)


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, max_length=254)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError("An account with this email already exists.")
        return email


def parse_retry_schedule(text: str) -> list[int]:
    delays: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            delays.append(int(part))
        except ValueError:
            raise ValidationError(
                f"Retry schedule must be whole seconds separated by commas; {part!r} is not a number."
            ) from None
    return delays


class EndpointForm(toolkit_form.ToolkitFields, forms.ModelForm):
    # Explicit fields so the shared validators (SSRF check included) run on
    # exactly the values the API would accept.
    destination_url = forms.URLField(
        label="Destination URL",
        required=False,
        max_length=2000,
        assume_scheme="https",
        validators=[validate_destination_url],
        help_text="Where events are forwarded. Leave empty for an inbox that only stores events.",
    )
    retry_schedule = forms.CharField(
        label="Retry schedule (seconds)",
        max_length=500,
        help_text="Delays in seconds between attempts, comma-separated, e.g. 60, 300, 1800.",
    )
    timeout_seconds = forms.IntegerField(
        label="Timeout (seconds)",
        initial=10, validators=[validate_timeout], help_text="Seconds to wait for the destination (1–30)."
    )
    rate_limit = forms.IntegerField(
        label="Rate limit (requests/second)",
        required=False,
        validators=[validate_rate_limit],
        help_text="Senders get 429 with Retry-After above this rate; empty for no limit.",
    )
    response_status = forms.IntegerField(
        required=False,
        validators=[validate_response_status],
        help_text="Status answered to senders; empty for the default 200.",
    )
    response_content_type = forms.CharField(
        required=False, max_length=200, validators=[validate_response_content_type], help_text="Content type of the custom answer: application/json, text/plain, application/xml or text/xml, optionally with ; charset=utf-8."
    )
    response_body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text='Custom answer body; empty for {"received": true, "event_id": …}.',
    )

    field_order = [
        "name", "destination_url", "retry_schedule", "timeout_seconds", "rate_limit", "response_status",
        "response_content_type", "response_body",
    ]

    class Meta:
        model = Endpoint
        fields = [
            "name",
            "destination_url",
            "retry_schedule",
            "timeout_seconds",
            "rate_limit",
            "response_status",
            "response_content_type",
            "response_body",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        schedule = self.instance.retry_schedule if self.instance.pk else default_retry_schedule()
        self.initial["retry_schedule"] = ", ".join(str(delay) for delay in schedule)
        if self.instance.pk:
            self.initial.update(toolkit_form.initial_of(self.instance))

    def clean_destination_url(self) -> str | None:
        return self.cleaned_data["destination_url"] or None

    def clean_retry_schedule(self) -> list[int]:
        delays = parse_retry_schedule(self.cleaned_data["retry_schedule"])
        validate_retry_schedule(delays)
        return delays

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("response_body") and cleaned.get("response_status") in (204, 304):
            self.add_error("response_body", "A 204 or 304 answer cannot carry a body.")
        self.toolkit = toolkit_form.clean(self, self.instance if self.instance.pk else None)
        return cleaned

    def save(self, commit: bool = True) -> Endpoint:
        for name, value in self.toolkit.items():
            setattr(self.instance, name, value)
        return super().save(commit=commit)


class EndpointAdminForm(EndpointForm):
    """The Django admin's form: every field the UI form checks is checked the
    same way (SSRF, retry schedule, content type, …), plus the rest of the model."""

    monitoring = forms.JSONField(
        required=False, validators=[validate_monitoring],
        help_text="Detector settings (README, Monitoring); keys left out keep their defaults.",
    )

    class Meta(EndpointForm.Meta):
        fields = "__all__"

    def clean_monitoring(self) -> dict:
        # As in the API: missing keys keep their defaults.
        return {**DEFAULT_MONITORING, **(self.cleaned_data["monitoring"] or {})}
