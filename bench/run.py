"""Mitmachen benchmarks, one command: ``make bench`` (or ``.venv/bin/python bench/run.py``).

Suites (``--suite``, several allowed; all by default), each against baselines measured in the same
run and printed as ratios beside issue #8's targets:

- ``fanout``: one process, one thread: 100, 500 and 1,000 clients at 10 posts/s and a ramp over post
  rates, against the raw websockets server and the tutorial consumer (``bench/fanout_one.py``);
  ``--repeat 3`` measures the 1,000-client run of raw and ours three times.
- ``fanout-redis``: 1,000 and 2,000 clients at 10 posts/s over two daphne processes on Redis and
  PostgreSQL, against the raw server (``bench/fanout_redis.py``).
- ``connect``: 500, 1,000 and 2,000 clients opening one thread at 100 and 200 connects/s over two
  processes, against the raw server's same burst, the daphne floor's and a lone connect
  (``bench/connect_burst.py``).
- ``page``: server time and SQL queries of the thread page at 10, 100 and 1,000 posts.
- ``vote-burst``: N registered members vote on one poll within 2 s (1,000; quick: 100) over two
  daphne processes on PostgreSQL and Redis, over their open conference sockets (and over HTTP as
  a second row), against a raw websockets server recording each vote
  with one INSERT under a unique constraint in the same database, and the daphne floor doing the
  same INSERT in a channels consumer (``bench/vote_burst.py``).
- ``conference-arrival``: N registered members open the conference page and its socket (until
  ``synced``) at R arrivals/s (1,000 at 100/s; quick: 60) over two daphne processes on PostgreSQL
  and Redis, against a lone arrival and the thread's connect burst at the same rate
  (``bench/arrival.py``).
- ``queue-burst``: N registered members ask to speak within 1 s (200; quick: 30) while the chair
  calls next every 100 ms, every member and the chair on the conference socket; lost and doubled
  requests, every client's queue against the database's, ask-to-ack against lone asks
  (``bench/queue_burst.py``).
- ``page-machina``: the thread page against django-machina's topic page (50 posts of a 1,000-post
  thread; three alternating runs), machina in a virtual environment of its own that the suite
  builds under ``var/bench/`` (``bench/page_machina.py``).

The daphne floor (``bench/baselines/daphne_floor.py``, ``--no-floor`` leaves it out): the same
daphne and channels, processes and pinning as ours, with nothing of ours in the consumer: what
the mandated stack allows with the least application work.

Servers run pinned to CPU 0, the load client to CPU 1. The Redis suites create (and drop) a
PostgreSQL database of their own and use a key prefix of their own on the local Redis. Writes
everything to ``bench/results/bench-<time>.json``. ``--quick`` runs a small version of each suite.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    arrival,
    connect_burst,
    fanout_one,
    fanout_redis,
    page_machina,
    queue_burst,
    vote_burst,
)
from bench.common import (  # noqa: E402
    BENCH,
    SERVER_CPU,
    add_floor_argument,
    base_env,
    pinned,
    postgres_admin_url,
    postgres_database,
    redis_cleanup,
    redis_prefix,
    redis_url,
    seed,
    table_header,
)

SUITES = (
    "fanout",
    "fanout-redis",
    "connect",
    "vote-burst",
    "conference-arrival",
    "queue-burst",
    "page",
    "page-machina",
)
SERVERS = ("raw", "tutorial", "ours")
#: Suite options whose default depends on ``--quick`` (None on the command line: not given).
FULL = {
    "clients": [100, 500, 1000],
    "seconds": 10.0,
    "ramp": [1, 2, 5, 10, 20, 40, 80, 160, 320],
    "ramp_seconds": 4.0,
    "repeat": 3,
    "page_posts": [10, 100, 1000],
    "page_runs": 3,
    "page_repeat": 25,
    "redis_clients": [1000, 2000],
    "redis_seconds": 10.0,
    "burst_clients": [500, 1000, 2000],
    "burst_rates": [100.0, 200.0],
    "lone": 20,
    **vote_burst.FULL,
    **arrival.FULL,
    **queue_burst.FULL,
}
QUICK = {
    "clients": [100],
    "seconds": 4.0,
    "ramp": [10, 40, 160],
    "ramp_seconds": 2.0,
    "repeat": 1,
    "page_posts": [10, 100],
    "page_runs": 2,
    "page_repeat": 3,
    "redis_clients": [500],
    "redis_seconds": 4.0,
    "burst_clients": [500],
    "burst_rates": [100.0],
    "lone": 10,
    **vote_burst.QUICK,
    **arrival.QUICK,
    **queue_burst.QUICK,
}


def thread_page(args: argparse.Namespace, scratch: Path, env: dict[str, str]) -> dict[str, Any]:
    page_env = dict(env)
    page_dir = scratch / "page"
    page_dir.mkdir(exist_ok=True)
    page_env["DATABASE_URL"] = f"sqlite:///{page_dir / 'page.sqlite3'}"
    page_env["DJANGO_VAR_DIR"] = str(page_dir)
    page_env["DJANGO_ALLOWED_HOSTS"] = "testserver"
    argv = [sys.executable, str(BENCH / "thread_page.py"), "--posts", *map(str, args.page_posts)]
    proc = subprocess.run(
        pinned(SERVER_CPU, argv, args.pin),
        env=page_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        return {"error": f"thread_page.py exited with {proc.returncode}"}
    return json.loads(proc.stdout)


def redis_suites(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """``connect`` and ``fanout-redis``: one fresh PostgreSQL database and one seeding for both."""
    results: dict[str, Any] = {}
    url, prefix = redis_url(), redis_prefix()
    wanted = [s for s in ("fanout-redis", "connect") if s in args.suite]
    with postgres_database(postgres_admin_url(), "_redis") as database_url:
        env = base_env(scratch, database_url, url, prefix)
        burst_threads = connect_burst.threads_needed(args) if "connect" in wanted else 0
        redis_threads = fanout_redis.threads_needed(args) if "fanout-redis" in wanted else 0
        members = max(
            [max(args.burst_clients) + args.lone] * ("connect" in wanted)
            + [max(args.redis_clients)] * ("fanout-redis" in wanted)
        )
        print(f"seeding {members} members on PostgreSQL ...", file=sys.stderr)
        seeded = seed(
            env,
            members=members,
            threads=burst_threads + redis_threads,
            posters=fanout_redis.posters_needed(args),
        )
        seeded["burst_threads"] = seeded["threads"][:burst_threads]
        seeded["redis_threads"] = seeded["threads"][burst_threads:]
        try:
            for suite in wanted:
                started = time.monotonic()
                if suite == "fanout-redis":
                    results[suite] = fanout_redis.run_suite(args, scratch, env, seeded)
                else:
                    results[suite] = connect_burst.run_suite(args, scratch, env, seeded)
                results[suite]["seconds"] = round(time.monotonic() - started, 1)
        finally:
            removed = redis_cleanup(url, prefix)
            print(f"removed {removed} Redis keys of prefix {prefix}", file=sys.stderr)
    return results


# --- report ---------------------------------------------------------------------------------------


def report(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    fan = results.get("fanout")
    if fan:
        lines += fanout_one.report(fan, args)
    redis_fan = results.get("fanout-redis")
    if redis_fan:
        lines += ["", *fanout_redis.report(redis_fan, args.redis_seconds)]
    burst = results.get("connect")
    if burst:
        lines += ["", *connect_burst.report(burst)]
    votes = results.get("vote-burst")
    if votes:
        lines += ["", *vote_burst.report(votes)]
    arrivals = results.get("conference-arrival")
    if arrivals:
        lines += ["", *arrival.report(arrivals)]
    queue = results.get("queue-burst")
    if queue:
        lines += ["", *queue_burst.report(queue)]
    page = results.get("thread_page")
    if page and "rows" in page:
        lines.append("")
        lines.append(
            "Thread page (Django test client in-process; fastest of repeated requests, "
            "median in brackets)"
        )
        lines += table_header(
            "| posts in thread | page  | posts shown | queries | ms per request | ms per post   |"
        )
        for row in page["rows"]:
            lines.append(
                f"| {row['thread_posts']:>15} | {row['page_label']:>5} | {row['posts_shown']:>11} "
                f"| {row['queries']:>7} | "
                f"{row['ms_per_request']:>5.1f} ({row['ms_median']:>5.1f}) | "
                f"{row['ms_per_post']:>5.3f} ({row['ms_per_post_median']:>5.3f}) |"
            )
        for note in page.get("summary", []):
            lines.append(note)
    elif page:
        lines.append(f"Thread page: {page.get('error')}")
    against = results.get("page-machina")
    if against:
        lines += ["", *page_machina.report(against)]
    timings = results.get("suite_seconds") or {}
    if timings:
        lines.append("")
        lines.append(
            "Time per suite: " + ", ".join(f"{name} {sec:.0f} s" for name, sec in timings.items())
        )
    return lines


def code_version() -> str:
    """The commit plus a digest of uncommitted changes to tracked files (others work here too)."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    diff = subprocess.run(["git", "diff", "HEAD"], cwd=ROOT, capture_output=True).stdout
    return f"{head}+{hashlib.sha1(diff).hexdigest()[:10]}" if diff else head


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import daphne
    import django
    import websockets

    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "django": django.__version__,
        "daphne": daphne.__version__,
        "websockets": websockets.__version__,
        "loadavg_at_start": os.getloadavg(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--suite",
        nargs="+",
        choices=(*SUITES, "all"),
        default=["all"],
        help="what to run (default: all, in the order " + ", ".join(SUITES) + ")",
    )
    parser.add_argument("--quick", action="store_true", help="a small version of every suite")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not use taskset")
    parser.add_argument(
        "--no-uvloop", dest="uvloop", action="store_false", help="load client on asyncio's loop"
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="daphne processes of the Redis suites"
    )
    add_floor_argument(parser)
    one = parser.add_argument_group("fanout (one process)")
    one.add_argument("--clients", type=int, nargs="+", help="default 100 500 1000 (quick: 100)")
    one.add_argument("--rate", type=float, default=10.0, help="posts/s of the fixed-rate runs")
    one.add_argument("--seconds", type=float, help="length of a fixed-rate run (10; quick: 4)")
    one.add_argument("--ramp", type=float, nargs="+", help="posts/s of the ramp's steps")
    one.add_argument("--ramp-seconds", type=float, help="length of a ramp step (4; quick: 2)")
    one.add_argument(
        "--repeat",
        type=int,
        help="runs of raw and ours at the largest client count (3; quick: 1)",
    )
    one.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    one.add_argument("--no-fanout", action="store_true", help="same as leaving out --suite fanout")
    one.add_argument(
        "--postgres",
        action="store_true",
        help="PostgreSQL and Redis instead of SQLite and the in-memory layer: a fresh database "
        "is created through BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1/postgres); "
        "REDIS_URL defaults to redis://127.0.0.1:6379/15",
    )
    redis = parser.add_argument_group("fanout-redis")
    redis.add_argument("--redis-clients", type=int, nargs="+", help="default 1000 2000 (quick 500)")
    redis.add_argument("--redis-rate", type=float, default=10.0, help="posts/s")
    redis.add_argument("--redis-seconds", type=float, help="length of a run (10; quick: 4)")
    burst = parser.add_argument_group("connect")
    burst.add_argument(
        "--burst-clients", type=int, nargs="+", help="default 500 1000 2000 (quick: 500)"
    )
    burst.add_argument(
        "--burst-rates", type=float, nargs="+", help="connects/s, default 100 200 (quick: 100)"
    )
    burst.add_argument("--lone", type=int, help="sequential connects before a burst (20; quick 10)")
    burst.add_argument(
        "--burst-timeout",
        type=float,
        default=60.0,
        help="seconds a client may take from its scheduled connect to synced",
    )
    vote_burst.add_arguments(parser)
    arrival.add_arguments(parser)
    queue_burst.add_arguments(parser)
    page = parser.add_argument_group("page")
    page.add_argument("--page-posts", type=int, nargs="+", help="default 10 100 1000")
    page.add_argument("--no-page", action="store_true", help="leave out the page suites")
    page.add_argument(
        "--page-runs", type=int, help="alternating runs of ours and machina (3; quick: 2)"
    )
    page.add_argument("--page-repeat", type=int, help="requests per run (25; quick: 3)")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    suites = list(SUITES) if "all" in args.suite else [s for s in SUITES if s in args.suite]
    if args.no_fanout:
        suites = [s for s in suites if s != "fanout"]
    if args.no_page:  # no thread page suite at all, alone or against machina
        suites = [s for s in suites if s not in ("page", "page-machina")]
    args.suite = suites
    if (
        min(
            args.repeat,
            args.lone,
            args.processes,
            args.page_runs,
            args.page_repeat,
            args.vote_repeat,
        )
        < 1
    ):
        parser.error(
            "--repeat, --lone, --processes, --page-runs and --page-repeat must be at least 1"
        )
    if args.pin and (shutil.which("taskset") is None or (os.cpu_count() or 1) < 2):
        print("taskset or a second CPU is missing: running unpinned", file=sys.stderr)
        args.pin = False
    return args


