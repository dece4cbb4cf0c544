"""Baseline of the vote burst: a bare ``websockets`` server that records each vote with one INSERT
under a unique constraint in the same PostgreSQL database, and acknowledges it.

A client sends ``{"member": <id>, "option": <id>}``; the server inserts ``(poll, member, option)``
into ``raw_vote`` (unique on poll and member) and answers ``{"type": "ack"}``, or
``{"type": "error", "code": "conflict"}`` for a second vote. No Django, no sessions, no checks.

    python bench/baselines/raw_vote_server.py --port 8765 --database postgres://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

import psycopg
from psycopg_pool import AsyncConnectionPool
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

POLL = 1
#: The one statement per vote (the daphne floor, ``daphne_floor.py``, runs the same).
INSERT = "INSERT INTO raw_vote (poll, member, option) VALUES (%s, %s, %s)"


def reset_table(database: str) -> None:
    """``raw_vote``, made if missing and emptied (before a server of either baseline starts)."""
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS raw_vote (poll integer NOT NULL, member integer NOT NULL,"
            " option integer NOT NULL, UNIQUE (poll, member))"
        )
        conn.execute("TRUNCATE raw_vote")


async def main(port: int, database: str) -> None:
    reset_table(database)
    pool = AsyncConnectionPool(database, min_size=4, max_size=16, open=False)
    await pool.open()

    async def handler(ws: ServerConnection) -> None:
        try:
            async for message in ws:
                frame = json.loads(message)
                try:
                    async with pool.connection() as conn:
                        await conn.execute(
                            INSERT, (POLL, int(frame["member"]), int(frame["option"]))
                        )
                    await ws.send('{"type":"ack"}')
                except psycopg.errors.UniqueViolation:
                    await ws.send('{"type":"error","code":"conflict"}')
        except ConnectionClosed:
            pass

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(handler, "127.0.0.1", port, max_size=2**16):
        await stop
    await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    options = parser.parse_args()
    asyncio.run(main(options.port, options.database))
