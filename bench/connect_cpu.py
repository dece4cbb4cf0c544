"""Server CPU per connect: what one websocket connect costs the process, whatever the load.

A burst's latency depends on how busy the machine is; the CPU a connect costs hardly does. One
daphne process (PostgreSQL and Redis, as in production) and the raw websockets server each take
``--connects`` sequential lone connects (each closed before the next, as in the connect suite's
lone measurement); the CPU each process used meanwhile is read from ``/proc`` and its idle CPU,
measured just before, is subtracted. Prints JSON with ours, the raw server's, and their ratio.

    python bench/connect_cpu.py                    # this checkout
    python bench/connect_cpu.py --root ../old      # another checkout (compare two versions)

Needs PostgreSQL (``BENCH_POSTGRES_URL``) and Redis (``REDIS_URL``, default db 15), like the
connect suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connects", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds after a warm-up")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout whose server runs")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    os.chdir(root)
    from bench.common import (
        base_env,
        load,
        postgres_admin_url,
        postgres_database,
        redis_prefix,
        redis_url,
        seed,
        servers,
    )
    from bench.wsclient import _server_cpu_seconds

    def cpu_per_connect(started: dict, path: str, cookies: list[str]) -> dict:
        pid = started["pid"]
        before, t0 = _server_cpu_seconds(pid), time.monotonic()
        time.sleep(3)
        idle = (_server_cpu_seconds(pid) - before) / (time.monotonic() - t0)
        spec = {
            "mode": "burst",
            "host": "127.0.0.1",
            "ports": [started["port"]],
            "server_pids": [pid],
            "path": path,
            "cookies": cookies,
            "clients": 0,
            "connect_rate": 100.0,
            "lone": len(cookies),
            "connect_timeout": 30,
            "hard_timeout": 600,
            "uvloop": False,
        }
        before, t0 = _server_cpu_seconds(pid), time.monotonic()
        result = load(spec, False, 900)
        used = _server_cpu_seconds(pid) - before - idle * (time.monotonic() - t0)
        synced = [r["synced_ms"] for r in result.get("lone", []) if r.get("synced_ms") is not None]
        return {
            "cpu_ms": round(1000 * used / len(cookies), 2),
            "lone_median_ms": round(statistics.median(synced), 1) if synced else None,
            "failed": len(cookies) - len(synced),
        }

    scratch = Path(tempfile.mkdtemp(prefix="connect-cpu-"))
    rows = []
    with postgres_database(postgres_admin_url(), "_cpu") as database_url:
        env = base_env(scratch, database_url, redis_url(), redis_prefix())
        seeded = seed(env, members=args.connects, threads=args.rounds + 1, posters=1)
        cookies = seeded["cookies"][: args.connects]
        with (
            servers("ours", env, scratch, False) as (ours,),
            servers("raw", env, scratch, False) as (raw,),
        ):
            for index, thread in enumerate(seeded["threads"][: args.rounds + 1]):
                path = f"/ws/threads/{thread}/?after={seeded['last_seq'][str(thread)]}"
                row = {"ours": cpu_per_connect(ours, path, cookies)}
                row["raw"] = cpu_per_connect(raw, path, cookies)
                if index:  # the first round warms both up
                    row["ratio"] = round(row["ours"]["cpu_ms"] / max(row["raw"]["cpu_ms"], 0.01), 1)
                    rows.append(row)
    print(json.dumps({"root": str(root), "connects": args.connects, "rounds": rows}, indent=2))


if __name__ == "__main__":
    main()
