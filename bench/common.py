"""What every benchmark suite shares: server processes, the load client, databases, seeding, tables.

Servers run pinned to CPU 0 and the load client to CPU 1 (``taskset``), so on a 2-core machine they
never take each other's core; PostgreSQL and Redis are the machine's own services and run unpinned.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.servers import free_port, wait_for_port  # noqa: E402

SERVER_CPU, CLIENT_CPU = "0", "1"
#: Set BENCH_PROFILE=<dir> to record our server with py-spy (collapsed stacks) for a diagnosis.
PROFILE_DIR = os.environ.get("BENCH_PROFILE", "")
LABELS = {
    "raw": "raw websockets",
    "tutorial": "tutorial consumer",
    "ours": "our server",
    "floor": "daphne floor",
    "floor-gc": "floor + our gc",
    "floor-group": "floor + group_add",
}
#: The daphne floor (``bench/baselines/daphne_floor.py``): its settings, and what a variant adds.
_FLOOR_SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.baselines.floor_settings"}
FLOOR_ENV = {
    "floor": _FLOOR_SETTINGS,
    "floor-gc": {**_FLOOR_SETTINGS, "FLOOR_GC": "1"},
    "floor-group": {**_FLOOR_SETTINGS, "FLOOR_GROUP": "1"},
}


def pinned(cpu: str, argv: list[str], pin: bool) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if pin else argv


def base_env(
    scratch: Path, database_url: str, redis_url: str | None, prefix: str | None = None
) -> dict[str, str]:
    """The environment of our server (and the seeding), on ``database_url`` and maybe Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "REDIS_URL", "DATABASE_URL", "CHANNELS_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "deliberation.settings",
            "DATABASE_URL": database_url,
            "DJANGO_VAR_DIR": str(scratch),
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            # One poster sends every post; the per-member rate limit would refuse it after ten.
            "POST_RATE_LIMIT": "100000000",
            "POST_RATE_WINDOW_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CHANNELS_PREFIX"] = prefix or redis_prefix()
    return env


