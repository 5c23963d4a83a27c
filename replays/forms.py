"""The web UI's replay forms: one event (on its page) and a bulk replay."""

from django import forms
from django.conf import settings
from rest_framework.exceptions import ValidationError as ApiValidationError

from endpoints.models import Endpoint
from endpoints.validation import validate_destination_url
from events.models import Event, EventStatus
from replays.serializers import parse_headers
from replays.single import Changes

# Bodies larger than this are sent as they are, never put in a textarea.
EDITABLE_BODY_LIMIT = 256 * 1024


def headers_text(headers: list[list[str]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers)


def parse_headers_text(text: str) -> list[list[str]]:
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise forms.ValidationError(f'Line {number} is not "Name: value".')
        pairs.append([name.strip(), value.strip()])
    try:
        return parse_headers(pairs)
    except ApiValidationError as exc:
        raise forms.ValidationError(exc.detail[0]) from None


def editable_body(event: Event) -> str | None:
    """The body as text for editing, or None when it cannot be edited here."""
    if event.size > EDITABLE_BODY_LIMIT:
        return None
    return event.body_text()


class ReplayForm(forms.Form):
    target = forms.ChoiceField(
        choices=[("endpoint", "The endpoint's destination"), ("url", "Another URL")],
        widget=forms.RadioSelect,
        initial="endpoint",
    )
    destination_url = forms.URLField(
        required=False, max_length=2000, validators=[validate_destination_url], assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "http://localhost:3000/webhooks"}),
    )
    headers = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 6}))
    body = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 12}))

    def __init__(self, event: Event, *args, **kwargs) -> None:
        self.event = event
        self.original_body = editable_body(event)
        initial = {"headers": headers_text(event.headers), "body": self.original_body or ""}
        super().__init__(*args, initial=initial, **kwargs)
        if self.original_body is None:
            del self.fields["body"]

    def clean_headers(self) -> list[list[str]] | None:
        if "headers" not in self.data:
            return None
        return parse_headers_text(self.cleaned_data["headers"])

    def clean_body(self) -> bytes | None:
        if "body" not in self.data:
            return None
        text = self.cleaned_data["body"]
        # Browsers send a textarea's line breaks as CRLF whatever they were.
        if "\r\n" not in self.original_body:
            text = text.replace("\r\n", "\n")
        body = text.encode("utf-8")
        if len(body) > settings.MAX_BODY_BYTES:
            limit = settings.MAX_BODY_BYTES
            raise forms.ValidationError(f"The body is larger than the limit of {limit} bytes.")
        return body

    def clean(self) -> dict:
        data = super().clean()
        if data.get("target") == "url" and not data.get("destination_url") and "destination_url" not in self.errors:
            self.add_error("destination_url", "Give the URL to send the event to.")
        inbox = not self.event.endpoint.destination_url
        if data.get("target") == "endpoint" and inbox and not self.errors and not self.changes().edits:
            message = "This endpoint is an inbox with no destination: edit the event or give a URL."
            self.add_error("target", forms.ValidationError(message, code="inbox"))
        return data

    def changes(self) -> Changes:
        """What the user asked for; a field left as it was is no edit."""
        data = self.cleaned_data
        body = data.get("body")
        headers = data.get("headers")
        return Changes(
            destination_url=data.get("destination_url") if data.get("target") == "url" else None,
            body=body if body is not None and body != self.event.body_bytes else None,
            headers=headers if headers is not None and headers != self.event.headers else None,
        )


class BulkReplayForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "any status"), *EventStatus.choices], initial=EventStatus.FAILED
    )
    received_after = forms.DateTimeField(
        required=False, help_text="UTC", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    received_before = forms.DateTimeField(
        required=False, help_text="UTC", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    event_type = forms.CharField(required=False, max_length=255)

    def __init__(self, endpoint: Endpoint, *args, **kwargs) -> None:
        self.endpoint = endpoint
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        data = super().clean()
        after, before = data.get("received_after"), data.get("received_before")
        if after and before and after >= before:
            self.add_error("received_before", "Must be later than “received after”.")
        if not self.endpoint.destination_url:
            raise forms.ValidationError("This endpoint is an inbox with no destination: there is nothing to replay to.")
        return data
