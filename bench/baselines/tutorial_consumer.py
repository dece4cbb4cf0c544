"""Baseline 2: a consumer written the way the Channels tutorial writes its chat room.

Every socket joins a channel-layer group; a ``post.create`` is answered with ``group_send``, and the
group handler of every socket ``json.dumps`` the event and sends it. No database, no hub: this is
the per-socket channel-layer path the platform avoids (see DESIGN.md, "Fan-out"). ``seq`` comes from
an in-process counter (the tutorial keeps no history), so the benchmark can count losses.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, datetime

from channels.generic.websocket import AsyncWebsocketConsumer

_seqs: defaultdict[int, itertools.count] = defaultdict(lambda: itertools.count(1))


class TutorialThreadConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.thread_id = int(self.scope["url_route"]["kwargs"]["thread_id"])
        self.group = f"tutorial_thread_{self.thread_id}"
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=4401)
            return
        self.display_name = user.display_name
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello", "thread": self.thread_id}))

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = json.loads(text_data or "{}")
        if frame.get("type") != "post.create":
            return
        seq = next(_seqs[self.thread_id])
        client_id = str(frame.get("client_id", ""))
        post = {
            "id": seq,
            "author": {"id": self.scope["user"].pk, "display_name": self.display_name},
            "body_html": f"<p>{frame.get('body', '')}</p>",
            "reply_to": None,
            "client_id": client_id,
            "created_at": datetime.now(UTC).isoformat(),
            "reaction_count": 0,
        }
        await self.send(text_data=json.dumps({"type": "ack", "client_id": client_id, "seq": seq}))
        await self.channel_layer.group_send(
            self.group, {"type": "post.created", "seq": seq, "post": post}
        )

    async def post_created(self, event: dict) -> None:
        await self.send(
            text_data=json.dumps(
                {
                    "type": "post.created",
                    "seq": event["seq"],
                    "thread": self.thread_id,
                    "post": event["post"],
                }
            )
        )
