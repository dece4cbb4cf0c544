"""Where a thread socket's connect spends its CPU, in-process, against the floor in the same run.

``bench/connect_cpu.py`` measures a daphne process from outside; this drives connects through
channels' ``WebsocketCommunicator`` in one process (a fresh test database: SQLite, or
PostgreSQL with ``DATABASE_URL``; the in-memory channel layer), so the CPU can be split and
profiled. One thread, ``--members`` members each with a session of their own; each connect is
one member's socket at the thread's head (``?after=<seq>``, as in the connect suite), timed
with ``time.process_time()`` (every thread of the process, the read pool's included) from the
handshake until ``synced``. The sockets stay open until the batch is over, as in a burst
(``--lone``: each is closed before the next, as the suite's lone connects are).

The applications take turns, one batch each per round, so load from elsewhere hits all alike:

- ``floor``: an ``AsyncWebsocketConsumer`` that accepts and sends ``hello`` and ``synced``,
  routed by a bare ``URLRouter``: what ``bench/baselines/daphne_floor.py`` serves;
- ``floor+stack``: the same consumer behind our websocket middleware (``deliberation.asgi``:
  raw-protocol note, origin check, cookies, session, member);
- ``ours``: ``deliberation.asgi.application``;
- ``ours-nodb``: the same, with the connect's three database reads (the middleware's session
  and member, the access check, hello's head) answered from memory on the event loop: no
  query, no hop to a thread. What remains is everything else our connect does.

The harness itself (the communicator, its queues) is part of every figure, so the ratios here
understate what daphne sees; the differences in ms are the comparable part. Run from a
checkout's root, so one script measures two versions::

    .venv/bin/python bench/connect_profile.py                     # medians, 5 rounds of 200
    .venv/bin/python bench/connect_profile.py --profile ours      # + cProfile of ours' batch
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/connprof .venv/bin/python bench/...
    (cd ../old && .venv/bin/python /path/to/bench/connect_profile.py)

cProfile (``--profile``) times every thread by its own CPU clock; its cost per call inflates a
path of many small calls several times, so read its shares, not its milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deliberation.settings")
os.environ.pop("REDIS_URL", None)  # the in-memory layer, whatever the shell says
# As the connect suite's servers run (bench/common.py): no query log, quieter logging.
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

HEADERS = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]


def applications() -> dict[str, Any]:
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import URLRouter
    from django.urls import path

    from deliberation.asgi import application
    from deliberation.fastsend import RawWebsocketMiddleware
    from deliberation.origins import SiteOriginValidator
    from deliberation.socket_auth import AuthMiddlewareStack

    class Floor(AsyncWebsocketConsumer):
        # bench/baselines/daphne_floor.py's ConnectFloor (no channel layer there either).
        channel_layer_alias = "__none__"

        async def connect(self) -> None:
            thread = int(self.scope["url_route"]["kwargs"]["thread_id"])
            query = parse_qs(self.scope.get("query_string", b"").decode())
            seq = int((query.get("after") or ["0"])[0])
            await self.accept()
            hello = {"type": "hello", "protocol": 1, "thread": thread, "seq": seq, "online": 1}
            await self.send(text_data=json.dumps(hello))
            await self.send(text_data=json.dumps({"type": "synced", "thread": thread, "seq": seq}))

    routes = [path("ws/threads/<int:thread_id>/", Floor.as_asgi())]
    return {
        "floor": URLRouter(routes),
        "floor+stack": RawWebsocketMiddleware(
            SiteOriginValidator(AuthMiddlewareStack(URLRouter(routes)))
        ),
        "ours": application,
        "ours-nodb": application,
    }


class Canned:
    """``ours-nodb``: the connect's database reads answered from memory (read before the loop
    starts), switched on only around that application's batches."""

    def __init__(self) -> None:
        from django.contrib.auth import SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from django.contrib.sessions.models import Session

        from deliberation.models import Member
        from forums.models import Thread

        self.thread = Thread.objects.select_related("forum").get()
        members = {member.pk: member for member in Member.objects.all()}
        self.sessions = {}
        for row in Session.objects.all():
            data = SessionStore().decode(row.session_data)
            self.sessions[row.session_key] = (
                data,
                row.expire_date,
                members[int(data[SESSION_KEY])],
            )

    def __enter__(self) -> None:
        from deliberation import socket_auth
        from deliberation.stream_consumer import StreamConsumer
        from forums.consumers import ThreadConsumer

        thread, sessions = self.thread, self.sessions
        self._saved = [
            (owner, name, owner.__dict__[name])
            for owner, name in [
                (ThreadConsumer, "access"),
                (ThreadConsumer, "privileged"),
                (ThreadConsumer, "connect_info"),
                (ThreadConsumer, "head"),
                (StreamConsumer, "_authorise_connect"),
                (StreamConsumer, "_hello"),
                (socket_auth, "_user_of"),
            ]
        ]
        # The sync functions behind the two hops (SyncToAsync keeps them as ``func``).
        authorise = StreamConsumer.__dict__["_authorise_connect"]
        hello = StreamConsumer.__dict__["_hello"]

        async def user_of(scope: dict[str, Any]) -> Any:
            data, expires, member = sessions[scope["session"].session_key]
            scope["session"]._session_cache = data
            scope["session_expires"] = expires
            return member

        async def authorise_now(consumer: Any) -> Any:
            return authorise.func(consumer)

        async def hello_now(consumer: Any, info: Any, after: Any) -> Any:
            return hello.func(consumer, info, after)

        ThreadConsumer.access = lambda self, user, pk: thread
        ThreadConsumer.privileged = lambda self, user, stream: False
        ThreadConsumer.connect_info = lambda self, user, stream: {
            "forum": thread.forum_id,
            "can_post": True,
        }
        ThreadConsumer.head = lambda self, pk: thread
        StreamConsumer._authorise_connect = authorise_now
        StreamConsumer._hello = hello_now
        socket_auth._user_of = user_of

    def __exit__(self, *exc: Any) -> None:
        for owner, name, value in self._saved:
            setattr(owner, name, value)


