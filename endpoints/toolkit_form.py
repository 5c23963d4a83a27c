"""The debugging toolkit's fields of the endpoint form (verification, dedup,
handshakes, rotation), checked by the same rules as the API (endpoints/toolkit.py)."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from endpoints import toolkit
from endpoints.models import DedupAction, Endpoint, VerificationMode
from events.verification import HMAC_ALGORITHMS, HMAC_ENCODINGS, SCHEMES

SCHEME_LABELS = {
    "stripe": "Stripe", "github": "GitHub", "shopify": "Shopify", "slack": "Slack",
    "standard": "Standard Webhooks", "hmac": "Generic HMAC",
}


class ToolkitFields(forms.Form):
    verify_scheme = forms.ChoiceField(
        label="Signature scheme", required=False,
        choices=[("", "None")] + [(name, SCHEME_LABELS[name]) for name in SCHEMES],
        help_text="Check each request's signature the way this provider signs it.",
    )
    verify_mode = forms.ChoiceField(
        label="When a signature is not valid", required=False, choices=[
            (VerificationMode.OFF, "off: do not check"),
            (VerificationMode.FLAG, "flag: store and forward, marked invalid"),
            (VerificationMode.REJECT, "reject: answer 401, store as rejected, never forward"),
        ], initial=VerificationMode.FLAG,
    )
    verify_secret = forms.CharField(
        label="Verification secret", required=False, max_length=toolkit.MAX_SECRET_CHARS,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The provider's signing secret (also answers Zoom and X handshakes). "
        "Write-only: leave empty to keep the stored one.",
    )
    verify_header = forms.CharField(label="HMAC header", required=False, max_length=100,
                                    help_text="Generic HMAC only: the header carrying the signature.")
    verify_algorithm = forms.ChoiceField(label="HMAC algorithm", required=False, choices=[(a, a) for a in HMAC_ALGORITHMS],
                                         initial="sha256")
    verify_encoding = forms.ChoiceField(label="HMAC encoding", required=False, choices=[(e, e) for e in HMAC_ENCODINGS],
                                        initial="hex")
    verify_prefix = forms.CharField(label="HMAC prefix", required=False, max_length=50, strip=False,
                                    help_text="Generic HMAC only, e.g. sha256=")
    dedup_window = forms.IntegerField(
        label="Deduplication window (seconds)", required=False, min_value=0, max_value=toolkit.MAX_WINDOW_SECONDS, initial=0,
        help_text="Repeats of a provider delivery id (else of the same body) within this window; 0 turns it off.",
    )
    dedup_on_repeat = forms.ChoiceField(
        label="On a repeat", required=False, initial=DedupAction.FLAG,
        choices=[(DedupAction.FLAG, "flag: store and forward, marked duplicate"),
                 (DedupAction.DROP, "drop: answer with the original event id, store nothing")],
    )
    handshakes = forms.BooleanField(
        label="Answer provider URL checks", required=False,
        help_text="Slack, Microsoft Graph, Zoom, Dropbox and X/Twitter challenges: answered, stored, never forwarded.",
    )
    rotation_overlap = forms.IntegerField(
        label="Signing secret overlap (seconds)", required=False, min_value=0, max_value=toolkit.MAX_WINDOW_SECONDS, initial=86400,
        help_text="After a rotation the old secret keeps signing this long, beside the new one.",
    )


def initial_of(endpoint: Endpoint) -> dict[str, Any]:
    options = endpoint.verification_options or {}
    return {
        "verify_scheme": endpoint.verification_scheme,
        "verify_mode": endpoint.verification_mode,
        "verify_header": options.get("header", ""),
        "verify_algorithm": options.get("algorithm", "sha256"),
        "verify_encoding": options.get("encoding", "hex"),
        "verify_prefix": options.get("prefix", ""),
        "dedup_window": endpoint.dedup_window_seconds,
        "dedup_on_repeat": endpoint.dedup_action,
        "handshakes": endpoint.handshakes,
        "rotation_overlap": endpoint.rotation_overlap,
    }


def clean(form: forms.BaseForm, endpoint: Endpoint | None) -> dict[str, Any]:
    """Model attributes from the form's toolkit fields; errors go on the form."""
    data = form.cleaned_data
    attributes: dict[str, Any] = {"handshakes": data.get("handshakes", False)}
    if data.get("rotation_overlap") is not None:
        attributes["rotation_overlap"] = data["rotation_overlap"]
    # Every toolkit field may be left out of a POST: empty means the default.
    verification: dict[str, Any] = {"scheme": data.get("verify_scheme") or None}
    if data.get("verify_mode"):
        verification["mode"] = data["verify_mode"]
    if data.get("verify_secret"):
        verification["secret"] = data["verify_secret"]
    if verification["scheme"] == "hmac":
        verification.update(
            header=data.get("verify_header", ""), algorithm=data.get("verify_algorithm") or "sha256",
            encoding=data.get("verify_encoding") or "hex", prefix=data.get("verify_prefix", ""),
        )
    try:
        attributes.update(toolkit.clean_verification(verification, endpoint))
    except ValidationError as exc:
        form.add_error("verify_scheme", exc)
    dedup = {"window_seconds": data.get("dedup_window") or 0, "action": data.get("dedup_on_repeat") or DedupAction.FLAG}
    attributes.update(toolkit.clean_dedup(dedup))
    return attributes
