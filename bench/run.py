"""Mitmachen benchmarks, one command: ``make bench`` (or ``.venv/bin/python bench/run.py``).

Fan-out: 100, 500 and 1,000 websocket clients on one thread and one poster at a fixed rate, against
three servers measured in the same run: a bare ``websockets`` broadcast server (the physical limit),
a Channels consumer written like the Channels tutorial, and our daphne server. Then a ramp over
post rates at the largest client count finds each server's highest rate with p99 under 250 ms and
nothing lost. Servers run pinned to CPU 0, the load client to CPU 1.

Thread page: server time and SQL queries of the thread page at 10, 100 and 1,000 posts.

Prints a table and the ratios the targets are stated in; writes everything to
``bench/results/bench-<time>.json``. ``--quick`` runs a small subset (100 clients, short steps).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, wait_for_port  # noqa: E402

SERVERS = ("raw", "tutorial", "ours")
LABELS = {
    "raw": "raw websockets",
    "tutorial": "tutorial consumer",
    "ours": "our server",
}
SERVER_CPU, CLIENT_CPU = "0", "1"
P99_LIMIT_MS = 250.0
#: Far above what the load client can receive: the calibration server then measures its ceiling.
CALIBRATE_RATE = 3000.0
#: Posts a second per posting socket: below the consumer's per-socket frame budget (10/s).
POSTER_RATE = 8.0
#: Set BENCH_PROFILE=<dir> to record our server with py-spy (collapsed stacks) for a diagnosis.
PROFILE_DIR = os.environ.get("BENCH_PROFILE", "")


def _pinned(cpu: str, argv: list[str], pin: bool) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if pin else argv


def _base_env(scratch: Path, database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "REDIS_URL", "DATABASE_URL"))
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
        env["CHANNELS_PREFIX"] = f"bench{os.getpid()}"
    return env


def our_server_available() -> bool:
    """Whether the thread consumer has landed and is routed at ``ws/threads/<id>/``."""
    routes = [ROOT / "forums" / "routing.py", ROOT / "deliberation" / "routing.py"]
    return (ROOT / "forums" / "consumers.py").exists() and any(
        path.exists() and "ws/threads/" in path.read_text() for path in routes
    )


@contextlib.contextmanager
def server(kind: str, env: dict[str, str], scratch: Path, pin: bool) -> Iterator[dict[str, Any]]:
    if kind == "ours":
        # Others commit while a run goes on: a migration that landed since seeding is applied here.
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    port = free_port()
    if kind == "calibrate":
        argv = [sys.executable, str(BENCH / "calibrate_server.py"), "--port", str(port)]
    elif kind == "raw":
        argv = [sys.executable, str(BENCH / "baselines" / "raw_server.py"), "--port", str(port)]
    else:
        app = {
            "tutorial": "bench.baselines.tutorial_asgi:application",
            "ours": "deliberation.asgi:application",
        }[kind]
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]
    log_path = scratch / f"{kind}-{port}.log"
    command = _pinned(SERVER_CPU, argv, pin)
    if PROFILE_DIR and kind == "ours":
        # py-spy itself runs unpinned; the server's CPU shares then read py-spy's, not daphne's.
        out = Path(PROFILE_DIR) / f"ours-{port}.txt"
        command = ["py-spy", "record", "--format", "raw", "--rate", "200", "-o", str(out), "--"]
        command += _pinned(SERVER_CPU, argv, pin)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, timeout=60, process=process)
        yield {"port": port, "pid": process.pid, "log": log_path}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT if PROFILE_DIR and kind == "ours" else signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        text = log_path.read_text(errors="replace")
        start = text.find("Traceback")
        if start >= 0:
            print(
                f"    [{kind} server log, first traceback]\n{text[start : start + 3000]}",
                file=sys.stderr,
            )


def load(spec: dict[str, Any], pin: bool, timeout: float) -> dict[str, Any]:
    proc = subprocess.run(
        _pinned(CLIENT_CPU, [sys.executable, str(BENCH / "loadclient.py")], pin),
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": f"load client exited with {proc.returncode}", "steps": []}
    return json.loads(proc.stdout)


def fanout(args: argparse.Namespace, scratch: Path, env: dict[str, str]) -> dict[str, Any]:
    pin = args.pin
    servers = [s for s in args.servers if s != "ours" or our_server_available()]
    skipped = [s for s in args.servers if s not in servers]
    if skipped:
        print("our server skipped: forums/consumers.py is not routed yet", file=sys.stderr)
    runs_needed = len(args.clients) + 2
    print(f"seeding {max(args.clients)} members ...", file=sys.stderr)
    seeded = subprocess.run(
        [
            sys.executable,
            str(BENCH / "seed.py"),
            "--members",
            str(max(args.clients)),
            "--threads",
            str(runs_needed * len(servers)),
            "--posters",
            str(math.ceil(max([*args.ramp, args.rate]) / POSTER_RATE)),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    seed = json.loads(seeded.stdout)
    threads = iter(seed["threads"])
    results: dict[str, Any] = {"skipped": skipped, "fixed": {}, "ramp": {}}

    def spec_for(port: int, pid: int, clients: int, rates: list[float], ramp: bool) -> dict:
        thread = next(threads)
        after = seed["last_seq"][str(thread)]
        return {
            "host": "127.0.0.1",
            "port": port,
            "path": f"/ws/threads/{thread}/?after={after}",
            "origin": f"http://127.0.0.1:{port}",
            "cookies": seed["cookies"][:clients],
            "poster_cookies": seed["poster_cookies"],
            "poster_rate": POSTER_RATE,
            "clients": clients,
            "rates": rates,
            "step_seconds": args.ramp_seconds if ramp else args.seconds,
            "min_posts": 10,
            "drain_seconds": 3.0,
            "p99_limit_ms": P99_LIMIT_MS,
            "stop_on_fail": ramp,
            "retry_failed": ramp,
            "connect_timeout": 60,
            "server_pid": pid,
            "run_id": f"r{thread}",
            "hard_timeout": 400,
            "uvloop": args.uvloop,
        }

    clients = max(args.clients)
    print(f"load client ceiling: {clients} clients, posts as fast as it goes", file=sys.stderr)
    with server("calibrate", env, scratch, pin) as srv:
        spec = spec_for(srv["port"], srv["pid"], clients, [CALIBRATE_RATE], ramp=False)
        spec.update(poster_rate=CALIBRATE_RATE, step_seconds=0.1, min_posts=300, drain_seconds=15)
        results["client_ceiling"] = load(spec, pin, 120)

    for kind in servers:
        results["fixed"][kind] = {}
        for clients in args.clients:
            print(f"{LABELS[kind]}: {clients} clients at {args.rate} posts/s", file=sys.stderr)
            with server(kind, env, scratch, pin) as srv:
                spec = spec_for(srv["port"], srv["pid"], clients, [args.rate], ramp=False)
                results["fixed"][kind][str(clients)] = load(spec, pin, 420)
        clients = max(args.clients)
        print(f"{LABELS[kind]}: ramp at {clients} clients over {args.ramp}", file=sys.stderr)
        with server(kind, env, scratch, pin) as srv:
            spec = spec_for(srv["port"], srv["pid"], clients, args.ramp, ramp=True)
            results["ramp"][kind] = load(spec, pin, 600)
    return results


def thread_page(args: argparse.Namespace, scratch: Path, env: dict[str, str]) -> dict[str, Any]:
    page_env = dict(env)
    page_dir = scratch / "page"
    page_dir.mkdir(exist_ok=True)
    page_env["DATABASE_URL"] = f"sqlite:///{page_dir / 'page.sqlite3'}"
    page_env["DJANGO_VAR_DIR"] = str(page_dir)
    page_env["DJANGO_ALLOWED_HOSTS"] = "testserver"
    argv = [sys.executable, str(BENCH / "thread_page.py"), "--posts", *map(str, args.page_posts)]
    proc = subprocess.run(
        _pinned(SERVER_CPU, argv, args.pin),
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


# --- report ---------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def highest_rate(ramp: dict[str, Any]) -> tuple[float | None, dict[str, Any] | None]:
    """The highest passing rate before the first failing one, and that failing step.

    A rate passes if any attempt passed (a failing step is run a second time).
    """
    best = None
    steps = ramp.get("steps", [])
    for i, step in enumerate(steps):
        retried = i + 1 < len(steps) and steps[i + 1].get("attempt") == 2
        if step["ok"]:
            best = step["rate"]
        elif not retried:
            return best, step
    return best, None


def best_step(ramp: dict[str, Any], rate: float | None) -> dict[str, Any]:
    return next((s for s in ramp.get("steps", []) if s["rate"] == rate and s["ok"]), {})


def report(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    fan = results.get("fanout")
    if fan:
        lines.append(
            f"Fan-out at {args.rate:g} posts/s, {args.seconds:g} s, one thread "
            "(latency: scheduled send -> last client received; first p50: to the first client)"
        )
        header = (
            f"| {'server':<18} | clients | connected | p50 ms | p99 ms | first p50 | lost posts | "
            "missing deliveries | server CPU | client CPU |"
        )
        lines += [header, "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"]
        for kind, by_clients in fan["fixed"].items():
            for clients, res in by_clients.items():
                step = (res.get("steps") or [{}])[0]
                lost = f"{step.get('lost_posts', '-')}/{step.get('posts', '-')}"
                missing = step.get("missing_deliveries")
                expected = step.get("deliveries_expected") or 1
                miss = "-" if missing is None else f"{missing} ({100 * missing / expected:.1f} %)"
                lines.append(
                    f"| {LABELS[kind]:<18} | {clients:>7} | {res.get('clients_connected', 0):>9} | "
                    f"{_ms(step.get('p50_ms')):>6} | {_ms(step.get('p99_ms')):>6} | "
                    f"{_ms(step.get('first_p50_ms')):>9} | {lost:>10} | "
                    f"{miss:>18} | {step.get('server_cpu_share', '-')!s:>10} | "
                    f"{step.get('client_cpu_share', '-')!s:>10} |"
                )
        lines.append("")
        clients = max(args.clients)
        lines.append(
            f"Ramp at {clients} clients over {', '.join(f'{r:g}' for r in args.ramp)} posts/s "
            f"({args.ramp_seconds:g} s a step; pass = p99 < {P99_LIMIT_MS:g} ms and nothing lost; "
            "a failing rate is tried a second time)"
        )
        header = (
            f"| {'server':<18} | highest passing rate | first failing step (p99 ms, lost) | "
            "server CPU at best | frames/s delivered at failing step |"
        )
        lines += [header, "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"]
        for kind, ramp in fan["ramp"].items():
            best, failed = highest_rate(ramp)
            best_text = "none" if best is None else f"{best:g} posts/s"
            fail_text = (
                f"not measured ({ramp.get('error') or 'no client connected'})"
                if not ramp.get("steps")
                else "none (all passed)"
                if failed is None
                else f"{failed['rate']:g}/s ({_ms(failed['p99_ms'])}, {failed['lost_posts']})"
            )
            cpu = best_step(ramp, best).get("server_cpu_share", "-")
            fps = "-" if not failed else f"{failed.get('frames_per_s') or 0:,}"
            lines.append(
                f"| {LABELS[kind]:<18} | {best_text:>20} | {fail_text:>34} | {cpu!s:>18} | "
                f"{fps:>34} |"
            )
        ceiling = (fan.get("client_ceiling") or {}).get("steps") or []
        if ceiling:
            top = ceiling[0].get("frames_per_s") or 0
            cost = ceiling[0].get("client_us_per_frame") or 0
            full = 1e6 / cost if cost else 0
            lines.append(
                f"Load client ({fan['client_ceiling'].get('event_loop')}), calibration server at "
                f"{clients} sockets: {top:,} frames/s received with "
                f"{ceiling[0].get('client_cpu_share')} of its core; {cost:.2f} us CPU per frame, "
                f"so about {full:,.0f} frames/s "
                f"({full / clients:,.0f} posts/s to {clients} sockets) on a whole core."
            )
        lines.append("")
        lines += ratios(fan, args)
    page = results.get("thread_page")
    if page and "rows" in page:
        lines.append("")
        lines.append(
            "Thread page (Django test client in-process; fastest of repeated requests, "
            "median in brackets)"
        )
        header = (
            "| posts in thread | page  | posts shown | queries | ms per request | ms per post   |"
        )
        lines += [header, "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"]
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
    return lines


def ratios(fan: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines = []
    clients = str(max(args.clients))
    fixed = fan["fixed"]

    def step(kind: str) -> dict[str, Any]:
        return ((fixed.get(kind, {}).get(clients) or {}).get("steps") or [{}])[0]

    if "ours" not in fixed:
        lines.append("Ratios: our server was not measured (not routed yet).")
        return lines
    ours, raw = step("ours"), step("raw")
    if ours.get("p99_ms") and raw.get("p99_ms"):
        ratio = ours["p99_ms"] / raw["p99_ms"]
        verdict = "met" if ratio <= 3 and ours["lost_posts"] == 0 else "MISSED"
        lines.append(
            f"ours/raw p99 at {clients} clients, {args.rate:g} posts/s: "
            f"{ours['p99_ms']:.1f} / {raw['p99_ms']:.1f} ms = {ratio:.2f}x "
            f"(target <= 3x: {verdict})"
        )
    else:
        lines.append(f"ours/raw p99 at {clients} clients: not computable (ours={ours}, raw={raw})")
    best_ours, _ = highest_rate(fan["ramp"].get("ours", {}))
    best_tut, _ = highest_rate(fan["ramp"].get("tutorial", {}))
    if best_ours is None:
        lines.append("ours/tutorial highest rate: our server passed no rate (target MISSED)")
    elif best_tut is None:
        floor = min(args.ramp)
        verdict = "met" if best_ours >= 4 * floor else "unclear"
        lines.append(
            f"ours/tutorial highest rate: {best_ours:g} / (< {floor:g}) posts/s = more than "
            f"{best_ours / floor:.0f}x (target >= 4x: {verdict})"
        )
    else:
        ratio = best_ours / best_tut
        lines.append(
            f"ours/tutorial highest rate: {best_ours:g} / {best_tut:g} posts/s = {ratio:.1f}x "
            f"(target >= 4x: {'met' if ratio >= 4 else 'MISSED'})"
        )
    lost = sum(
        s.get("lost_posts", 0) for res in fixed["ours"].values() for s in res.get("steps", [])
    )
    lines.append(f"posts lost by our server at {args.rate:g} posts/s: {lost} (target 0)")
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


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the run, dropped afterwards."""
    import psycopg

    name = f"mitmachen_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 clients, short steps")
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--rate", type=float, default=10.0, help="posts/s of the fixed-rate runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a fixed-rate run")
    parser.add_argument(
        "--ramp", type=float, nargs="+", default=[1, 2, 5, 10, 20, 40, 80, 160, 320]
    )
    parser.add_argument("--ramp-seconds", type=float, default=4.0)
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--page-posts", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--no-fanout", action="store_true")
    parser.add_argument("--no-page", action="store_true")
    parser.add_argument(
        "--no-uvloop", dest="uvloop", action="store_false", help="load client on asyncio's loop"
    )
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not use taskset")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="PostgreSQL and Redis instead of SQLite and the in-memory layer: a fresh database "
        "is created through BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1/postgres); "
        "REDIS_URL defaults to redis://127.0.0.1:6379/15",
    )
    args = parser.parse_args()
    if args.quick:
        args.clients = [100]
        args.seconds = 4.0
        args.ramp = [10, 40, 160]
        args.ramp_seconds = 2.0
        args.page_posts = [10, 100]
    if args.pin and (shutil.which("taskset") is None or (os.cpu_count() or 1) < 2):
        print("taskset or a second CPU is missing: running unpinned", file=sys.stderr)
        args.pin = False
    return args


def main() -> None:
    args = parse_args()
    started = time.time()
    results: dict[str, Any] = {"machine": machine(), "args": vars(args), "code": code_version()}
    scratch = Path(tempfile.mkdtemp(prefix="mitmachen-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            if args.postgres:
                admin = os.environ.get(
                    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
                )
                database_url = stack.enter_context(postgres_database(admin))
                redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
            else:
                database_url, redis_url = f"sqlite:///{scratch / 'bench.sqlite3'}", None
            env = _base_env(scratch, database_url, redis_url)
            if not args.no_fanout:
                results["fanout"] = fanout(args, scratch, env)
        if not args.no_page:
            results["thread_page"] = thread_page(args, scratch, _base_env(scratch, "", None))
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