def seed(members: int) -> tuple[int, int, list[bytes]]:
    """One thread in a members' forum, and a session cookie per member."""
    from forums import services
    from tests import factories

    sam = factories.make_staff(email="sam@example.org", display_name="Sam")
    forum = services.forum_create(actor=sam, title="Mieten", slug="mieten")
    thread = services.thread_create(actor=sam, forum=forum, title="Mietendeckel", body="Erster")
    cookies = [
        factories.session_cookie_of(
            factories.make_member(email=f"m{i}@example.org", display_name=f"M{i}")
        ).encode()
        for i in range(members)
    ]
    thread.refresh_from_db()
    return thread.pk, thread.last_seq, cookies


async def connect_once(app: Any, path: str, cookie: bytes) -> tuple[Any, float]:
    """An open socket, and the CPU seconds from its handshake to ``synced``."""
    from channels.testing import WebsocketCommunicator

    started = time.process_time()
    ws = WebsocketCommunicator(app, path, headers=[*HEADERS, (b"cookie", cookie)])
    connected, code = await ws.connect(timeout=10)
    if not connected:
        raise RuntimeError(f"refused: {code}")
    seen = []
    while not seen or seen[-1] != "synced":
        # A presence frame may come first: the socket counts once it joined the thread.
        seen.append(json.loads(await ws.receive_from(timeout=10))["type"])
    if [kind for kind in seen if kind != "presence"] != ["hello", "synced"]:
        raise RuntimeError(f"unexpected frames {seen}")
    return ws, time.process_time() - started


async def batch(
    app: Any, path: str, cookies: list[bytes], *, lone: bool = False
) -> tuple[list[float], list[float]]:
    """Connect once per cookie, one after another, and close.

    By default every socket stays open until the batch is over, as in a burst (the hub joins
    the thread's group once, presence counts grow); with ``lone`` each is closed before the
    next, as the suite's lone connects are (each joins and leaves the groups again).
    Returns the CPU per connect and per close.
    """
    connects, closes, open_sockets = [], [], []
    for cookie in cookies:
        ws, seconds = await connect_once(app, path, cookie)
        connects.append(seconds)
        if lone:
            started = time.process_time()
            await ws.disconnect()
            closes.append(time.process_time() - started)
        else:
            open_sockets.append(ws)
    if open_sockets:
        started = time.process_time()
        for ws in open_sockets:
            await ws.disconnect()
        closes.append((time.process_time() - started) / len(open_sockets))
    return connects, closes


