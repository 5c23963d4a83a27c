"""Parallel runs (and installations) share a Redis database without sharing keys."""

import uuid

import pytest
import redis
from django.conf import settings

from config.celery import app
from tests.support.redis_keys import drop_run_keys, run_keys


@pytest.fixture
def probe_queue(redis_client):
    name = f"probe-{uuid.uuid4().hex[:8]}"
    yield name
    redis_client.delete(*redis_client.keys(f"*{name}*") or [name])


def test_celery_keeps_its_queue_and_bookkeeping_under_the_prefix(redis_client: redis.Redis, probe_queue: str):
    app.send_task("deliveries.tasks.sweep_due", queue=probe_queue)
    ours = redis_client.keys(f"*{probe_queue}*")
    assert ours, "the task was published somewhere"
    assert all(key.decode().startswith(f"{settings.REDIS_PREFIX}:") for key in ours)
    assert f"{settings.REDIS_PREFIX}:_kombu.binding.{probe_queue}".encode() in ours


def test_dropping_a_runs_keys_leaves_other_runs_alone(redis_client: redis.Redis):
    mine, other = f"{settings.REDIS_PREFIX}:probe", f"hl-test-someone-else-{uuid.uuid4().hex[:8]}:probe"
    redis_client.set(mine, 1)
    redis_client.set(other, 1, ex=60)
    try:
        assert drop_run_keys(redis_client) >= 1
        assert run_keys(redis_client) == []
        assert redis_client.get(other) == b"1"
    finally:
        redis_client.delete(mine, other)
