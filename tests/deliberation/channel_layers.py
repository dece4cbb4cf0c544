"""Channel layers for tests only (named in CHANNEL_LAYERS overrides)."""

from __future__ import annotations

from typing import Any

from channels.layers import BaseChannelLayer


class UnreachableChannelLayer(BaseChannelLayer):
    """Behaves like a channel layer whose Redis is down: every call fails to connect."""

    extensions: list[str] = []

    async def new_channel(self, prefix: str = "specific.") -> str:
        raise ConnectionRefusedError("channel layer unreachable (test)")

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        raise ConnectionRefusedError("channel layer unreachable (test)")

    async def receive(self, channel: str) -> dict[str, Any]:
        raise ConnectionRefusedError("channel layer unreachable (test)")
