"""What every live socket does with a client's frame before looking at it (docs/PROTOCOL.md).

Shared by the thread socket, the moderation queue and the probe, so that a frame the protocol
refuses is refused the same way everywhere: binary, over the size limit, not JSON, nested too
deep, not an object. Each refusal is a :class:`FrameError` with a protocol error code and a
message in the language active when it was raised; the consumer turns it into one ``error``
frame. :class:`TokenBucket` is the per-socket frame budget.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

#: JSON nested deeper than this is refused before it is decoded. A protocol frame is an object
#: with flat fields (depth 1); the margin is for clients that add their own small structures.
#: ``json.loads`` recurses once per level, so unbounded nesting would end in RecursionError.
MAX_DEPTH = 20

#: The longest ``id`` a frame may carry as text; a whole number must be exact in JavaScript.
REF_MAX = 64
REF_INT_MAX = 2**53 - 1

#: A JSON string literal (with escapes): brackets inside strings do not nest anything. The
#: closing quote is optional so that an unterminated string is consumed once, to the end: with
#: it required, every escaped quote after an open one would start a new scan (quadratic).
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class FrameError(Exception):
    """A frame refused before any service is called: ``code`` is a protocol error code."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        ref: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.details: dict[str, Any] = details or {}
        #: The refused frame's reference, where it was known when the error was raised.
        self.ref = ref


class TokenBucket:
    """A burst of ``burst`` frames, refilled at ``per_second``.

    ``clock`` returns seconds (monotonic); tests pass one they move by hand, so that what the
    bucket refuses never depends on how fast the machine handles the frames.
    """

    def __init__(
        self,
        burst: int,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = float(burst)
        self.per_second = per_second
        self.clock = clock
        self.tokens = float(burst)
        self.at = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.per_second)
        self.at = now

    def take(self) -> bool:
        self._refill()
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def retry_after(self) -> int:
        """Whole seconds until the next frame will be taken (at least 1)."""
        self._refill()
        return max(1, math.ceil((1.0 - self.tokens) / self.per_second))


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON ``text`` nests arrays/objects deeper than ``limit`` (before decoding).

    Linear, and done in C: ordinary frames have fewer brackets than ``limit`` and are not
    scanned at all; others have their strings removed, then the running depth is summed.
    An unbalanced text may be misjudged; ``json.loads`` refuses it anyway.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def decode_frame(text_data: str | None, bytes_data: bytes | None = None) -> dict[str, Any]:
    """The client's frame as a dict, or :class:`FrameError` (``invalid`` or ``too_long``).

    Messages are translated into the active language: call inside the member's
    ``translation.override``.
    """
    if text_data is None:
        raise FrameError("invalid", _("Messages must be JSON text, not binary."))
    limit = settings.WS_MAX_FRAME_BYTES
    # Characters first: a text of more than limit/4 characters may still fit in UTF-8.
    if len(text_data) > limit or (
        len(text_data) * 4 > limit and len(text_data.encode("utf-8", "surrogatepass")) > limit
    ):
        raise FrameError(
            "too_long",
            _("The message is too large (at most %(kib)d KiB).") % {"kib": limit // 1024},
        )
    if too_deep(text_data):
        raise FrameError(
            "invalid",
            _("The message is nested too deeply (at most %(depth)d levels).")
            % {"depth": MAX_DEPTH},
        )
    try:
        frame = json.loads(text_data)
    except (ValueError, RecursionError):
        raise FrameError("invalid", _("The message is not valid JSON.")) from None
    if not isinstance(frame, dict):
        raise FrameError("invalid", _("The message must be a JSON object."))
    return frame


def valid_ref(value: Any) -> bool:
    """Whether ``value`` can be echoed as ``ref``: text of 1 to REF_MAX characters, or a whole
    number a JavaScript client reads back exactly."""
    if isinstance(value, str):
        return 0 < len(value) <= REF_MAX
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= REF_INT_MAX


def frame_ref(frame: dict[str, Any]) -> str | int | None:
    """The client's reference to echo as ``ref``: its ``id``; for a create without a valid one,
    its ``client_id``; else None."""
    if valid_ref(frame.get("id")):
        return frame["id"]
    client_id = frame.get("client_id")
    if frame.get("type") == "post.create" and isinstance(client_id, str) and valid_ref(client_id):
        return client_id
    return None


def check_frame_id(frame: dict[str, Any]) -> None:
    """An ``id`` the answer cannot echo is refused, never silently dropped."""
    if "id" in frame and not valid_ref(frame["id"]):
        raise FrameError(
            "invalid",
            _("The field “id” must be text of 1 to %(max)d characters or a whole number.")
            % {"max": REF_MAX},
        )


def error_frame(
    code: str, message: str, ref: str | int | None, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ``error`` frame: ``ref`` is always present (null when the frame had no reference)."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": str(message), "ref": ref}
    if details:
        frame["details"] = details
    return frame


def take_frame(
    text_data: str | None, bytes_data: bytes | None, bucket: TokenBucket
) -> dict[str, Any]:
    """Decode one frame and charge it to the socket's budget; :class:`FrameError` (with
    ``ref``) if it is refused. Every frame takes a token, a refused one too, so that a flood
    of garbage is limited like a flood of pings.

    Call inside the member's ``translation.override``.
    """
    frame: dict[str, Any] | None = None
    refused: FrameError | None = None
    try:
        frame = decode_frame(text_data, bytes_data)
    except FrameError as exc:
        refused = exc
    ref = None if frame is None else frame_ref(frame)
    if not bucket.take():
        raise FrameError(
            "rate_limited",
            _("Too many messages at once. Please wait a moment."),
            details={"retry_after": bucket.retry_after()},
            ref=ref,
        )
    if refused is not None:
        raise refused
    assert frame is not None
    try:
        check_frame_id(frame)
    except FrameError as exc:
        exc.ref = ref
        raise
    return frame


def answer_ping(text_data: str | None, bytes_data: bytes | None, bucket: TokenBucket) -> dict:
    """The answer of a socket that takes only ``ping``: ``pong`` (with ``ref`` if the ping had
    an ``id``) or one ``error`` frame. Call inside the member's ``translation.override``."""
    try:
        frame = take_frame(text_data, bytes_data, bucket)
        if frame.get("type") != "ping":
            raise FrameError("invalid", _("Unknown message type."), ref=frame_ref(frame))
    except FrameError as exc:
        return error_frame(exc.code, exc.message, exc.ref, exc.details)
    pong: dict[str, Any] = {"type": "pong"}
    ref = frame_ref(frame)
    if ref is not None:
        pong["ref"] = ref
    return pong