def main() -> None:
    args = parse_args()
    started = time.time()
    results: dict[str, Any] = {
        "machine": machine(),
        "args": vars(args),
        "code": code_version(),
        "suite_seconds": {},
    }
    scratch = Path(tempfile.mkdtemp(prefix="mitmachen-bench-"))
    try:
        if "fanout" in args.suite:
            suite_started = time.monotonic()
            with contextlib.ExitStack() as stack:
                if args.postgres:
                    database_url = stack.enter_context(postgres_database(postgres_admin_url()))
                    url, prefix = redis_url(), redis_prefix() + "one-"
                    stack.callback(redis_cleanup, url, prefix)
                else:
                    database_url, url, prefix = f"sqlite:///{scratch / 'bench.sqlite3'}", None, None
                env = base_env(scratch, database_url, url, prefix)
                results["fanout"] = fanout_one.run_suite(args, scratch, env)
            results["suite_seconds"]["fanout"] = round(time.monotonic() - suite_started, 1)
        if {"fanout-redis", "connect"} & set(args.suite):
            results.update(redis_suites(args, scratch))
            for suite in ("fanout-redis", "connect"):
                if suite in results:
                    results["suite_seconds"][suite] = results[suite]["seconds"]
        if "vote-burst" in args.suite:
            suite_started = time.monotonic()
            results["vote-burst"] = vote_burst.run_suite(args, scratch)
            results["suite_seconds"]["vote-burst"] = round(time.monotonic() - suite_started, 1)
        if "conference-arrival" in args.suite:
            suite_started = time.monotonic()
            results["conference-arrival"] = arrival.run_suite(args, scratch)
            results["suite_seconds"]["conference-arrival"] = round(
                time.monotonic() - suite_started, 1
            )
        if "queue-burst" in args.suite:
            suite_started = time.monotonic()
            results["queue-burst"] = queue_burst.run_suite(args, scratch)
            results["suite_seconds"]["queue-burst"] = round(time.monotonic() - suite_started, 1)
        if "page" in args.suite:
            suite_started = time.monotonic()
            results["thread_page"] = thread_page(args, scratch, base_env(scratch, "", None))
            results["suite_seconds"]["page"] = round(time.monotonic() - suite_started, 1)
        if "page-machina" in args.suite:
            suite_started = time.monotonic()
            results["page-machina"] = page_machina.run_suite(
                args, scratch, base_env(scratch, "", None)
            )
            results["suite_seconds"]["page-machina"] = round(time.monotonic() - suite_started, 1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["seconds"] = round(time.time() - started, 1)
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["code_at_end"] = code_version()
    lines = report(results, args)
    m = results["machine"]
    lines.insert(
        0,
        f"Machine: {m['cpu']}, {m['cpus']} CPUs, Python {m['python']}, Django {m['django']}, "
        f"daphne {m['daphne']}, websockets {m['websockets']}; load average "
        f"{m['loadavg_at_start'][0]:.2f} at start, {m['loadavg_at_end'][0]:.2f} at end"
        f"{'; servers on CPU 0, load client on CPU 1' if args.pin else '; unpinned'}; "
        f"code {results['code']}"
        + (
            f" -> {results['code_at_end']} (the working tree changed during the run)"
            if results["code_at_end"] != results["code"]
            else ""
        )
        + "\n",
    )
    results["report"] = lines
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    print("\n".join(lines))
    print(f"\n({results['seconds']:.0f} s; results in {out.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
