"""The Redis connection of distributed mode, its key names, and riding out an outage.

Every process of a deployment (daemon, `newsmon crawl`, `newsmon worker`s on any machine)
names its keys from one prefix (redis_prefix, "newsmon" by default), so two deployments
can share one Redis. Redis calls are synchronous and short; a process that loses Redis
waits and reconnects (`until_answered`) instead of failing: what is queued stays in Redis,
and what a process holds stays with it until Redis is back.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from monitor.extras import import_extra

T = TypeVar("T")
SOCKET_TIMEOUT = 10.0  # seconds: a Redis that stops answering is an outage, not a hang
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds between tries while Redis is away
log = logging.getLogger("newsmon.redis")


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix."""

    prefix: str

    @property
    def checks(self) -> str:
        """The ReliableQueue of checks (its own keys are {checks}:queue, :inflight:<worker>, ...)."""
        return f"{self.prefix}:checks"

    def results(self, enqueuer: str) -> str:
        """The list an enqueuer (the daemon, one `newsmon crawl`) reads its checks' results from."""
        return f"{self.prefix}:results:{enqueuer}"

    @property
    def domains(self) -> str:
        return f"{self.prefix}:domains"

    @property
    def robots(self) -> str:
        return f"{self.prefix}:robots"

    @property
    def recover_lock(self) -> str:
        return f"{self.prefix}:checks:recovering"


def text_of(value: bytes | str) -> str:
    """A Redis reply as text (clients without decode_responses answer bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def connect(url: str, *, timeout: float = SOCKET_TIMEOUT):
    """A client for `url`, with timeouts, so an outage raises (and is waited out) instead of hanging."""
    redis = import_extra("redis")
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                health_check_interval=30)


def process_identity() -> str:
    """A name for this process, unique across machines and restarts: host, pid, a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def outage_errors() -> tuple[type[BaseException], ...]:
    redis = import_extra("redis")
    return (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.ReadOnlyError)


def until_answered(call: Callable[[], T], what: str, *, stop: Callable[[], bool] = lambda: False,
                   sleep: Callable[[float], None] = time.sleep) -> T | None:
    """call() once Redis answers: while it is away, retry with backoff (RETRY_FIRST to RETRY_MAX s),
    saying so once per outage. None only when `stop()` turns true first."""
    errors = outage_errors()
    wait, since = RETRY_FIRST, None
    while True:
        try:
            result = call()
        except errors as exc:
            if since is None:
                since = time.monotonic()
                log.warning("Redis unreachable while %s (%s); retrying until it answers", what, exc)
            if stop():
                return None
            sleep(wait)
            wait = min(wait * 2, RETRY_MAX)
            continue
        if since is not None:
            log.warning("Redis answers again (%s), after %.0fs", what, time.monotonic() - since)
        return result
