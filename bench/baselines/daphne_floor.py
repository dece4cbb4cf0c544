"""Baseline 3, the floor of the mandated stack: daphne and channels with nothing of ours.

Served by the same daphne as ours (``python -m daphne``, ``--processes`` processes on CPU 0), on
the minimal settings in ``floor_settings.py`` (no apps, middleware, sessions or auth):

- ``ws/threads/<id>/`` (the ``connect`` suite): an ``AsyncWebsocketConsumer`` that accepts and
  sends ``hello`` then ``synced``, shaped like ours for a client at the head (its seq is the
  ``after`` of the query string). No database, no channel layer. With ``FLOOR_GROUP=1`` (the
  ``floor-group`` variant) it first joins the thread's group on Redis (``group_add``).
- any other path (the ``vote-burst`` suite): an ``AsyncWebsocketConsumer`` that takes the raw vote
  server's frame ``{"member", "option", "ref"}``, inserts ``(poll, member, option)`` into the raw
  server's ``raw_vote`` table (unique on poll and member) with one INSERT on Django's own
  connection (psycopg 3, the platform's pool settings) inside channels'
  ``database_sync_to_async`` (thread-sensitive: one database thread per process, channels'
  default), and answers ``{"type": "ack", "ref": ...}``, or ``{"type": "error", "code":
  "conflict", "ref": ...}`` for a second vote. The table is made (and emptied) by the suite.

With ``FLOOR_GC=1`` (the ``floor-gc`` variant) the process ends its start as ours does
(``deliberation/asgi.py``): ``gc.collect()``, ``gc.freeze()``, ``gc.set_threshold(20_000, 20,
20)``.

    DJANGO_SETTINGS_MODULE=bench.baselines.floor_settings DATABASE_URL=postgres://... \\
        python -m daphne -p 8765 bench.baselines.daphne_floor:application
"""

from __future__ import annotations

import gc
import json
import os
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baselines.floor_settings")
django.setup()

from channels.db import database_sync_to_async  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.db import IntegrityError, connection  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from bench.baselines.raw_vote_server import INSERT, POLL  # noqa: E402

GROUP = bool(os.environ.get("FLOOR_GROUP"))


class ConnectFloor(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        thread = int(self.scope["url_route"]["kwargs"]["thread_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode())
        seq = int((query.get("after") or ["0"])[0])
        if GROUP:
            await self.channel_layer.group_add(f"floor_thread_{thread}", self.channel_name)
        await self.accept()
        hello = {"type": "hello", "protocol": 1, "thread": thread, "seq": seq, "online": 1}
        await self.send(text_data=json.dumps(hello))
        await self.send(text_data=json.dumps({"type": "synced", "thread": thread, "seq": seq}))

    async def disconnect(self, code: int) -> None:
        if GROUP:
            thread = self.scope["url_route"]["kwargs"]["thread_id"]
            await self.channel_layer.group_discard(f"floor_thread_{thread}", self.channel_name)


@database_sync_to_async
def insert_vote(member: int, option: int) -> bool:
    """One INSERT under the unique constraint; False for a second vote of the member."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(INSERT, (POLL, member, option))
    except IntegrityError:
        return False
    return True


class VoteFloor(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = json.loads(text_data or "{}")
        ref = frame.get("ref")
        if await insert_vote(int(frame["member"]), int(frame["option"])):
            await self.send(text_data=json.dumps({"type": "ack", "ref": ref}))
        else:
            await self.send(text_data=json.dumps({"type": "error", "code": "conflict", "ref": ref}))


application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [
                path("ws/threads/<int:thread_id>/", ConnectFloor.as_asgi()),
                re_path(r"", VoteFloor.as_asgi()),
            ]
        )
    }
)
if os.environ.get("FLOOR_GC"):
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
