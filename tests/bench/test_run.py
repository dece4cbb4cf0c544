"""The benchmark's command line, summaries and verdicts (no benchmark is run here)."""

from __future__ import annotations

import argparse

import pytest

from bench import connect_burst, fanout_one, fanout_redis
from bench.burstclient import burst_verdict, summarise_burst, summarise_lone
from bench.run import SUITES, parse_args, report


def record(at: float, synced: float | None, *, sheds: int = 0, error: str | None = None) -> dict:
    return {
        "at_ms": at,
        "lag_ms": 0.0,
        "hello_ms": None if synced is None else synced / 2,
        "synced_ms": synced,
        "sheds": sheds,
        "error": error,
    }


def step(p99: float, *, lost: int = 0, rate: float = 10.0, ok: bool = True, attempt: int = 1):
    return {
        "rate": rate,
        "posts": 100,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
        "first_p50_ms": 1.0,
        "lost_posts": lost,
        "missing_deliveries": 0,
        "deliveries_expected": 100_000,
        "server_cpu_share": 0.3,
        "client_cpu_share": 0.1,
        "frames_per_s": 10_000,
        "ok": ok,
        "attempt": attempt,
    }


def fixed(p99: float, *, clients: int = 1000, lost: int = 0) -> dict:
    return {"clients_connected": clients, "steps": [step(p99, lost=lost)]}


# --- command line ---


def test_without_arguments_every_suite_runs_at_full_size() -> None:
    args = parse_args([])
    assert args.suite == list(SUITES)
    assert args.clients == [100, 500, 1000]
    assert args.repeat == 3
    assert args.burst_clients == [500, 1000, 2000]
    assert args.burst_rates == [100.0, 200.0]
    assert args.redis_clients == [1000, 2000]
    assert args.lone == 20
    assert args.processes == 2


def test_one_suite_can_be_chosen() -> None:
    assert parse_args(["--suite", "connect"]).suite == ["connect"]
    assert parse_args(["--suite", "page", "fanout"]).suite == ["fanout", "page"]


def test_the_old_switches_still_leave_suites_out() -> None:
    assert parse_args(["--no-fanout", "--no-page"]).suite == [
        "fanout-redis",
        "connect",
        "vote-burst",
        "conference-arrival",
        "queue-burst",
    ]


def test_quick_shrinks_every_suite_but_keeps_what_was_given() -> None:
    args = parse_args(["--quick", "--burst-clients", "200", "300"])
    assert args.clients == [100]
    assert args.repeat == 1
    assert args.redis_clients == [500]
    assert args.burst_rates == [100.0]
    assert args.burst_clients == [200, 300]


def test_a_repeat_of_zero_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--repeat", "0"])


def test_an_unknown_suite_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--suite", "everything"])


# --- connect burst ---


def test_a_burst_summary_counts_synced_failed_and_shed_clients() -> None:
    records = [
        record(0, 20.0),
        record(10, 30.0, sheds=2),
        record(20, None, error="ConnectionError: closed before hello"),
        record(30, 40.0),
    ]
    summary = summarise_burst(records)
    assert (summary["clients"], summary["synced"], summary["failed"]) == (4, 3, 1)
    assert (summary["sheds"], summary["clients_shed"]) == (2, 1)
    assert summary["errors"] == {"ConnectionError: closed before hello": 1}
    assert summary["p50_ms"] == 30.0
    assert summary["p99_ms"] == 40.0
    # Not everyone synced; the last one that did was at 30 + 40 ms after the first start.
    assert summary["all_synced_s"] is None
    assert summary["last_synced_s"] == 0.07


def test_all_synced_is_the_time_until_the_last_client_synced() -> None:
    summary = summarise_burst([record(0, 500.0), record(1000, 20.0)])
    assert summary["all_synced_s"] == 1.02


def test_the_lone_median_leaves_failed_connects_out() -> None:
    lone = summarise_lone([record(0, 10.0), record(0, 30.0), record(0, None, error="x")])
    assert lone == {"lone_connects": 3, "lone_failed": 1, "lone_median_ms": 20.0}


def test_a_burst_meets_the_target_only_if_all_synced_none_failed_and_p99_within_4x() -> None:
    good = summarise_burst([record(0, 40.0), record(10, 80.0)])
    assert burst_verdict(good, 20.0, 4.0)
    assert not burst_verdict(good, 19.0, 4.0)
    failed = summarise_burst([record(0, 40.0), record(10, None, error="timeout")])
    assert not burst_verdict(failed, 100.0, 4.0)
    assert not burst_verdict(good, None, 4.0)


def burst_result(synced_ms: list[float], lone_ms: list[float]) -> dict:
    return {
        "records": [record(10 * i, ms) for i, ms in enumerate(synced_ms)],
        "lone": [record(0, ms) for ms in lone_ms],
        "client_cpu_share": 0.1,
        "closed_after_synced": 0,
    }


def test_the_connect_report_prints_the_ratio_to_a_lone_connect_and_to_raw() -> None:
    runs = [
        connect_burst.summarise_run("raw", 2, 100.0, burst_result([5.0, 10.0], [4.0])),
        connect_burst.summarise_run("ours", 2, 100.0, burst_result([50.0, 100.0], [20.0])),
        connect_burst.summarise_run("raw", 2, 200.0, {"error": "load client exited with 1"}),
    ]
    text = "\n".join(connect_burst.report({"processes": 2, "runs": runs}))
    assert "p99/lone 100 / 20.0 ms = 5.0x (target: all connected, none failed, <= 4x: MISSED)" in (
        text
    )
    assert "p99 ours/raw 100 / 10.0 ms = 10.0x" in text
    assert "not measured: load client exited with 1" in text


