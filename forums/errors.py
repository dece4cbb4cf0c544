"""The one error a forum service raises when it refuses a change.

Views turn it into a form error or a message, consumers into an ``error`` frame: ``code`` is
stable (the live protocol's error codes), ``message`` is already translated into the language
active when it was raised (the member's), ``details`` carries machine-readable extras such as
``{"retry_after": 12}`` for ``rate_limited``.
"""

from __future__ import annotations

from typing import Any, Literal

ErrorCode = Literal[
    "forbidden",
    "invalid",
    "too_long",
    "rate_limited",
    "locked",
    "muted",
    "not_found",
    "closed",
    # Added for the moderation app: a case claimed by another moderator, or already handled.
    "conflict",
]
CODES: frozenset[str] = frozenset(
    {
        "forbidden",
        "invalid",
        "too_long",
        "rate_limited",
        "locked",
        "muted",
        "not_found",
        "closed",
        "conflict",
    }
)


class ServiceError(Exception):
    """A refused change: nothing was written and nothing was broadcast."""

    def __init__(self, code: ErrorCode, message: str, *, details: dict[str, Any] | None = None):
        if code not in CODES:
            raise ValueError(f"unknown service error code {code!r}")
        super().__init__(message)
        self.code: str = code
        self.message: str = str(message)
        self.details: dict[str, Any] = details or {}

    def as_frame(self) -> dict[str, Any]:
        """The live protocol's ``error`` frame for this refusal."""
        frame: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.details:
            frame["details"] = self.details
        return frame

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r})"
