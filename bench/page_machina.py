"""Suite ``page-machina``: our thread page against django-machina's topic page, in the same run.

Two workers, each seeding its own scratch SQLite database with threads of ``--page-posts`` posts
(the same authors and Markdown bodies, ``bench/pagework.py``) and rendering pages in-process with
Django's test client as a signed-in member:

- ours: ``bench/thread_page.py --serve`` in the project's virtual environment;
- machina: ``bench/baselines/machina_worker.py`` in a virtual environment of its own under
  ``var/bench/machina-venv``, built here from ``bench/baselines/machina-requirements.txt`` on the
  first run and reused while that file is unchanged. machina is never a dependency of the platform.

Both workers start and seed at once; then the first 50-post page of the longest thread is timed in
``--page-runs`` runs of ``--page-repeat`` requests to each, the requests alternating (ours,
machina, ours, machina, ...) so that both see the same machine. Reported per run: time per post
(median and minimum of the requests), their ratio ours/machina; once: page weight (bytes in all,
per post shown, and per additional post between the shortest and the longest page), queries per
page at every length.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bench.common import BENCH, ROOT, SERVER_CPU, pinned, table_header

REQUIREMENTS = BENCH / "baselines" / "machina-requirements.txt"
WORKER = BENCH / "baselines" / "machina_worker.py"
VENV = ROOT / "var" / "bench" / "machina-venv"
STAMP = ".mitmachen-requirements"
#: The issue's targets for our page against machina's.
TIME_RATIO_TARGET = 0.5
BYTES_PER_POST_TARGET = 2048


# --- machina's virtual environment ---------------------------------------------------------------


def requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def cached_venv(venv: Path = VENV) -> Path | None:
    """The built environment's Python if it was built from the current requirements, else None."""
    stamp = venv / STAMP
    python = venv_python(venv)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == requirements_digest():
        return python
    return None


def machina_python(venv: Path = VENV, *, offline: bool = False) -> tuple[Path | None, str]:
    """The Python of machina's environment, built if needed: ``(python, "")`` or ``(None, why)``.

    ``offline`` (and ``CI=true``) never reaches PyPI: only an environment built before is used.
    """
    python = cached_venv(venv)
    if python:
        return python, ""
    if offline or os.environ.get("CI", "").lower() == "true":
        return None, (
            f"django-machina's environment is not built ({venv.relative_to(ROOT)}); "
            "not reaching PyPI offline or under CI"
        )
    print(f"building django-machina's environment in {venv} (once) ...", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [
            str(venv_python(venv)),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--timeout",
            "20",
            "--retries",
            "1",
            "-r",
            str(REQUIREMENTS),
        ],
    ]
    for argv in steps:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            return None, "building django-machina's environment took over 10 minutes"
        if proc.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            errors = [
                line
                for line in proc.stderr.splitlines()
                if line.strip() and "is ignored: it is neither a file nor a directory" not in line
            ]
            unreachable = any(
                word in proc.stderr
                for word in ("NewConnectionError", "Max retries", "ConnectTimeout", "No matching")
            )
            reason = (
                "PyPI is unreachable, so django-machina could not be installed"
                if unreachable
                else f"installing django-machina failed: {' '.join(errors[-3:])[:500]}"
            )
            return None, reason
    (venv / STAMP).write_text(requirements_digest() + "\n")
    return venv_python(venv), ""


def installed_versions(python: Path) -> dict[str, str]:
    proc = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    with contextlib.suppress(ValueError):
        return {p["name"]: p["version"] for p in json.loads(proc.stdout)}
    return {}


# --- workers -------------------------------------------------------------------------------------


WorkerSpec = tuple[str, list[str], dict[str, str]]