# --- fan-out on Redis ---


def test_fanout_on_redis_meets_its_target_within_4x_raw_and_nothing_lost() -> None:
    assert fanout_redis.verdict(fixed(40.0), fixed(10.0), 1000)["ok"]
    assert not fanout_redis.verdict(fixed(41.0), fixed(10.0), 1000)["ok"]
    assert not fanout_redis.verdict(fixed(20.0, lost=1), fixed(10.0), 1000)["ok"]
    assert not fanout_redis.verdict(fixed(20.0, clients=999), fixed(10.0), 1000)["ok"]


def test_the_redis_report_prints_ours_against_raw() -> None:
    results = {
        "processes": 2,
        "rate": 10.0,
        "fixed": {"raw": {"1000": fixed(10.0)}, "ours": {"1000": fixed(30.0)}},
    }
    text = "\n".join(fanout_redis.report(results, 10.0))
    assert "= 3.00x, 0 posts lost, 1000/1000 connected (target <= 4x and 0 lost: met)" in text


# --- one process ---


def one_process_results(repeats: list[tuple[float, float]]) -> dict:
    (ours, raw), *more = repeats
    return {
        "fixed": {"raw": {"1000": fixed(raw)}, "ours": {"1000": fixed(ours)}},
        "ramp": {
            "raw": {"steps": [step(20, rate=40), step(20, rate=80), step(900, rate=160, ok=False)]},
            "ours": {"steps": [step(20, rate=20), step(20, rate=40), step(900, rate=80, ok=False)]},
        },
        "repeats": [{"raw": fixed(r), "ours": fixed(o)} for o, r in more],
        "client_ceiling": {},
    }


def test_every_repeated_run_gets_its_own_ratio_and_all_must_meet_it() -> None:
    args = parse_args(["--suite", "fanout", "--servers", "raw", "ours"])
    fan = one_process_results([(30.0, 20.0), (40.0, 20.0), (28.0, 20.0)])
    text = "\n".join(fanout_one.ratios(fan, args))
    assert "(run 1 of 3): 30.0 / 20.0 ms = 1.50x (target <= 1.5x: met)" in text
    assert "(run 2 of 3): 40.0 / 20.0 ms = 2.00x (target <= 1.5x: MISSED)" in text
    assert "(run 3 of 3): 28.0 / 20.0 ms = 1.40x (target <= 1.5x: met)" in text
    assert "ours/raw p99 in all 3 runs: MISSED (2 of 3 met)" in text


def test_the_highest_passing_rate_is_compared_with_raw() -> None:
    args = parse_args(["--suite", "fanout", "--servers", "raw", "ours"])
    fan = one_process_results([(30.0, 20.0)])
    text = "\n".join(fanout_one.rate_ratios(fan, args))
    assert "ours/raw highest rate: 40 / 80 posts/s = 0.50x (target >= 0.5x: met)" in text


def test_a_rate_passes_if_its_second_attempt_passed() -> None:
    ramp = {
        "steps": [
            step(20, rate=10),
            step(300, rate=20, ok=False),
            step(20, rate=20, attempt=2),
            step(300, rate=40, ok=False),
            step(300, rate=40, ok=False, attempt=2),
        ]
    }
    best, failed = fanout_one.highest_rate(ramp)
    assert best == 20
    assert failed["rate"] == 40


def test_the_whole_report_renders_every_suite_with_its_time() -> None:
    args: argparse.Namespace = parse_args(["--servers", "raw", "ours"])
    results = {
        "fanout": one_process_results([(30.0, 20.0), (31.0, 20.0), (32.0, 20.0)]),
        "fanout-redis": {
            "processes": 2,
            "rate": 10.0,
            "fixed": {"raw": {"1000": fixed(10.0)}, "ours": {"1000": {"error": "x", "steps": []}}},
        },
        "connect": {"processes": 2, "runs": []},
        "thread_page": {"error": "thread_page.py exited with 1"},
        "suite_seconds": {"fanout": 300.0, "connect": 200.0},
    }
    text = "\n".join(report(results, args))
    assert "ours/raw p99 at 1000 clients: not computable (x; target MISSED)" in text
    assert "our server #3" in text
    assert "Thread page: thread_page.py exited with 1" in text
    assert text.endswith("Time per suite: fanout 300 s, connect 200 s")


def test_a_raw_server_that_passed_every_step_leaves_the_rate_target_open() -> None:
    args = parse_args(["--suite", "fanout", "--servers", "raw", "ours"])
    fan = one_process_results([(30.0, 20.0)])
    fan["ramp"]["raw"]["steps"].pop()
    text = "\n".join(fanout_one.rate_ratios(fan, args))
    assert "= 0.50x (target >= 0.5x: unclear: raw passed every step)" in text


def test_the_redis_report_says_how_many_connects_were_shed_or_failed() -> None:
    ours = {**fixed(30.0, clients=998), "connect_sheds": 12, "connect_errors": {"timeout": 2}}
    results = {
        "processes": 2,
        "rate": 10.0,
        "fixed": {"raw": {"1000": fixed(10.0)}, "ours": {"1000": ours}},
    }
    text = "\n".join(fanout_redis.report(results, 10.0))
    assert "connecting 1000 clients to ours: 12 sheds (retried), failed: {'timeout': 2}" in text
    assert "998/1000 connected (target <= 4x and 0 lost: MISSED)" in text
