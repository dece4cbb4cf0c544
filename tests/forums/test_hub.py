"""The per-process hub: started once, encodes nothing per socket, survives bad sockets and layers.

The hub is tested on its own, with fake sockets and channels' in-memory layer; the consumer tests
(tests/forums/test_consumers.py) drive it through real websockets.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer

from deliberation import hub as hub_module
from deliberation import live
from deliberation.hub import HUB_EVENT, Hub

GROUP = "thread.1"


class FakeSocket:
    def __init__(self, name: str = "") -> None:
        self.name = name
        self.messages: list[dict[str, Any]] = []
        self.dropped = False

    async def hub_send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    async def hub_dropped(self) -> None:
        self.dropped = True

    def frames(self) -> list[dict[str, Any]]:
        return [json.loads(m["text"]) for m in self.messages]


class BrokenSocket(FakeSocket):
    async def hub_send(self, message: dict[str, Any]) -> None:
        raise ConnectionResetError("gone")


class StalledSocket(FakeSocket):
    async def hub_send(self, message: dict[str, Any]) -> None:
        await asyncio.sleep(3600)


class CountingLayer(InMemoryChannelLayer):
    """The in-memory layer, counting channels and able to fail a receive on demand."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(capacity=1000, **kwargs)
        self.new_channels = 0
        self.fail_receives = 0

    async def new_channel(self, prefix: str = "specific.") -> str:
        self.new_channels += 1
        await asyncio.sleep(0)  # a real layer awaits here: give racing subscribers a chance
        return await super().new_channel(prefix)

    async def receive(self, channel: str) -> dict[str, Any]:
        if self.fail_receives:
            self.fail_receives -= 1
            await asyncio.sleep(0)
            raise ConnectionError("redis went away")
        return await super().receive(channel)

    def members(self, group: str) -> set[str]:
        return set(self.groups.get(group, {}))


@pytest.fixture
def layer(monkeypatch) -> CountingLayer:
    layer = CountingLayer()
    monkeypatch.setattr(hub_module, "get_channel_layer", lambda alias=None: layer)
    return layer


@pytest.fixture
async def hub(layer):
    hub = Hub(presence_debounce=0.05, presence_interval=0.2, presence_ttl=0.5, send_timeout=0.3)
    yield hub
    await hub.close()


async def event(layer: CountingLayer, texts: dict[str, str], group: str = GROUP) -> None:
    await layer.group_send(group, {"type": HUB_EVENT, "group": group, "texts": texts})


