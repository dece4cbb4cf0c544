"""The hub on a real Redis: quiet periods are normal, and a Redis that lost its data is noticed.

Issue #8 saw the hub's subscriber time out and re-subscribe about 30 times in 96 s: redis-py's
default socket timeout (5 s) equals channels_redis' blocking read (5 s), so an idle read looked
like a lost connection, events sent meanwhile went to a dead channel, and dead channels piled up
in the groups. These tests wait through real quiet periods (the timeouts are Redis', not ours).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from deliberation import live
from deliberation.hub import HUB_EVENT, Hub
from deliberation.layers import RedisChannelLayer

pytestmark = pytest.mark.integration

GROUP = "thread.1"
#: Longer than redis-py's default socket timeout and channels_redis' blocking read (5 s each).
QUIET = 6.5


class Socket:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def hub_send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    async def hub_dropped(self) -> None:
        raise AssertionError("a healthy socket was dropped")

    def seqs(self) -> list[int]:
        return [json.loads(m["text"])["seq"] for m in self.messages]


async def until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def layer(settings, redis_channel_layer: str, request):
    """The layer exactly as production configures it, with a key prefix of this test's own."""
    from channels.layers import channel_layers, get_channel_layer

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    prefix = f"{redis_channel_layer}hub-{request.node.name[:40]}-"
    settings.CHANNEL_LAYERS = {
        "default": {**settings.CHANNEL_LAYERS["default"], "CONFIG": {**config, "prefix": prefix}}
    }
    channel_layers.backends.clear()
    layer = get_channel_layer()
    yield layer
    await layer.flush()


async def members(layer: RedisChannelLayer, group: str) -> set[str]:
    raw = await layer.connection(0).zrange(layer._group_key(group), 0, -1)
    return {item.decode() for item in raw}


async def send(layer: RedisChannelLayer, seq: int) -> None:
    text = json.dumps({"type": "post.created", "seq": seq})
    await layer.group_send(GROUP, {"type": HUB_EVENT, "group": GROUP, "texts": {"member": text}})


async def test_events_after_quiet_periods_arrive_live_on_one_channel(layer, caplog):
    hub = Hub(presence_debounce=0.05)
    socket = Socket()
    try:
        await hub.subscribe(GROUP, socket)
        channel = hub.channel
        for seq in (1, 2, 3):
            await asyncio.sleep(QUIET)
            await send(layer, seq)
            await until(lambda seq=seq: seq in socket.seqs())
        assert socket.seqs() == [1, 2, 3]
        assert (hub.channel, hub.recoveries) == (channel, 0)
        assert await members(layer, GROUP) == {channel}
        assert "channel layer failed" not in caplog.text
    finally:
        await hub.close()


async def test_a_redis_that_lost_its_data_is_noticed_and_the_groups_are_joined_again(
    layer, redis_url
):
    hub = Hub(presence_debounce=0.05, liveness_interval=0.2)
    socket = Socket()
    try:
        await hub.subscribe(GROUP, socket)
        await hub.subscribe("member.7", Socket())
        channel = hub.channel
        await until(lambda: hub._liveness_seen)
        # What a restart without persistence does to this hub's keys: they are gone.
        client = aioredis.Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=f"{layer.prefix}*")]
        await client.delete(*keys)
        await client.aclose()
        assert await members(layer, GROUP) == set()
        await until(lambda: hub.recoveries == 1)
        assert await members(layer, GROUP) == {channel}
        assert await members(layer, live.MEMBERS_LAYER_GROUP) == {channel}
        await send(layer, 1)
        await until(lambda: socket.seqs() == [1])
    finally:
        await hub.close()


async def test_a_mass_disconnect_waits_for_pooled_connections_instead_of_failing(
    redis_url, monkeypatch
):
    # A pool of 4 connections and 300 sockets of 300 members leaving at once (issue #8 saw
    # redis-py's MaxConnectionsError at its default limit of 100).
    layer = RedisChannelLayer(hosts=[redis_url], prefix="test-hub-mass-", max_connections=4)
    from deliberation import hub as hub_module

    monkeypatch.setattr(hub_module, "get_channel_layer", lambda alias=None: layer)
    hub = Hub(presence_debounce=0.05)
    sockets = [Socket() for _ in range(300)]
    try:
        await asyncio.gather(
            *(
                hub.subscribe(f"thread.{i}", s, presence={"thread": i})
                for i, s in enumerate(sockets)
            )
        )
        assert len(list(hub.layer_groups())) == 300
        await asyncio.gather(*(hub.unsubscribe(f"thread.{i}", s) for i, s in enumerate(sockets)))
        assert list(hub.layer_groups()) == []
        for i in (0, 150, 299):
            assert await members(layer, f"thread.{i}") == set()
    finally:
        await hub.close()
        await layer.flush()
