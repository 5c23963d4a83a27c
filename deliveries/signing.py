"""The `webhook-signature` header of an outbound request, rotation included.

After a rotation the previous secret keeps signing until it expires, so a
receiver that still verifies with the old secret keeps accepting while its
owner rolls the new one out. Standard Webhooks allows several
space-separated signatures; verifiers accept the message if any matches.
"""

from deliveries.outbound import sign
from endpoints.models import Endpoint


def signature_header(endpoint: Endpoint, msg_id: str, timestamp: int, body: bytes) -> str | None:
    """The header value, or None when the endpoint has no signing secret."""
    secrets = [secret for secret in (endpoint.signing_secret, endpoint.previous_signing_secret) if secret]
    if not secrets:
        return None
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)
