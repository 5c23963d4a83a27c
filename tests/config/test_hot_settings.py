from django.test import override_settings

from config.hot_settings import hot


def test_a_hot_setting_follows_overrides_and_their_end():
    before = hot("MAX_URL_BYTES")
    with override_settings(MAX_URL_BYTES=before + 1):
        assert hot("MAX_URL_BYTES") == before + 1
    assert hot("MAX_URL_BYTES") == before


def test_the_settings_fixture_reaches_ingest_limits(settings):
    # tests/events/test_ingest_limits.py covers the limits themselves; this
    # is the path from pytest-django's fixture to the cached value.
    settings.MAX_HEADER_BYTES = 10
    assert hot("MAX_HEADER_BYTES") == 10