def redis_prefix() -> str:
    """This run's key prefix on the shared Redis (channel layer and cache)."""
    return os.environ.get("BENCH_CHANNELS_PREFIX") or f"bench-{os.getpid()}-"


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_cleanup(url: str, prefix: str) -> int:
    """Delete this run's keys (groups live two days otherwise); never anything else."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def our_server_available() -> bool:
    """Whether the thread consumer has landed and is routed at ``ws/threads/<id>/``."""
    routes = [ROOT / "forums" / "routing.py", ROOT / "deliberation" / "routing.py"]
    return (ROOT / "forums" / "consumers.py").exists() and any(
        path.exists() and "ws/threads/" in path.read_text() for path in routes
    )


def _argv(kind: str, port: int) -> list[str]:
    if kind == "calibrate":
        return [sys.executable, str(BENCH / "calibrate_server.py"), "--port", str(port)]
    if kind == "raw":
        return [sys.executable, str(BENCH / "baselines" / "raw_server.py"), "--port", str(port)]
    app = {
        "tutorial": "bench.baselines.tutorial_asgi:application",
        "ours": "deliberation.asgi:application",
        "floor": "bench.baselines.daphne_floor:application",
        "floor-gc": "bench.baselines.daphne_floor:application",
        "floor-group": "bench.baselines.daphne_floor:application",
    }[kind]
    return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]


@contextlib.contextmanager
def servers(
    kind: str, env: dict[str, str], scratch: Path, pin: bool, count: int = 1
) -> Iterator[list[dict[str, Any]]]:
    """``count`` fresh processes of one server, started together, each on its own port."""
    if kind == "ours":
        # Others commit while a run goes on: a migration that landed since seeding is applied here.
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    env = {**env, **FLOOR_ENV.get(kind, {})}
    started: list[tuple[subprocess.Popen, int, Path]] = []
    try:
        for _ in range(count):
            port = free_port()
            argv = _argv(kind, port)
            log_path = scratch / f"{kind}-{port}.log"
            command = pinned(SERVER_CPU, argv, pin)
            if PROFILE_DIR and kind == "ours":
                # py-spy itself runs unpinned; the server's CPU shares then read py-spy's.
                out = Path(PROFILE_DIR) / f"ours-{port}.txt"
                command = ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", str(out)]
                command += ["--", *pinned(SERVER_CPU, argv, pin)]
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append((process, port, log_path))
        for process, port, _ in started:
            wait_for_port(port, timeout=60, process=process)
        yield [{"port": port, "pid": process.pid, "log": log} for process, port, log in started]
    finally:
        for process, _, log_path in started:
            _stop(process, kind)
            _print_first_traceback(kind, log_path)


@contextlib.contextmanager
def server(kind: str, env: dict[str, str], scratch: Path, pin: bool) -> Iterator[dict[str, Any]]:
    """One fresh server process."""
    with servers(kind, env, scratch, pin) as started:
        yield started[0]


def _stop(process: subprocess.Popen, kind: str) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT if PROFILE_DIR and kind == "ours" else signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _print_first_traceback(kind: str, log_path: Path) -> None:
    text = log_path.read_text(errors="replace")
    start = text.find("Traceback")
    if start >= 0:
        print(
            f"    [{kind} server log, first traceback]\n{text[start : start + 3000]}",
            file=sys.stderr,
        )


def load(spec: dict[str, Any], pin: bool, timeout: float) -> dict[str, Any]:
    """Run the load client on ``spec`` (pinned to the client's core) and return its result."""
    result = client_process("loadclient.py", spec, pin, timeout, flags=(), stderr_tail=None)
    return {**result, "steps": []} if "error" in result else result


def client_process(
    script: str,
    spec: dict[str, Any],
    pin: bool,
    timeout: float,
    *,
    flags: tuple[str, ...] = ("--client",),
    stderr_tail: int | None = 3000,
) -> dict[str, Any]:
    """Run ``bench/<script> --client`` (a suite's own load client, pinned to the client's core)
    on ``spec`` and return its JSON (see ``suite_main``), or an ``error``."""
    proc = subprocess.run(
        pinned(CLIENT_CPU, [sys.executable, str(BENCH / script), *flags], pin),
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    sys.stderr.write(proc.stderr if stderr_tail is None else proc.stderr[-stderr_tail:])
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": f"load client exited with {proc.returncode}"}
    return json.loads(proc.stdout)


def script_json(script: str, args: list[str], env: dict[str, str]) -> Any:
    """Run ``bench/<script>`` (a seeding or a read of the database) and return its JSON output;
    a failure prints the end of its stderr and raises."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        done.check_returncode()
    return json.loads(done.stdout)


def add_floor_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="leave out the daphne floor (baselines/daphne_floor.py) of connect and vote-burst",
    )
    parser.add_argument(
        "--floor-variants",
        nargs="+",
        choices=("gc", "group"),
        default=[],
        help="also the floor with our server's garbage-collector settings (gc: floor-gc, both "
        "suites) and the floor whose sockets join a group on Redis (group: floor-group, connect)",
    )


def floor_kinds(args: argparse.Namespace, variants: tuple[str, ...]) -> list[str]:
    """The floor rows a suite measures: the floor and those of its ``variants`` asked for."""
    if not getattr(args, "floor", True):
        return []
    asked = getattr(args, "floor_variants", None) or []
    return ["floor", *(f"floor-{v}" for v in variants if v in asked)]


def suite_main(
    doc: str,
    run_client: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    add_arguments: Callable[[argparse.ArgumentParser], None],
    defaults: tuple[dict[str, Any], dict[str, Any]],
    run_suite: Callable[[argparse.Namespace, Path], dict[str, Any]],
    report: Callable[[dict[str, Any]], list[str]],
    *,
    lone: str = "",
) -> None:
    """A suite script's command line.

    With ``--client`` it is the suite's load client (started by ``client_process``): the spec
    from stdin, ``run_client``'s result as JSON on stdout. Otherwise it runs the suite on its
    own: ``--quick``, ``--no-pin``, ``--processes``, ``--lone`` (if ``lone`` names what it
    counts; 20, quick 10) and the suite's options, those not given from ``defaults`` (quick,
    full), then prints its report.
    """
    if "--client" in sys.argv:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(run_client(spec))))
        return
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    parser.add_argument("--processes", type=int, default=2)
    if lone:
        parser.add_argument("--lone", type=int, help=f"{lone} first (20; quick: 10)")
    add_arguments(parser)
    args = parser.parse_args()
    quick, full = defaults
    wanted = {**(quick if args.quick else full)}
    if lone:
        wanted["lone"] = 10 if args.quick else 20
    for name, value in wanted.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    scratch = Path(tempfile.mkdtemp(prefix="mitmachen-suite-"))
    started = time.monotonic()
    try:
        results = run_suite(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(report(results)))
    print(f"\n({time.monotonic() - started:.0f} s)")


def seed(env: dict[str, str], *, members: int, threads: int, posters: int) -> dict[str, Any]:
    """Members with sessions, posting members and fresh threads (``bench/seed.py``)."""
    counts = ["--members", str(members), "--threads", str(threads), "--posters", str(posters)]
    return script_json("seed.py", counts, env)


@contextlib.contextmanager
def postgres_database(admin_url: str, suffix: str = "") -> Iterator[str]:
    """A fresh PostgreSQL database for the run, dropped afterwards."""
    import psycopg

    name = f"mitmachen_bench_{os.getpid()}{suffix}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def suite_world(scratch: Path, name: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A suite's fresh PostgreSQL database and Redis key prefix, both removed afterwards:
    yields the database's URL and the servers' environment on both."""
    url, prefix = redis_url(), redis_prefix() + f"{name}-"
    try:
        with postgres_database(postgres_admin_url(), f"_{name}") as database_url:
            yield database_url, base_env(scratch, database_url, url, prefix)
    finally:
        redis_cleanup(url, prefix)


def postgres_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


# --- tables -----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def table_header(header: str) -> list[str]:
    """``header`` and the Markdown rule under it."""
    return [header, "|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|"]


def ratio_text(ours: float | None, base: float | None) -> str:
    return "-" if not ours or not base else f"{ours / base:.2f}x"


FANOUT_HEADER = (
    f"| {'server':<18} | clients | connected | p50 ms | p99 ms | first p50 | lost posts | "
    "missing deliveries | server CPU | client CPU |"
)


def first_step(res: dict[str, Any]) -> dict[str, Any]:
    return (res.get("steps") or [{}])[0]


def fanout_row(label: str, clients: int | str, res: dict[str, Any]) -> str:
    """One fixed-rate fan-out measurement as a row under ``FANOUT_HEADER``."""
    step = first_step(res)
    lost = f"{step.get('lost_posts', '-')}/{step.get('posts', '-')}"
    missing = step.get("missing_deliveries")
    expected = step.get("deliveries_expected") or 1
    miss = "-" if missing is None else f"{missing} ({100 * missing / expected:.1f} %)"
    return (
        f"| {label:<18} | {clients!s:>7} | {res.get('clients_connected', 0):>9} | "
        f"{ms(step.get('p50_ms')):>6} | {ms(step.get('p99_ms')):>6} | "
        f"{ms(step.get('first_p50_ms')):>9} | {lost:>10} | "
        f"{miss:>18} | {step.get('server_cpu_share', '-')!s:>10} | "
        f"{step.get('client_cpu_share', '-')!s:>10} |"
    )
