"""The process's Redis client for favsite's own keys (Celery keeps its own connections)."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def redis_client() -> redis.Redis:
    """One client per process and ``REDIS_URL``; redis-py clients are thread-safe (a pooled connection a command)."""
    return _client(settings.REDIS_URL)
