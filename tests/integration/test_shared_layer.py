"""Several daphne processes on one Redis: the scale-out shape of production (docs/DEPLOY.md)."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from deliberation.layers import RedisChannelLayer

pytestmark = pytest.mark.integration

SENTINEL = "mitmachen-integration-sentinel"


def healthz(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
        return response.status, json.loads(response.read())


def commands_until_sentinel(monitor: redis.client.Monitor) -> list[str]:
    commands = []
    while True:
        command = monitor.next_command()["command"]
        if SENTINEL in command:
            return commands
        commands.append(command)


def test_two_daphne_processes_share_one_redis_channel_layer(daphne_cluster, redis_url):
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    with client.monitor() as monitor:
        servers = daphne_cluster(2)
        for server in servers:
            status, body = healthz(server.url)
            assert (status, body) == (
                200,
                {"status": "ok", "database": True, "channel_layer": True},
            ), server.log()
        redis.Redis.from_url(redis_url).echo(SENTINEL)
        commands = commands_until_sentinel(monitor)

    # Each process's /healthz sent itself a message through Redis, on a channel named with that
    # process's own client prefix: two prefixes seen, so both layers are Redis, the same Redis.
    prefixes = set(re.findall(r"healthz\.\.([0-9a-f]{32})!", " ".join(commands)))
    assert len(prefixes) == 2, commands[-20:]


def test_this_process_talks_to_the_same_redis_layer_as_the_servers(redis_channel_layer):
    # daphne_cluster points the test process's own layer at Redis with the servers' prefix, so
    # what services here broadcast (deliberation.live) lands where the processes' hubs listen.
    layer = get_channel_layer()
    # channels_redis, with the timeouts and the pool production runs (deliberation.layers).
    assert isinstance(layer, RedisChannelLayer)
    assert layer.prefix == redis_channel_layer

    async def round_trip() -> dict:
        channel = await layer.new_channel("integration.")
        await layer.group_add("integration.probe", channel)
        try:
            await layer.group_send("integration.probe", {"type": "integration.ping", "n": 1})
            return await layer.receive(channel)
        finally:
            await layer.group_discard("integration.probe", channel)

    assert async_to_sync(round_trip)() == {"type": "integration.ping", "n": 1}
