from django.apps import AppConfig


class TestSessionsConfig(AppConfig):
    name = "testsessions"
    verbose_name = "Test sessions"
