"""The ``page-machina`` suite: its report, machina's environment, and a quick run of its workers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench import page_machina
from bench.common import base_env
from bench.run import parse_args


def page(posts: int, shown: int, queries: int, size: int, label: str = "first") -> dict:
    return {
        "thread_posts": posts,
        "page_label": label,
        "url": f"/t/{posts}/",
        "posts_shown": shown,
        "queries": queries,
        "bytes": size,
    }


def timing(per_post_median: float, per_post_min: float) -> dict:
    return {"ms_per_post_median": per_post_median, "ms_per_post_min": per_post_min}


def results(ours_median: list[float], machina_median: list[float]) -> dict:
    return {
        "ours": {"pages": [page(10, 10, 7, 25_000), page(1000, 50, 7, 90_000)]},
        "machina": {"pages": [page(10, 10, 17, 27_000), page(1000, 50, 17, 113_000)]},
        "runs": [
            {"run": i + 1, "ours": timing(o, o * 0.9), "machina": timing(m, m * 0.9)}
            for i, (o, m) in enumerate(zip(ours_median, machina_median, strict=True))
        ],
        "timed": {"ours": {"thread_posts": 1000, "posts_shown": 50, "url": "/t/1000/"}},
    }


def test_the_report_prints_each_runs_ratio_and_the_targets() -> None:
    text = "\n".join(page_machina.report(results([0.4, 0.6, 0.45], [1.0, 1.0, 1.0])))
    assert "time per post ours/machina (median of each run): 0.40x, 0.60x, 0.45x" in text
    assert "(target <= 0.5x in every run: MISSED)" in text
    assert "our queries per first page at 10, 1000 posts: 7, 7 (target constant: met)" in text
    # 90,000 bytes for 50 posts is 1,800 a post; each post beyond the tenth adds 1,625.
    assert "1,800 bytes per post, 1,625 bytes per additional post (target <= 2,048" in text
    assert "per post: met)" in text
    assert "page weight ours/machina: 90,000 / 113,000 bytes = 0.80x" in text


def test_the_time_target_is_met_only_if_every_run_meets_it() -> None:
    text = "\n".join(page_machina.report(results([0.4, 0.5, 0.45], [1.0, 1.0, 1.0])))
    assert "(target <= 0.5x in every run: met)" in text


def test_growing_queries_miss_the_target() -> None:
    grown = results([0.4], [1.0])
    grown["ours"]["pages"][1]["queries"] = 8
    assert "(target constant: MISSED)" in "\n".join(page_machina.report(grown))


def test_without_machina_the_report_says_why() -> None:
    alone = results([0.4], [1.0])
    del alone["machina"]
    alone["runs"] = [{"run": 1, "ours": timing(0.4, 0.3)}]
    alone["machina_error"] = "PyPI is unreachable, so django-machina could not be installed"
    text = "\n".join(page_machina.report(alone))
    assert "django-machina not measured: PyPI is unreachable" in text
    assert "|   1 |             0.400 (0.300) |                            - |" in text


def test_quick_runs_two_short_alternations_and_a_full_run_three() -> None:
    quick, full = parse_args(["--quick"]), parse_args([])
    assert (quick.page_runs, quick.page_repeat) == (2, 3)
    assert (full.page_runs, full.page_repeat) == (3, 25)
    assert "page-machina" in full.suite
    with pytest.raises(SystemExit):
        parse_args(["--page-runs", "0"])


def test_offline_or_under_ci_machinas_environment_is_never_built(tmp_path, monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError(f"ran {args[0]!r}")

    monkeypatch.setattr(subprocess, "run", no_network)
    monkeypatch.setattr(page_machina, "ROOT", tmp_path)
    python, why = page_machina.machina_python(tmp_path / "venv", offline=True)
    assert python is None
    assert "not built" in why
    monkeypatch.setenv("CI", "true")
    python, why = page_machina.machina_python(tmp_path / "venv")
    assert python is None
    assert "under CI" in why


def test_an_environment_built_from_other_requirements_is_not_reused(tmp_path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    (venv / page_machina.STAMP).write_text("an older digest\n")
    assert page_machina.cached_venv(venv) is None
    (venv / page_machina.STAMP).write_text(page_machina.requirements_digest() + "\n")
    assert page_machina.cached_venv(venv) == venv / "bin" / "python"


def quick_args() -> object:
    return parse_args(["--suite", "page-machina", "--quick", "--no-pin", "--page-posts", "3", "60"])


def test_without_machina_the_quick_suite_still_measures_our_page(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(page_machina, "machina_python", lambda **kw: (None, "not here"))
    measured = page_machina.run_suite(quick_args(), tmp_path, base_env(tmp_path, "", None))
    assert "error" not in measured, measured.get("error")
    assert measured["machina_error"] == "not here"
    pages = {(p["thread_posts"], p["page_label"]): p for p in measured["ours"]["pages"]}
    # 50 posts shown against 3 (besides them the page has ids such as "post-template").
    assert pages[(60, "first")]["post_ids_in_html"] - pages[(3, "first")]["post_ids_in_html"] == 47
    assert pages[(60, "last")]["posts_shown"] == 10
    assert pages[(3, "first")]["queries"] == pages[(60, "first")]["queries"]
    assert [run["run"] for run in measured["runs"]] == [1, 2]
    assert all(
        run["ours"]["requests"] == 3 and run["ours"]["bytes"] > 0 for run in measured["runs"]
    )


def test_the_quick_suite_alternates_ours_and_machina(tmp_path) -> None:
    python = page_machina.cached_venv()
    if python is None:
        pytest.skip(
            "django-machina's environment is not built (var/bench/machina-venv); build it once "
            "with `make bench BENCH_ARGS='--suite page-machina --quick'` (needs PyPI)"
        )
    measured = page_machina.run_suite(
        quick_args(), tmp_path, base_env(tmp_path, "", None), offline=True
    )
    assert "error" not in measured, measured.get("error")
    machina = {(p["thread_posts"], p["page_label"]): p for p in measured["machina"]["pages"]}
    assert machina[(60, "first")]["post_ids_in_html"] == 50
    for run in measured["runs"]:
        assert run["ours"]["ms_per_post_min"] > 0 and run["machina"]["ms_per_post_min"] > 0
    assert Path(python).exists()
    assert "ours/machina" in "\n".join(page_machina.report(measured))
