"""The frame checks every live socket shares (deliberation.frames)."""

from __future__ import annotations

import json

import pytest

from deliberation.frames import MAX_DEPTH, TokenBucket, too_deep
from tests.clock import ManualClock


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, False),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), True),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), True),
        # Brackets inside strings nest nothing, escaped quotes do not end a string.
        (json.dumps({"type": "ping", "s": "[" * 1_000}), False),
        (json.dumps({"type": "ping", "s": '\\"[' * 1_000}), False),
        # Many flat lists are not deep.
        (json.dumps([[1]] * 1_000), False),
        # An unterminated string after deep nesting is consumed once (not once per quote).
        ("[" * (MAX_DEPTH + 1) + '"' + '\\"' * 10_000, True),
    ],
)
def test_too_deep_counts_nesting_outside_strings(text, deep):
    assert too_deep(text) is deep


def test_a_bucket_passes_its_burst_then_one_frame_per_refill_interval():
    clock = ManualClock()
    bucket = TokenBucket(3, 2.0, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() == 1
    clock.advance(0.5)
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.advance(3_600)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_clock_that_goes_back_adds_no_tokens():
    clock = ManualClock()
    bucket = TokenBucket(1, 1.0, clock=clock)
    assert bucket.take()
    clock.advance(-10)
    assert not bucket.take()
