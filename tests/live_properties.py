"""Hostile frames for the property tests of every live socket (hypothesis strategies), and the
check they share: each bad frame gets exactly one ``error`` with a known code, a message and a
``ref``; the socket stays open; nothing else is answered.

The budget and the seed come from the hypothesis profile in tests/conftest.py (derandomised,
a fixed number of examples); the tests move the sockets' clocks by hand.
"""

from __future__ import annotations

import json
from typing import Any

from channels.testing import WebsocketCommunicator
from hypothesis import strategies as st

from deliberation.frames import MAX_DEPTH, REF_INT_MAX, REF_MAX

TIMEOUT = 3
MAX_FRAME = 64 * 1024

#: What a socket may answer to a bad frame (never ``internal``: that is a crash).
FRAME_CODES = frozenset({"invalid", "too_long", "rate_limited", "not_found"})

Frame = dict[str, Any]  # {"text_data": ...} or {"bytes_data": ...}


def text(value: Any) -> Frame:
    return {"text_data": json.dumps(value)}


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)


def _not_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return True
    return False


#: Ids a frame may not carry (echoing them would lose or change them).
bad_ids = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.just("")
    | st.text(min_size=REF_MAX + 1, max_size=REF_MAX + 20)
    | st.integers(min_value=REF_INT_MAX + 1)
    | st.integers(max_value=-REF_INT_MAX - 1)
    | st.lists(json_scalars, max_size=3)
    | st.dictionaries(st.text(max_size=5), json_scalars, max_size=3)
).filter(lambda value: value is not None)


@st.composite
def deep_nesting(draw: st.DrawFn) -> Frame:
    depth = draw(st.integers(min_value=MAX_DEPTH + 1, max_value=20_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"a":', "}]")]))
    inner = opener * depth + "1" + closer * depth
    if draw(st.booleans()):
        inner = '{"type": "ping", "x": ' + inner + "}"
    return {"text_data": inner}


@st.composite
def huge_strings(draw: st.DrawFn) -> Frame:
    size = draw(st.integers(min_value=MAX_FRAME + 1, max_value=3 * MAX_FRAME))
    char = draw(st.sampled_from(["x", "ä", "€", "𝄞", '"']))
    # Characters that take 2 to 4 bytes in UTF-8 make a frame over the limit in bytes only.
    count = max(1, size // len(char.encode()))
    return {"text_data": json.dumps({"type": "ping", "p": char * count}, ensure_ascii=False)}


def common_bad_frames(types: list[str], *, large: bool = True) -> st.SearchStrategy[Frame]:
    """Bad frames every socket must refuse: ``types`` are the frame types it knows; without
    ``large``, no frames over the size limit or deeply nested (for floods)."""
    big = [deep_nesting(), huge_strings()] if large else []
    return st.one_of(
        *big,
        st.binary(min_size=1, max_size=256).map(lambda b: {"bytes_data": b}),
        st.text(max_size=200).filter(_not_json).map(lambda s: {"text_data": s}),
        json_values.filter(lambda v: not isinstance(v, dict)).map(text),
        # No type, a type that is not text, or one the socket does not know.
        st.dictionaries(
            st.text(max_size=8).filter(lambda k: k != "type"), json_values, max_size=4
        ).map(text),
        st.fixed_dictionaries({"type": json_scalars.filter(lambda t: t not in types)}).map(text),
        # A known type, or a ping, with an id that cannot be echoed.
        st.fixed_dictionaries({"type": st.sampled_from(types), "id": bad_ids}).map(text),
    )


async def send_raw(ws: WebsocketCommunicator, frame: Frame) -> None:
    """Send ``frame`` as is (the communicator's send_to refuses an empty text)."""
    if "bytes_data" in frame:
        await ws.send_input({"type": "websocket.receive", "bytes": frame["bytes_data"]})
    else:
        await ws.send_input({"type": "websocket.receive", "text": frame["text_data"]})


async def answers_until_pong(ws: WebsocketCommunicator, ref: str) -> list[dict[str, Any]]:
    """Every frame up to the pong answering ``ref`` (that pong left out), skipping presence."""
    frames = []
    while True:
        output = await ws.receive_output(timeout=TIMEOUT)
        assert output["type"] == "websocket.send", f"socket closed: {output}"
        frame = json.loads(output["text"])
        if frame.get("type") == "presence":
            continue
        if frame.get("type") == "pong" and frame.get("ref") == ref:
            return frames
        frames.append(frame)


def assert_one_error(frames: list[dict[str, Any]], codes: frozenset[str] = FRAME_CODES) -> None:
    """Exactly one error frame, with a known code, a message and a ``ref`` key."""
    assert len(frames) == 1, frames
    error = frames[0]
    assert error["type"] == "error", error
    assert error["code"] in codes, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert "ref" in error, error


async def check_bad_frame(ws: WebsocketCommunicator, frame: Frame, marker: str) -> None:
    """Send one bad frame and a ping; the frame gets exactly one error, then the pong comes."""
    await send_raw(ws, frame)
    await ws.send_json_to({"type": "ping", "id": marker})
    assert_one_error(await answers_until_pong(ws, marker))


async def check_flood(ws: WebsocketCommunicator, frames: list[Frame], burst: int) -> None:
    """With the clock standing, the first ``burst`` frames are answered as usual and every one
    after them is refused with ``rate_limited`` and ``details.retry_after``: one answer each."""
    for frame in frames:
        await send_raw(ws, frame)
    answers = []
    while len(answers) < len(frames):
        answer = await ws.receive_json_from(timeout=TIMEOUT)
        if answer.get("type") != "presence":
            answers.append(answer)
    for answer in answers[:burst]:
        assert answer.get("code") != "rate_limited", answer
    for answer in answers[burst:]:
        assert answer["code"] == "rate_limited", answer
        assert answer["details"]["retry_after"] >= 1, answer
        assert "ref" in answer


async def check_flood_then_recovery(
    ws: WebsocketCommunicator, clock: Any, frames: list[Frame], burst: int
) -> None:
    """A flood on a rested socket passes exactly ``burst`` frames; an hour later it answers a
    ping and nothing else (the property every live socket shares)."""
    clock.advance(3_600)
    await check_flood(ws, frames, burst)
    clock.advance(3_600)
    await ws.send_json_to({"type": "ping", "id": "end"})
    assert await answers_until_pong(ws, "end") == []


def floods(bad: st.SearchStrategy[Frame], burst: int) -> st.SearchStrategy[list[Frame]]:
    """More frames than the burst: pings (some with ids) and ``bad`` frames, mixed."""
    pings = st.one_of(
        st.just({"text_data": '{"type": "ping"}'}),
        st.integers(min_value=0, max_value=10**6).map(lambda i: text({"type": "ping", "id": i})),
    )
    return st.lists(st.one_of(pings, bad), min_size=burst + 1, max_size=burst + 25)
