"""Settings for the test suite: real PostgreSQL and Redis, isolated per run.

Each run gets its own channel-layer prefix and Celery queue, so parallel
runs on one Redis never see each other's messages. Child processes the tests
start (server, worker, beat) inherit these variables.
"""

import os
import uuid

_run = uuid.uuid4().hex[:10]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hookline")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("CHANNEL_PREFIX", f"hl-test-{_run}")
os.environ.setdefault("CELERY_QUEUE", f"hl-test-{_run}")
os.environ.setdefault("TEST_DATABASE_NAME", f"test_hookline_{_run}")
# Every test client comes from 127.0.0.1; tests of the limit set their own.
os.environ.setdefault("AUTH_REQUESTS_PER_MINUTE", "100000")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