async def until(condition, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_the_hub_starts_once_under_concurrent_subscribes(hub, layer):
    sockets = [FakeSocket() for _ in range(20)]
    await asyncio.gather(*(hub.subscribe(GROUP, s) for s in sockets))
    await asyncio.gather(*(hub.subscribe(f"thread.{i}", FakeSocket()) for i in range(5)))
    assert hub.starts == 1
    assert layer.new_channels == 1
    assert layer.members(GROUP) == {hub.channel}


async def test_get_hub_gives_one_hub_per_loop():
    hub_module.reset_hub(None)
    try:
        assert hub_module.get_hub() is hub_module.get_hub()
    finally:
        await hub_module.get_hub().close()
        hub_module.reset_hub(None)


@pytest.mark.django_db
async def test_an_event_is_encoded_once_and_the_same_text_reaches_every_socket(
    hub, layer, monkeypatch
):
    monkeypatch.setattr(live, "get_channel_layer", lambda: layer)
    encodes = []
    real_encode = live.encode

    def counting_encode(event: dict[str, Any]) -> str:
        encodes.append(event)
        return real_encode(event)

    monkeypatch.setattr(live, "encode", counting_encode)
    sockets = [FakeSocket(str(i)) for i in range(3)]
    for socket in sockets:
        await hub.subscribe(GROUP, socket)
    # In the worker thread's connection (autocommit) on_commit runs at once.
    await sync_to_async(live.broadcast_on_commit)(GROUP, {"type": "post.created", "seq": 7})
    await until(lambda: all(s.messages for s in sockets))
    assert len(encodes) == 1
    first = sockets[0].messages[0]
    assert all(s.messages[0] is first for s in sockets)
    assert first == {"type": "websocket.send", "text": '{"type":"post.created","seq":7}'}


async def test_moderators_get_the_moderator_text(hub, layer):
    member, moderator = FakeSocket(), FakeSocket()
    await hub.subscribe(GROUP, member)
    await hub.subscribe(GROUP, moderator, audience=live.MODERATOR)
    await event(layer, {"member": '{"body":""}', "moderator": '{"body":"held"}'})
    await until(lambda: member.messages and moderator.messages)
    assert member.messages[0]["text"] == '{"body":""}'
    assert moderator.messages[0]["text"] == '{"body":"held"}'


async def test_a_failing_socket_does_not_stop_delivery_to_others(hub, layer):
    before, broken, after = FakeSocket(), BrokenSocket(), FakeSocket()
    for socket in (before, broken, after):
        await hub.subscribe(GROUP, socket)
    await event(layer, {"member": '{"seq":1}'})
    await until(lambda: before.messages and after.messages and broken.dropped)
    assert hub.local_count(GROUP) == 2
    await event(layer, {"member": '{"seq":2}'})
    await until(lambda: len(after.messages) == 2)


async def test_a_stalled_socket_is_dropped_and_the_others_still_get_everything(hub, layer):
    before, stalled, after = FakeSocket(), StalledSocket(), FakeSocket()
    for socket in (before, stalled, after):
        await hub.subscribe(GROUP, socket)
    await event(layer, {"member": '{"seq":1}'})
    await event(layer, {"member": '{"seq":2}'})
    await until(lambda: len(after.messages) == 2)
    # The hub closes a dropped socket in a task of its own: it may run just after the fan-out.
    await until(lambda: stalled.dropped)
    assert hub.local_count(GROUP) == 2
    assert [f["seq"] for f in before.frames()] == [1, 2]


async def test_the_hub_survives_a_layer_failure_on_the_same_channel_and_joins_again(hub, layer):
    socket = FakeSocket()
    await hub.subscribe(GROUP, socket)
    channel = hub.channel
    layer.fail_receives = 1
    await layer.group_discard(GROUP, channel)  # as if Redis had lost the group
    # Wake the blocked receive so the next one fails (a real layer fails on its own).
    await layer.send(channel, {"type": "nothing"})
    await until(lambda: hub.recoveries == 1, timeout=5)
    # One channel for the life of the process: no dead channel is left in any group.
    assert hub.channel == channel
    assert layer.new_channels == 1
    assert layer.members(GROUP) == {channel}
    await event(layer, {"member": '{"seq":2}'})
    await until(lambda: any(f["seq"] == 2 for f in socket.frames()), timeout=5)


async def test_an_idle_read_that_times_out_is_not_a_failure(hub, layer, monkeypatch):
    socket = FakeSocket()
    await hub.subscribe(GROUP, socket)
    channel = hub.channel
    real_receive = layer.receive
    timeouts = 2

    async def receive(channel: str) -> dict[str, Any]:
        nonlocal timeouts
        if timeouts:
            timeouts -= 1
            raise TimeoutError("idle read")
        return await real_receive(channel)

    monkeypatch.setattr(layer, "receive", receive)
    await layer.send(channel, {"type": "nothing"})  # wake the receive already waiting
    await until(lambda: timeouts == 0)
    await event(layer, {"member": '{"seq":1}'})
    await until(lambda: socket.frames())
    assert (hub.channel, hub.recoveries) == (channel, 0)


async def test_member_groups_share_one_layer_group(hub, layer):
    one, two = FakeSocket(), FakeSocket()
    await hub.subscribe("member.1", one)
    await hub.subscribe("member.2", two)
    assert set(hub.layer_groups()) == {live.MEMBERS_LAYER_GROUP}
    assert layer.members(live.MEMBERS_LAYER_GROUP) == {hub.channel}
    # As live._send routes it: to the shared layer group, naming the member group.
    assert live.layer_group("member.2") == live.MEMBERS_LAYER_GROUP
    await layer.group_send(
        live.MEMBERS_LAYER_GROUP,
        {"type": HUB_EVENT, "group": "member.2", "texts": {"member": '{"to":2}'}},
    )
    await until(lambda: two.messages)
    assert [m["text"] for m in two.messages] == ['{"to":2}']
    assert one.messages == []
    await hub.unsubscribe("member.1", one)
    assert layer.members(live.MEMBERS_LAYER_GROUP) == {hub.channel}
    await hub.unsubscribe("member.2", two)
    assert layer.members(live.MEMBERS_LAYER_GROUP) == set()


async def test_the_last_socket_leaving_leaves_the_group(hub, layer):
    one, two = FakeSocket(), FakeSocket()
    await hub.subscribe(GROUP, one)
    await hub.subscribe(GROUP, two)
    await hub.unsubscribe(GROUP, one)
    assert layer.members(GROUP) == {hub.channel}
    await hub.unsubscribe(GROUP, two)
    assert layer.members(GROUP) == set()


async def test_the_hub_renews_its_group_membership(layer):
    hub = Hub(presence_debounce=0.05, rejoin_interval=0.1)
    try:
        await hub.subscribe(GROUP, FakeSocket())
        await layer.group_discard(GROUP, hub.channel)  # as if channels_redis expired it
        await until(lambda: hub.channel in layer.members(GROUP))
    finally:
        await hub.close()


async def test_presence_is_counted_across_processes_and_expires(layer):
    hubs = [Hub(presence_debounce=0.05, presence_interval=0.2, presence_ttl=0.6) for _ in range(2)]
    a, b, b2 = FakeSocket("a"), FakeSocket("b"), FakeSocket("b2")
    try:
        resource = {"thread": 1}
        await hubs[0].subscribe(GROUP, a, member_id=1, name="Alice", presence=resource)
        await hubs[1].subscribe(GROUP, b, member_id=2, name="Bob", presence=resource)
        # Bob's second tab counts once.
        await hubs[1].subscribe(GROUP, b2, member_id=2, name="Bob", presence=resource)
        await until(lambda: hubs[0].presence_count(GROUP) == 2)
        await until(lambda: a.frames() and a.frames()[-1]["count"] == 2)
        assert a.frames()[-1] == {"type": "presence", "thread": 1, "count": 2}
        await until(lambda: b.frames() and b.frames()[-1]["count"] == 2)
        # A process that dies sends nothing more: its report expires.
        for task in hubs[1]._tasks:
            task.cancel()
        await until(lambda: a.frames()[-1]["count"] == 1, timeout=3)
    finally:
        for hub in hubs:
            await hub.close()


async def test_presence_names_are_shown_where_the_forum_allows(hub):
    a, b = FakeSocket(), FakeSocket()
    await hub.subscribe(GROUP, a, member_id=1, name="Bea", presence={"thread": 1}, show_names=True)
    await hub.subscribe(GROUP, b, member_id=2, name="al", presence={"thread": 1}, show_names=True)
    await hub.flush_presence()
    assert a.frames()[-1] == {"type": "presence", "thread": 1, "count": 2, "names": ["al", "Bea"]}
    assert b.messages[-1] is a.messages[-1]