class ThreadProfiles:
    """cProfile in every thread started from now on (the read pool's included), merged."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        threading.setprofile(self._start)

    def _start(self, *args: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        self.profiles.append(profile)
        profile.enable()  # replaces this hook in the new thread

    def stats(self, main: cProfile.Profile) -> pstats.Stats:
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = pstats.Stats(main, stream=io.StringIO())
        for profile in self.profiles:
            profile.create_stats()
            if profile.stats:  # type: ignore[attr-defined]
                stats.add(profile)
        return stats


def print_top(stats: pstats.Stats, connects: int, sort: str, limit: int) -> None:
    """The top functions, per connect (ms), by ``sort`` (cumulative or tottime)."""
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "SimpleQueue" in name or name == "_worker":
            # An idle pool thread's wait, unfinished when the stats are taken: not CPU.
            continue
        short = filename
        for marker in ("site-packages/", "wt-connect/", "main/", "lib/python3.11/"):
            if marker in filename:
                short = filename.split(marker, 1)[1]
                break
        rows.append(
            (tottime if sort == "tottime" else cumtime, tottime, cumtime, calls, short, line, name)
        )
    rows.sort(reverse=True)
    print(f"\n  top {limit} by {sort} (ms per connect; calls per connect)")
    print(f"  {'tottime':>8} {'cumtime':>8} {'calls':>6}  function")
    for _key, tottime, cumtime, calls, short, line, name in rows[:limit]:
        print(
            f"  {1000 * tottime / connects:8.3f} {1000 * cumtime / connects:8.3f}"
            f" {calls / connects:6.1f}  {short}:{line}({name})"
        )


async def run(
    args: argparse.Namespace, thread_id: int, seq: int, cookies: list[bytes], canned: Canned
) -> None:
    apps = applications()

    async def batch_of(name: str, cookies: list[bytes]) -> tuple[list[float], list[float]]:
        if name != "ours-nodb":
            return await batch(apps[name], path, cookies, lone=args.lone)
        with canned:
            return await batch(apps[name], path, cookies, lone=args.lone)

    path = f"/ws/threads/{thread_id}/?after={seq}"
    names = [name for name in apps if name in args.apps]
    # Warm-up: imports, caches, the hub, the read pool.
    for name in names:
        await batch_of(name, cookies[: min(20, len(cookies))])
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _round in range(args.rounds):
        for name in names:
            connects, closes = await batch_of(name, cookies)
            results[name].append(
                {
                    "connect_ms": 1000 * statistics.median(connects),
                    "close_ms": 1000 * statistics.median(closes),
                }
            )
    floor = results.get("floor")
    print(
        f"{os.getcwd()}: {len(cookies)} connects per batch, {args.rounds} rounds;"
        " medians per round, CPU ms from handshake to synced (close apart)"
    )
    for name in names:
        connect = [row["connect_ms"] for row in results[name]]
        close = [row["close_ms"] for row in results[name]]
        line = (
            f"  {name:12} connect {statistics.median(connect):6.3f} ms"
            f" (rounds {', '.join(f'{v:.3f}' for v in connect)}), close"
            f" {statistics.median(close):6.3f} ms"
        )
        if floor is not None and name != "floor":
            ratios = [
                row["connect_ms"] / base["connect_ms"]
                for row, base in zip(results[name], floor, strict=True)
            ]
            extra = [
                row["connect_ms"] - base["connect_ms"]
                for row, base in zip(results[name], floor, strict=True)
            ]
            line += (
                f"; / floor {statistics.median(ratios):.2f}x"
                f" ({', '.join(f'{v:.2f}' for v in ratios)}),"
                f" + {statistics.median(extra):.3f} ms"
            )
        print(line)
    if args.profile:
        from deliberation import livework

        profiles = ThreadProfiles()
        # A new read pool, whose threads start under the hook (CPU time per thread).
        livework._read_pool.cache_clear()
        main = cProfile.Profile(time.thread_time)
        main.enable()
        await batch_of(args.profile, cookies)
        main.disable()
        stats = profiles.stats(main)
        print(f"\ncProfile of one batch of {args.profile!r} ({len(cookies)} connects and closes)")
        print_top(stats, len(cookies), "tottime", args.top)
        print_top(stats, len(cookies), "cumulative", args.top)
        if args.dump:
            stats.dump_stats(args.dump)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200, help="connects per batch")
    parser.add_argument("--rounds", type=int, default=5)
    variants = ["floor", "floor+stack", "ours", "ours-nodb"]
    parser.add_argument("--apps", nargs="+", choices=variants, default=variants)
    parser.add_argument(
        "--lone", action="store_true", help="close each socket before the next connect"
    )
    parser.add_argument("--profile", choices=variants)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--dump", help="write the profile's stats to this file (pstats)")
    args = parser.parse_args()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        thread_id, seq, cookies = seed(args.members)
        canned = Canned()
        # The consumer reads on other threads, each on a connection of its own.
        connection.close()
        asyncio.run(run(args, thread_id, seq, cookies, canned))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
