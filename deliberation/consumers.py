from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation

from deliberation.frames import TokenBucket, answer_ping
from deliberation.live import encode

#: The probe's frame budget: the same as a thread socket's (docs/PROTOCOL.md, "Limits").
RATE_BURST = 20
RATE_PER_SECOND = 10.0


class EchoProbeConsumer(AsyncWebsocketConsumer):
    """A liveness probe for the websocket path: answers ``ping`` with ``pong``, members only.

    Frames are checked as on every live socket (:mod:`deliberation.frames`): anything else gets
    one ``error`` frame and the socket stays open.
    """

    #: The frame budget's clock (seconds); tests replace it with one they move by hand.
    clock: Callable[[], float] = time.monotonic

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.language = getattr(user, "language", None) or settings.LANGUAGE_CODE
        self.bucket = TokenBucket(RATE_BURST, RATE_PER_SECOND, clock=self.clock)
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        with translation.override(self.language):
            answer = answer_ping(text_data, bytes_data, self.bucket)
        await self._send_frame(answer)

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))
