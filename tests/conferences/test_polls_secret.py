"""A secret poll keeps no link between a member and their choice: checked on every table of
every app, found by the database's own introspection, not by a list of our models.

Two checks. Indistinguishable: alice votes yes and bob no, or alice no and bob yes, in the same
order: the whole database afterwards is the same either way (so nothing in it can tell who chose
what). No path: after alice's secret vote, every row that changed and refers to alice refers to
no option, and no row anywhere refers to her ballot.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from consultations.conferences.polls import services
from consultations.conferences.polls.models import Ballot, Poll, PollOption
from deliberation.models import Member
from tests.conferences.polls_support import register, sent_turnouts  # noqa: F401

pytestmark = pytest.mark.django_db


def every_table() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def dump() -> dict[str, dict[Any, tuple]]:
    """Every row of every table, keyed by its primary key (or the whole row if it has none)."""
    state: dict[str, dict[Any, tuple]] = {}
    with connection.cursor() as cursor:
        for table in every_table():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # the names come from introspection
            columns = [c[0] for c in cursor.description]
            rows: dict[Any, tuple] = {}
            for row in cursor.fetchall():
                key = row[columns.index("id")] if "id" in columns else row
                rows[key] = tuple(zip(columns, (str(v) for v in row), strict=True))
            state[table] = rows
    return state


def normalised(base: dict, after: dict) -> dict:
    """``after`` with the ids of rows added since ``base`` replaced by their order of insertion
    (PostgreSQL's sequences do not roll back with a savepoint; SQLite's do)."""
    result = {}
    for table, rows in after.items():
        added = sorted((k for k in rows if k not in base.get(table, {})), key=str)
        rename = {key: f"new-{index}" for index, key in enumerate(added)}
        result[table] = {
            rename.get(key, key): tuple(
                (col, rename[key] if col == "id" and key in rename else value) for col, value in row
            )
            for key, row in rows.items()
        }
    return result


def foreign_keys(table: str) -> dict[str, str]:
    """column -> the table it refers to."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    refs = {}
    for info in constraints.values():
        if info.get("foreign_key") and info["columns"]:
            refs[info["columns"][0]] = info["foreign_key"][0]
    return refs


@pytest.fixture
def secret_poll(conference, agenda, chair, alice, bob):
    register(conference, alice)
    register(conference, bob)
    poll = services.poll_open(
        actor=chair, conference=conference, item=agenda[0], question="Geheim?", kind="yes_no"
    )
    poll.conference = conference
    return poll


def vote_both(poll: Poll, alice: Member, bob: Member, *, alice_says: str, bob_says: str) -> None:
    option = {o.code: o.pk for o in poll.options.all()}
    services.poll_vote(actor=alice, poll=poll, option_ids=[option[alice_says]])
    services.poll_vote(actor=bob, poll=poll, option_ids=[option[bob_says]])


def test_the_database_is_the_same_whoever_chose_what(secret_poll, alice, bob):
    base = dump()
    outcomes = swapped_dumps(secret_poll, alice, bob)
    assert outcomes[0] == outcomes[1]
    # ... and the votes did count (the dumps are not equal because nothing was written):
    assert outcomes[0] != normalised(base, base)


def swapped_dumps(poll, alice, bob) -> list[dict]:
    base = dump()
    outcomes = []
    for alice_says, bob_says in (("yes", "no"), ("no", "yes")):
        sid = transaction.savepoint()
        vote_both(poll, alice, bob, alice_says=alice_says, bob_says=bob_says)
        outcomes.append(normalised(base, dump()))
        transaction.savepoint_rollback(sid)
    return outcomes


def test_the_same_check_tells_a_named_polls_voters_apart(secret_poll, alice, bob):
    """The check has teeth: a named poll, which keeps choices, fails it."""
    Poll.objects.filter(pk=secret_poll.pk).update(secret=False)
    secret_poll.refresh_from_db()
    first, second = swapped_dumps(secret_poll, alice, bob)
    assert first != second


def test_no_row_leads_from_a_member_to_the_option_she_chose_in_a_secret_poll(
    secret_poll, alice, bob
):
    member_table = Member._meta.db_table
    option_table = PollOption._meta.db_table
    ballot_table = Ballot._meta.db_table
    chosen = secret_poll.options.get(code="no")
    base = dump()
    services.poll_vote(actor=alice, poll=secret_poll, option_ids=[chosen.pk])
    after = dump()

    changed = {
        table: [row for key, row in rows.items() if base.get(table, {}).get(key) != row]
        for table, rows in after.items()
    }
    changed = {table: rows for table, rows in changed.items() if rows}
    # The vote wrote exactly: alice's ballot, the option's counter, the poll's turnout.
    assert set(changed) == {ballot_table, option_table, Poll._meta.db_table}

    for table in every_table():
        refs = foreign_keys(table)
        to_member = [col for col, target in refs.items() if target == member_table]
        to_option = [col for col, target in refs.items() if target == option_table]
        to_ballot = [col for col, target in refs.items() if target == ballot_table]
        for row in after[table].values():
            values = dict(row)
            about_alice = any(values[col] == str(alice.pk) for col in to_member)
            about_choice = any(values[col] == str(chosen.pk) for col in to_option)
            assert not (about_alice and about_choice), (table, row)
            # No row hangs off a ballot (a secret poll's ballot has no choices).
            assert not to_ballot or not after[table], (table, row)
        for row in changed.get(table, []):
            values = dict(row)
            if any(values[col] == str(alice.pk) for col in to_member):
                # The one row about alice: who voted where, no time, no choice.
                assert table == ballot_table
                assert set(values) == {"id", "poll_id", "member_id"}
            if table == option_table:
                assert not to_member  # counters name nobody

    # Nor does any text anywhere (events, logs) carry her next to the option.
    for rows in changed.values():
        for row in rows:
            text = " ".join(value for _col, value in row)
            assert alice.display_name not in text and alice.email not in text


def test_a_ballot_has_no_time_and_no_choice():
    columns = {field.column for field in Ballot._meta.concrete_fields}
    assert columns == {"id", "poll_id", "member_id"}
