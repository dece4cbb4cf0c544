from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class EchoProbeConsumer(AsyncJsonWebsocketConsumer):
    """A liveness probe for the websocket path: answers ``ping`` with ``pong``, members only."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()

    async def receive_json(self, content, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
