"""Rules for endpoint settings, shared by the web forms and the API."""

from django.core.exceptions import ValidationError

from config.schema import documents
from deliveries.ssrf import check_url

MAX_RETRIES = 20
MAX_RETRY_DELAY = 7 * 24 * 3600
TIMEOUT_RANGE = (1, 30)


def validate_destination_url(value: str | None) -> None:
    if not value:
        return
    reason = check_url(value)
    if reason:
        raise ValidationError(f"Destination refused: {reason}.")


def validate_retry_schedule(value: object) -> None:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RETRIES:
        raise ValidationError(f"Retry schedule must be a list of 1 to {MAX_RETRIES} delays in seconds.")
    for delay in value:
        if isinstance(delay, bool) or not isinstance(delay, int) or not 1 <= delay <= MAX_RETRY_DELAY:
            raise ValidationError(
                f"Each retry delay must be a whole number of seconds from 1 to {MAX_RETRY_DELAY} (7 days); got {delay!r}."
            )


@documents(minimum=TIMEOUT_RANGE[0], maximum=TIMEOUT_RANGE[1])
def validate_timeout(value: int) -> None:
    low, high = TIMEOUT_RANGE
    if not low <= value <= high:
        raise ValidationError(f"Timeout must be between {low} and {high} seconds.")


@documents(minimum=200, maximum=599)
def validate_response_status(value: int | None) -> None:
    if value is not None and not 200 <= value <= 599:
        raise ValidationError("Response status must be an HTTP status from 200 to 599.")


@documents(pattern="^[ -~]*$")
def validate_response_content_type(value: str) -> None:
    # It becomes a response header: printable ASCII only, no line breaks.
    if value and not all(" " <= char <= "~" for char in value):
        raise ValidationError("Content type must be printable ASCII, e.g. text/plain; charset=utf-8.")


@documents(minimum=1, maximum=100_000)
def validate_rate_limit(value: int | None) -> None:
    if value is not None and not 1 <= value <= 100_000:
        raise ValidationError("Rate limit must be between 1 and 100000 requests per second, or empty for none.")