class Worker:
    """A worker process speaking ``bench/pagework.py``'s line protocol."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._log_file: IO[str] = log.open("w")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(30)
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} worker exited with {self.process.returncode}: {tail}")
        return json.loads(line)

    def send(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.send_quit()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log_file.close()

    def send_quit(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write('{"cmd": "quit"}\n')
        self.process.stdin.close()


@contextlib.contextmanager
def workers(specs: list[WorkerSpec], logs: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    try:
        for name, argv, env in specs:
            started.append(Worker(name, argv, env, logs / f"{name}.log"))
        yield started
    finally:
        for worker in started:
            worker.close()


def our_worker(args: argparse.Namespace, scratch: Path, env: dict[str, str]) -> WorkerSpec:
    ours_dir = scratch / "page-ours"
    ours_dir.mkdir(exist_ok=True)
    ours_env = dict(env)
    ours_env["DATABASE_URL"] = f"sqlite:///{ours_dir / 'page.sqlite3'}"
    ours_env["DJANGO_VAR_DIR"] = str(ours_dir)
    ours_env["DJANGO_ALLOWED_HOSTS"] = "testserver"
    argv = [sys.executable, str(BENCH / "thread_page.py"), "--serve", "--posts"]
    argv += [str(n) for n in args.page_posts]
    return ("ours", pinned(SERVER_CPU, argv, args.pin), ours_env)


def machina_worker(args: argparse.Namespace, scratch: Path, python: Path) -> WorkerSpec:
    machina_dir = scratch / "page-machina"
    machina_dir.mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    env.update({"MACHINA_BENCH_DIR": str(machina_dir), "PYTHONUNBUFFERED": "1"})
    argv = [str(python), str(WORKER), "--posts", *map(str, args.page_posts)]
    return ("machina", pinned(SERVER_CPU, argv, args.pin), env)


def timed_url(pages: list[dict[str, Any]]) -> dict[str, Any]:
    """The first page of the longest thread (50 posts of 1,000 in a full run)."""
    return max(
        (p for p in pages if p["page_label"] == "first"),
        key=lambda p: (p["thread_posts"], p["posts_shown"]),
    )


def summarise_times(times_ms: list[float], posts: int) -> dict[str, float]:
    return {
        "requests": len(times_ms),
        "ms_median": round(statistics.median(times_ms), 3),
        "ms_min": round(min(times_ms), 3),
        "ms_per_post_median": round(statistics.median(times_ms) / posts, 4),
        "ms_per_post_min": round(min(times_ms) / posts, 4),
    }


def run_suite(
    args: argparse.Namespace, scratch: Path, env: dict[str, str], *, offline: bool = False
) -> dict[str, Any]:
    results: dict[str, Any] = {"runs": []}
    python, why_not = machina_python(offline=offline)
    specs = [our_worker(args, scratch, env)]
    if python is None:
        results["machina_error"] = why_not
        print(f"page-machina: {why_not}; measuring our page alone", file=sys.stderr)
    else:
        results["machina_versions"] = {
            k: v
            for k, v in installed_versions(python).items()
            if k.lower() in ("django", "django-machina", "markdown2")
        }
        specs.append(machina_worker(args, scratch, python))
    logs = scratch / "page-logs"
    logs.mkdir(exist_ok=True)
    try:
        with workers(specs, logs) as started:
            for worker in started:  # both seed at once; neither is timed yet
                results[worker.name] = {"pages": worker.read()["pages"]}
            targets = {w.name: timed_url(results[w.name]["pages"]) for w in started}
            for run in range(1, args.page_runs + 1):
                # Request by request in turn (ours, machina, ours, ...): a burst of load from
                # elsewhere on the machine then hits both alike, not one side's whole run.
                times: dict[str, list[float]] = {w.name: [] for w in started}
                sizes: dict[str, int] = {}
                for _ in range(args.page_repeat):
                    for worker in started:
                        answer = worker.send(
                            {"cmd": "measure", "url": targets[worker.name]["url"], "repeat": 1}
                        )
                        times[worker.name] += answer["times_ms"]
                        sizes[worker.name] = answer["bytes"]
                entry: dict[str, Any] = {"run": run}
                for worker in started:
                    shown = targets[worker.name]["posts_shown"]
                    entry[worker.name] = summarise_times(times[worker.name], shown)
                    entry[worker.name]["bytes"] = sizes[worker.name]
                results["runs"].append(entry)
            results["timed"] = {
                name: {k: t[k] for k in ("thread_posts", "posts_shown", "url")}
                for name, t in targets.items()
            }
    except (RuntimeError, ValueError, KeyError) as error:
        results["error"] = str(error)
    return results


# --- report --------------------------------------------------------------------------------------


def marginal_bytes(pages: list[dict[str, Any]]) -> float | None:
    """Bytes each additional post adds: between the shortest and the longest first page."""
    first = sorted((p for p in pages if p["page_label"] == "first"), key=lambda p: p["posts_shown"])
    if len(first) < 2 or first[-1]["posts_shown"] == first[0]["posts_shown"]:
        return None
    small, large = first[0], first[-1]
    return (large["bytes"] - small["bytes"]) / (large["posts_shown"] - small["posts_shown"])


def _cell(r: dict[str, Any] | None) -> str:
    return f"{r['ms_per_post_median']:.3f} ({r['ms_per_post_min']:.3f})" if r else "-"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict[str, Any]) -> list[str]:
    ours, machina = results.get("ours"), results.get("machina")
    lines = [
        "Thread page against django-machina's topic page (Django test client in-process, "
        "signed-in member, alternating runs)"
    ]
    if results.get("machina_error"):
        lines.append(f"django-machina not measured: {results['machina_error']}")
    if results.get("machina_versions"):
        lines.append(
            "machina's environment: "
            + ", ".join(f"{k} {v}" for k, v in sorted(results["machina_versions"].items()))
        )
    if results.get("error"):
        lines.append(f"error: {results['error']}")
    if not ours:
        return lines
    timed = results.get("timed", {}).get("ours")
    if timed:
        lines.append(
            f"timed page: the first of a {timed['thread_posts']:,}-post thread, "
            f"{timed['posts_shown']} posts shown"
        )
    lines += table_header(
        "| run | ours ms/post median (min) | machina ms/post median (min) | ours/machina median | "
        "ours/machina min |"
    )
    ratios = []
    for entry in results["runs"]:
        mine, theirs = entry.get("ours"), entry.get("machina")
        if mine and theirs:
            median_ratio = mine["ms_per_post_median"] / theirs["ms_per_post_median"]
            min_ratio = mine["ms_per_post_min"] / theirs["ms_per_post_min"]
            ratios.append(median_ratio)
            ratio_cells = f"{median_ratio:>18.2f}x | {min_ratio:>15.2f}x"
        else:
            ratio_cells = f"{'-':>19} | {'-':>16}"
        lines.append(
            f"| {entry['run']:>3} | {_cell(mine):>25} | {_cell(theirs):>28} | {ratio_cells} |"
        )
    if ratios:
        lines.append(
            f"time per post ours/machina (median of each run): "
            f"{', '.join(f'{r:.2f}x' for r in ratios)} "
            f"(target <= {TIME_RATIO_TARGET}x in every run: "
            f"{_verdict(all(r <= TIME_RATIO_TARGET for r in ratios))})"
        )
    lines.append("")
    lines += table_header(
        "| forum   | posts in thread | page  | posts shown | queries | bytes   | bytes per post |"
    )
    for name, side in (("ours", ours), ("machina", machina)):
        for page in (side or {}).get("pages", []):
            per_post = page["bytes"] / max(1, page["posts_shown"])
            lines.append(
                f"| {name:<7} | {page['thread_posts']:>15,} | {page['page_label']:>5} | "
                f"{page['posts_shown']:>11} | {page['queries']:>7} | {page['bytes']:>7,} | "
                f"{per_post:>14,.0f} |"
            )
    our_pages = ours.get("pages", [])
    if our_pages:
        firsts = [p for p in our_pages if p["page_label"] == "first"]
        lines.append(
            f"our queries per first page at {', '.join(str(p['thread_posts']) for p in firsts)} "
            f"posts: {', '.join(str(p['queries']) for p in firsts)} "
            f"(target constant: {_verdict(len({p['queries'] for p in firsts}) == 1)})"
        )
        ours_timed = timed_url(our_pages)
        per_post = ours_timed["bytes"] / ours_timed["posts_shown"]
        added = marginal_bytes(our_pages)
        added_text = f", {added:,.0f} bytes per additional post" if added is not None else ""
        lines.append(
            f"our page weight: {ours_timed['bytes']:,} bytes for "
            f"{ours_timed['posts_shown']} posts, "
            f"{per_post:,.0f} bytes per post{added_text} "
            f"(target <= {BYTES_PER_POST_TARGET:,} per post: "
            f"{_verdict(per_post <= BYTES_PER_POST_TARGET)})"
        )
        if machina and machina.get("pages"):
            theirs_timed = timed_url(machina["pages"])
            their_added = marginal_bytes(machina["pages"])
            lines.append(
                f"page weight ours/machina: {ours_timed['bytes']:,} / {theirs_timed['bytes']:,} "
                f"bytes = {ours_timed['bytes'] / theirs_timed['bytes']:.2f}x"
                + (
                    f"; per additional post {added:,.0f} / {their_added:,.0f} bytes"
                    if added is not None and their_added is not None
                    else ""
                )
                + f"; queries ours/machina {ours_timed['queries']} / {theirs_timed['queries']}"
            )
    return lines
