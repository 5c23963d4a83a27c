from django import template

from monitoring.models import Alert, AlertState

register = template.Library()


@register.inclusion_tag("monitoring/_open_alerts.html")
def open_alerts(user) -> dict:
    """The dashboard's list of open alerts, newest first (kept live by alerts.js)."""
    alerts = (
        Alert.objects.filter(endpoint__owner=user, state=AlertState.OPEN)
        .select_related("endpoint")
        .order_by("-opened_at", "-id")[:50]
    )
    return {"alerts": alerts}
