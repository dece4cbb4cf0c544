"""Baseline 1, the physical limit: a bare ``websockets`` broadcast server (no Django, no database).

It speaks the part of the live protocol the benchmarks use: on connect it sends ``hello`` and
``synced`` (it keeps no history to replay); a ``post.create`` from any client gets the next
``seq``, an ``ack`` to its sender, and one ``post.created`` frame, encoded once, broadcast to every
open socket with ``websockets.broadcast``.

    python bench/baselines/raw_server.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from datetime import UTC, datetime

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed


def _post(seq: int, client_id: str, body: str) -> dict:
    """A payload shaped like the platform's post (so frame sizes compare)."""
    return {
        "id": seq,
        "author": {"id": 1, "display_name": "Mitglied 1", "badge": ""},
        "body_html": f"<p>{body}</p>",
        "reply_to": None,
        "client_id": client_id,
        "created_at": datetime.now(UTC).isoformat(),
        "reaction_count": 0,
    }


async def main(port: int) -> None:
    clients: set[ServerConnection] = set()
    seq = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal seq
        path = ws.request.path.split("?", 1)[0] if ws.request else ""
        last = path.strip("/").rsplit("/", 1)[-1]
        thread = int(last) if last.isdigit() else 0
        await ws.send(json.dumps({"type": "hello", "thread": thread, "online": len(clients) + 1}))
        # Nothing to replay (no history): synced at once, as ours says after an empty replay.
        await ws.send(json.dumps({"type": "synced", "thread": thread, "seq": seq}))
        clients.add(ws)
        try:
            async for message in ws:
                frame = json.loads(message)
                if frame.get("type") != "post.create":
                    continue
                seq += 1
                mine = seq  # the handler awaits below; another post may move ``seq`` meanwhile
                client_id = str(frame.get("client_id", ""))
                event = {
                    "type": "post.created",
                    "seq": mine,
                    "thread": thread,
                    "post": _post(mine, client_id, str(frame.get("body", ""))),
                }
                await ws.send(json.dumps({"type": "ack", "client_id": client_id, "seq": mine}))
                broadcast(clients, json.dumps(event, separators=(",", ":")))
        except ConnectionClosed:
            pass  # the load client aborts its sockets when it is done
        finally:
            clients.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    # No compression: the platform's daphne does not negotiate permessage-deflate either.
    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=None, backlog=2048):
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
