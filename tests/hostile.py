"""Hostile form input for the property-based tests of every form and POST endpoint (hypothesis).

Every form test drives one endpoint through Django's test client as the persona who may use it,
with field values an attacker would send: random text and Unicode (NUL, lone surrogates, right-to-
left marks, digits that are not ASCII), strings far over every limit, lists where one value is
expected (repeated keys), missing fields, numbers out of range and ids of other people's objects.

The properties (:func:`check_outcome`):

* never a server error: the test client re-raises what would have been a 500;
* an answer the member can read: a 4xx, or an error message (form error or message) in the
  member's language, or a success message;
* a refusal changes nothing in the database (:func:`snapshot` before and after);
* a change comes with a success message and no error;
* a redirect stays on the site, whatever ``next`` said.

Budget: a fixed seed (``derandomize``), no example database, ``FORM_EXAMPLES`` examples per
endpoint (``HYPOTHESIS_FORM_EXAMPLES`` raises it for a deeper run on a developer's machine).
Each example runs inside a transaction that is rolled back, so examples do not see each other's
writes; the personas and objects of the test (built once per test) stay.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.utils.translation import trans_real
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

FORM_EXAMPLES = int(os.environ.get("HYPOTHESIS_FORM_EXAMPLES", "15"))

#: The settings every form property runs with (a decorator: ``@FORM_SETTINGS``).
FORM_SETTINGS = settings(
    max_examples=FORM_EXAMPLES,
    derandomize=True,
    database=None,
    # No "explain" phase: it re-runs a failing example dozens of times to comment on it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    deadline=None,
    # The personas are built once per test (a function-scoped fixture) on purpose: each example
    # rolls its own writes back (``rolled_back``), so they start from the same state.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# --- values -------------------------------------------------------------------------------------

#: Values that broke, or could break, forms elsewhere: control characters, bidi overrides, lone
#: surrogates (sent as the bytes a careless encoder makes), digits Python's ``isdigit`` and
#: ``int`` accept but ASCII does not, numbers out of every column's range, markup and paths.
SPECIAL_VALUES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\u202e\u2066evil\u2069",
    "\u200b",
    "\ufeff",
    "\ud800",
    "x\udfffy",
    "👍🏽",
    "²",
    "١٢٣",
    "𝟙𝟚",
    "0",
    "-1",
    "1.5",
    "1e9",
    "NaN",
    "inf",
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    "9" * 30,
    "9" * 5000,
    "null",
    "true",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "0001-01-01 00:00",
    "9999-12-31 23:59",
    "31.12.9999 23:59",
    "2026-02-30T25:61",
    "a@b",
    "x@" + "a" * 300 + ".de",
]

#: Limits the forms and services know; each is tried just over the limit and far over it.
HUGE_LENGTHS = [65, 201, 1001, 10_001, 100_001]

any_character = st.characters(codec=None, categories=None)

hostile_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(SPECIAL_VALUES),
    st.text(any_character, max_size=40),
    st.builds(
        lambda piece, n: (piece * n)[:n],
        # "[" and "![" are quadratic for Python-Markdown (issue #9); cmark-gfm is linear on them.
        st.sampled_from(["a", "ä", "😀", "\x00", " ", "\u202e", "ab\ud800", "[", "!["]),
        st.sampled_from(HUGE_LENGTHS),
    ),
)

#: Marks a field as left out of the request entirely.
MISSING = object()


def field_value(*valid: Any, extra: Iterable[Any] = ()) -> st.SearchStrategy[Any]:
    """A field's value: missing, hostile text, several values (a repeated key), or a valid one."""
    choices: list[st.SearchStrategy[Any]] = [
        st.just(MISSING),
        hostile_text,
        st.lists(hostile_text, min_size=2, max_size=3),
        # Over Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000): the request is refused (400).
        st.just(["1"] * 1001),
    ]
    good = [*valid, *extra]
    if good:
        choices.append(st.sampled_from(good))
        choices.append(st.lists(st.sampled_from(good), min_size=2, max_size=2))
    return st.one_of(*choices)


