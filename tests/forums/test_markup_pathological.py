"""Hostile Markdown renders in time linear in its length (issue #9, finding 1).

Python-Markdown, the engine before cmark-gfm, took 44.7 s for a post of 10,000 "[": one post
froze a daphne process. Each input below must render within ``BUDGET`` times the CPU time of a
typical post, measured in the same run (``time.process_time``, so a loaded machine slows both
alike; never wall-clock seconds). The inputs are the cases found by hand, cmark's own
pathological tests, and the sizes a member can send: a post has at most 10,000 characters, the
editor preview 20,000, a websocket frame 64 KiB.
"""

from __future__ import annotations

import math
import time

import pytest

from deliberation.markup import MAX_BLOCK_NESTING, render_markdown

#: cmark-gfm with nh3 stays below about 600x here (the 64 KiB inputs are 200 times a typical
#: post's length); Python-Markdown exceeded 100,000x on the first three inputs.
BUDGET = 2_000

TYPICAL = (
    "Ich finde den Vorschlag **gut**, aber die *Kosten* sind unklar.\n\n"
    "- Wer zahlt die Sanierung?\n"
    "- Was sagt der [Mieterverein](https://www.berliner-mieterverein.de/)?\n\n"
    "> Die Miete darf nicht steigen.\n\n"
    "Viele Grüße aus Neukölln"
)

KIB_64 = 64 * 1024
CORPUS: dict[str, str] = {
    # the three inputs of the finding
    "10,000 [": "[" * 10_000,
    "5,000 ![": "![" * 5_000,
    "2,500 [a][": "[a][" * 2_500,
    # deep nesting
    "10,000 > in one line": ">" * 10_000 + " a",
    "20,000 > in one line (preview size)": ">" * 20_000,
    "quotes nested line by line": "\n".join("> " * i + "a" for i in range(1, 140)),
    "5,000 nested list markers": "- " * 5_000 + "a",
    "lists nested by indentation": "\n".join("  " * i + "- a" for i in range(140)),
    "quotes and lists interleaved": "> - " * 5_000 + "a",
    "ordered lists nested": "1. " * 6_000 + "a",
    # emphasis
    "10,000 *": "*" * 10_000,
    "5,000 *a": "*a" * 5_000,
    "emphasis nested 2,500 deep": "*a **a " * 1_250 + "b" + " a** a*" * 1_250,
    "5,000 closers without openers": "a* " * 5_000,
    "5,000 openers without closers": "*a " * 5_000,
    "underscores": "_a" * 5_000,
    "openers and closers multiple of 3": "a***b" * 2_000 + "a**b" * 2_000,
    "strikethrough runs": "~~a " * 2_500 + "b" + " a~~" * 2_500,
    # code spans
    "10,000 backticks": "`" * 10_000,
    "backtick runs of every length": "".join("`" * i + "a" for i in range(1, 140)),
    # links
    "link reference chain": "".join(f"[l{i}]: /u{i}\n" for i in range(700))
    + "\n"
    + "".join(f"[l{i}] " for i in range(700)),
    "5,000 definitions of one label": "[a]: /u\n" * 2_000 + "[a]",
    "brackets nested 5,000 deep": "[" * 5_000 + "a" + "]" * 5_000,
    "link openers and emphasis closers": "[ a_" * 2_500,
    "unclosed links": "[a](<b" * 3_000,
    "unclosed links without angle brackets": "[a](b" * 4_000,
    "5,000 www. autolinks": "www." * 5_000,
    # tables
    "table of 3,000 columns": "|" + "a|" * 3_000 + "\n|" + "-|" * 3_000 + "\n|" + "b|" * 3_000,
    "table of 2,000 rows": "| a | b |\n|---|---|\n" + "| c | d |\n" * 2_000,
    "table of 10,000 empty rows": "|a|\n|-|\n" + "|\n" * 10_000,
    # 64 KiB of one character
    "64 KiB of a": "a" * KIB_64,
    "64 KiB of [": "[" * KIB_64,
    "64 KiB of <": "<" * KIB_64,
    "64 KiB of *": "*" * KIB_64,
    "64 KiB of `": "`" * KIB_64,
    "64 KiB of >": ">" * KIB_64,
    "64 KiB of newlines": "\n" * KIB_64 + "a",
    # text
    "mixed Unicode": (
        "Grüße ÄÖÜß 🇩🇪 👨\u200d👩\u200d👧 مرحبا שלום 漢字 e\u0301\u0301\u0301 \u202eabc\u202c "
        "\u200b\ufeff \U0001f600 "
    )
    * 250,
    "raw HTML tags": "<a>" * 3_000,
    "entities": "&amp;&#x41;&nbsp;" * 1_000,
}


def _cpu_per_render(text: str, *, renders: int) -> float:
    start = time.process_time()
    for _ in range(renders):
        render_markdown(text)
    return (time.process_time() - start) / renders


@pytest.fixture(scope="module")
def typical() -> float:
    """CPU seconds of one typical post: the best of five rounds of 200 renders."""
    render_markdown(TYPICAL)
    return min(_cpu_per_render(TYPICAL, renders=200) for _ in range(5))


@pytest.mark.parametrize("name", CORPUS)
def test_a_hostile_input_renders_within_its_cpu_budget(name, typical):
    text = CORPUS[name]
    # Best of up to three: the first run within the budget is enough (a passing input costs
    # one render, a failing one three).
    best = math.inf
    for _ in range(3):
        best = min(best, _cpu_per_render(text, renders=1))
        if best <= BUDGET * typical:
            break
    ratio = best / typical
    assert ratio <= BUDGET, f"{name}: {best * 1000:.1f} ms, {ratio:.0f}x a typical post"


def test_the_typical_post_renders_as_expected():
    output = render_markdown(TYPICAL)
    assert "<strong>gut</strong>" in output and "<blockquote>" in output


def test_quotes_nested_within_the_limit_render_as_quotes():
    output = render_markdown(">" * 40 + " tief")
    assert output.count("<blockquote>") == 40


def test_quotes_nested_beyond_the_limit_are_shown_as_plain_text():
    output = render_markdown(">" * (MAX_BLOCK_NESTING + 1) + " tief")
    assert "<blockquote>" not in output
    assert output == "<p>" + "&gt;" * (MAX_BLOCK_NESTING + 1) + " tief</p>"
