"""Settings read on every webhook, without `django.conf.settings`' cost.

Each `settings.NAME` goes through LazyObject's Python `__getattribute__`,
which also probes the value for a `_mask_wrapped` attribute (an
AttributeError raised and dropped for every int): about a microsecond,
several times per webhook. `hot("NAME")` is a dict lookup; the cache is
emptied whenever Django announces a changed setting (override_settings and
pytest-django's `settings` fixture do), so tests see their overrides.
"""

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

_values: dict[str, Any] = {}


def hot(name: str) -> Any:
    try:
        return _values[name]
    except KeyError:
        value = _values[name] = getattr(settings, name)
        return value


def _forget(**_kwargs) -> None:
    _values.clear()


setting_changed.connect(_forget, dispatch_uid="config.hot_settings")