def form_data(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of field -> value (``MISSING`` fields dropped), plus now and then a stray field."""
    stray = st.dictionaries(st.sampled_from(["id", "pk", "author", "state", "actor"]), hostile_text)
    return st.builds(
        lambda values, extra: {
            **extra,
            **{name: value for name, value in values.items() if value is not MISSING},
        },
        st.fixed_dictionaries(fields),
        st.one_of(st.just({}), stray),
    )


def _bytes(value: Any) -> bytes:
    # Lone surrogates go out as the bytes a careless encoder makes; Django decodes them as U+FFFD.
    return str(value).encode("utf-8", "surrogatepass")


def urlencode_raw(data: dict[str, Any]) -> bytes:
    """``application/x-www-form-urlencoded`` of ``data``; a list value repeats its key."""
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{quote(_bytes(key))}={quote(_bytes(item))}")
    return "&".join(pairs).encode("ascii")


def post_form(client: Client, url: str, data: dict[str, Any]) -> HttpResponse:
    """POST ``data`` as a browser's form would, but with whatever bytes the values make."""
    return client.post(
        url, data=urlencode_raw(data), content_type="application/x-www-form-urlencoded"
    )


#: Path ids: the right one is given by each test; these are nobody's or out of range.
foreign_ids = st.sampled_from([0, 999_999, 2**31, 2**63 - 1, 2**63, 10**30])

# --- the database -------------------------------------------------------------------------------

#: Apps whose rows a refused form must leave alone.
SNAPSHOT_APPS = (
    "auth",
    "deliberation",
    "forums",
    "moderation",
    "guardian",
    "decisions",
    "advisory",
)
#: Rows that change by looking at a page, not by submitting a form: the thread page a refused
#: reply re-renders marks the thread read up to what it shows.
NOT_CONTENT = {"forums.ThreadVisit"}


def snapshot(*, ignore: Iterable[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model of :data:`SNAPSHOT_APPS` (test databases are small)."""
    skip = NOT_CONTENT | set(ignore)
    state = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in SNAPSHOT_APPS and model._meta.label not in skip:
            state[model._meta.label] = list(model.objects.order_by("pk").values_list())
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one example inside a transaction that is always rolled back."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- what the member is told --------------------------------------------------------------------


@functools.cache
def _untranslated() -> frozenset[str]:
    """English source strings that have a different German translation."""
    catalog = trans_real.translation("de")._catalog
    return frozenset(
        key
        for key, value in catalog.items()
        if isinstance(key, str) and value != key and len(key) > 3
    )


@dataclass
class Outcome:
    status: int
    location: str = ""
    errors: list[str] = field(default_factory=list)
    successes: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500 or bool(self.errors)


def _form_errors(response: HttpResponse) -> list[str]:
    errors: list[str] = []
    for context in response.context or []:
        for key, value in context.flatten().items() if hasattr(context, "flatten") else []:
            if key.endswith("form") and hasattr(value, "errors") and value.is_bound:
                for messages in value.errors.values():
                    errors.extend(str(message) for message in messages)
    return errors


def outcome_of(response: HttpResponse, before: dict, *, ignore: Iterable[str] = ()) -> Outcome:
    request = response.wsgi_request
    queued = list(getattr(getattr(request, "_messages", None), "_queued_messages", []))
    result = Outcome(
        status=response.status_code,
        location=response.get("Location", ""),
        errors=[str(m) for m in queued if m.level >= message_levels.WARNING],
        successes=[
            str(m) for m in queued if m.level in (message_levels.SUCCESS, message_levels.INFO)
        ],
        changed=changed_tables(before, snapshot(ignore=ignore)),
    )
    result.errors.extend(_form_errors(response))
    if (
        response.get("Content-Type", "").startswith("application/json")
        and response.status_code >= 400
    ):
        error = response.json().get("error")
        if error:
            result.errors.append(str(error))
    return result


def check_outcome(outcome: Outcome, *, may_succeed_silently: bool = False) -> None:
    """The properties every form answer has (see the module docstring)."""
    assert outcome.status < 500, outcome
    target = urlsplit(outcome.location)
    assert not target.netloc and not target.scheme, f"redirected off the site: {outcome}"
    if outcome.refused:
        assert not outcome.changed, f"refused, yet changed {outcome.changed}: {outcome}"
    if outcome.changed:
        assert not outcome.errors, f"changed {outcome.changed} and said {outcome.errors}"
        assert outcome.successes or may_succeed_silently, f"changed silently: {outcome}"
    if not may_succeed_silently:
        assert outcome.refused or outcome.successes, f"no answer the member can read: {outcome}"
    untranslated = _untranslated()
    english = [message for message in outcome.errors if message in untranslated]
    assert not english, f"errors not in German: {english}"


def submit(
    client: Client,
    url: str,
    data: dict[str, Any],
    *,
    ignore: Iterable[str] = (),
    may_succeed_silently: bool = False,
) -> Outcome:
    """POST hostile ``data`` to ``url`` and check the properties; returns what happened."""
    before = snapshot(ignore=ignore)
    response = post_form(client, url, data)
    outcome = outcome_of(response, before, ignore=ignore)
    check_outcome(outcome, may_succeed_silently=may_succeed_silently)
    return outcome


def client_of(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client
