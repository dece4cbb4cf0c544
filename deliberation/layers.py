"""The Redis channel layer as production runs it: timeouts and pools chosen on purpose.

channels_redis reads a hub's channel with ``BZPOPMIN`` and a 5 s timeout, again and again. With
redis-py's default socket timeout (also 5 s) an idle read races the socket timeout: it raised
``TimeoutError`` about every other quiet period, which looked like a lost connection (issue #8,
PITFALLS.md). Here the socket timeout is well above the blocking-read timeout, so a quiet channel
is just quiet.

redis-py's async pool stops at 100 connections and then raises ``MaxConnectionsError``; a mass
disconnect (each socket leaving its groups at once) hit that. This layer's pool blocks for a
free connection instead, up to ``pool_timeout`` seconds, and its size is a setting.

A command on a pooled connection that went stale (Redis restarted) is retried once on a fresh
connection by redis-py itself; :mod:`deliberation.live` retries a failed broadcast once more.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: Seconds a command may wait for its answer. Must exceed channels_redis' blocking read (5 s).
SOCKET_TIMEOUT = 15.0
CONNECT_TIMEOUT = 2.0


def connection_options(
    *, max_connections: int, pool_timeout: float, socket_timeout: float = SOCKET_TIMEOUT
) -> dict[str, Any]:
    """The keyword arguments of one pool (shared with the cache's, see settings)."""
    return {
        "max_connections": max_connections,
        "timeout": pool_timeout,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_keepalive": True,
        "retry": Retry(
            ExponentialWithJitterBackoff(base=0.05, cap=0.5),
            retries=1,
            supported_errors=(RedisConnectionError, RedisTimeoutError, ConnectionError),
        ),
    }


class RedisChannelLayer(BaseRedisChannelLayer):
    """channels_redis' layer with a blocking, sized pool and timeouts longer than its reads.

    Extra CONFIG keys: ``max_connections`` (per process and event loop, default 64) and
    ``pool_timeout`` (seconds to wait for a free connection, default 5).
    """

    def __init__(
        self, *args: Any, max_connections: int = 64, pool_timeout: float = 5.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.brpop_timeout >= SOCKET_TIMEOUT:
            raise ValueError("the socket timeout must exceed channels_redis' blocking read")
        self.max_connections = max_connections
        self.pool_timeout = pool_timeout

    def create_pool(self, index: int) -> aioredis.BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address", None)
        if address is None or "master_name" in host:
            raise ValueError("configure each Redis host of the layer by its URL")
        options = connection_options(
            max_connections=self.max_connections, pool_timeout=self.pool_timeout
        )
        options.update(host)
        return aioredis.BlockingConnectionPool.from_url(address, **options)
