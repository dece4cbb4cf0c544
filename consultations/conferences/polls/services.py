"""The writers of polls: open, vote, hall count, close.

Who may: the chair (``permissions.can_chair``) opens, closes and counts the hall; members
registered for the conference (``permissions.is_registered``; guests never) vote, once each.
When may: polls are opened on a conference that is not archived; votes and the close only while
the poll is open. A refusal raises :class:`forums.errors.ServiceError` and changes nothing.

A vote takes the poll's row lock (so a close cannot slip between the check and the count),
inserts a :class:`Ballot` (unique per poll and member: the database refuses a second one) and
raises the chosen options' counters with ``F()``. Only a named poll also stores the choices.
Votes are not events of the conference stream; the turnout leaves as a coalesced unsequenced
frame after commit (:mod:`.turnout`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from consultations.conferences import live
from consultations.conferences.models import AgendaItem, Conference, Registration
from consultations.conferences.permissions import can_chair, is_registered
from consultations.conferences.polls import events, selectors, turnout
from consultations.conferences.polls.models import Ballot, NamedChoice, Poll, PollOption
from deliberation import clock
from deliberation.forms import MAX_ROW_ID
from deliberation.models import Member
from forums.errors import ServiceError

MAX_OPTIONS = 20
MAX_QUESTION = 300
MAX_OPTION = 200


def _require_chair(actor: Member, conference: Conference) -> None:
    if not can_chair(actor, conference):
        raise ServiceError("forbidden", _("Only the conference's chairs may do this."))


def _clean_options(kind: str, options: Sequence[str]) -> list[tuple[str, str]]:
    """(code, label) per option, in order."""
    if kind == Poll.Kind.YES_NO:
        return [(code, "") for code in PollOption.Code.values]
    labels = [" ".join(str(label).split()) for label in options]
    labels = [label for label in labels if label]
    if len(labels) < 2:
        raise ServiceError("invalid", _("Please give at least two options."))
    if len(labels) > MAX_OPTIONS:
        raise ServiceError(
            "invalid", _("Please give at most %(count)d options.") % {"count": MAX_OPTIONS}
        )
    if any(len(label) > MAX_OPTION for label in labels):
        raise ServiceError(
            "too_long",
            _("An option may be at most %(count)d characters long.") % {"count": MAX_OPTION},
        )
    if len({label.casefold() for label in labels}) != len(labels):
        raise ServiceError("invalid", _("Each option may appear only once."))
    return [("", label) for label in labels]


def poll_open(
    *,
    actor: Member,
    conference: Conference,
    item: AgendaItem,
    question: str,
    kind: str,
    options: Sequence[str] = (),
    max_choices: int = 1,
    secret: bool = True,
    live_results: bool = False,
) -> Poll:
    """The chair opens a poll on ``item``; everyone's page shows it at once (``poll.opened``).

    For yes/no/abstain the options are fixed; single and multiple choice need 2 to 20 options;
    multiple choice lets a voter tick 1 to ``max_choices`` of them. One open poll per item.
    """
    _require_chair(actor, conference)
    if item.conference_id != conference.pk:
        raise ServiceError("invalid", _("This item belongs to another conference."))
    if conference.phase == Conference.Phase.ARCHIVED:
        raise ServiceError("closed", _("This conference is archived."))
    if kind not in Poll.Kind.values:
        raise ServiceError("invalid", _("Please choose the kind of poll."))
    question = " ".join(str(question).split())
    if not question:
        raise ServiceError("invalid", _("Please enter the question."))
    if len(question) > MAX_QUESTION:
        raise ServiceError(
            "too_long",
            _("The question may be at most %(count)d characters long.") % {"count": MAX_QUESTION},
        )
    cleaned = _clean_options(kind, options)
    if kind == Poll.Kind.MULTIPLE:
        if not 1 <= max_choices <= len(cleaned):
            raise ServiceError(
                "invalid",
                _("Voters may tick between 1 and %(count)d options.") % {"count": len(cleaned)},
            )
    else:
        max_choices = 1
    with transaction.atomic():
        locked = live.lock(conference)
        if Poll.objects.filter(item=item, status=Poll.Status.OPEN).exists():
            raise ServiceError("conflict", _("A poll on this item is still open."))
        poll = Poll.objects.create(
            conference=locked,
            item=item,
            question=question,
            kind=kind,
            max_choices=max_choices,
            secret=secret,
            live_results=live_results,
            opened_by=actor,
            opened_at=clock.now(),
        )
        PollOption.objects.bulk_create(
            PollOption(poll=poll, position=index, code=code, label=label)
            for index, (code, label) in enumerate(cleaned, start=1)
        )
        live.record_and_broadcast(locked, events.poll_opened(selectors.snapshot(poll)))
    return poll


def _refuse_voter(actor: Member, conference: Conference) -> None:
    if is_registered(actor, conference):
        return
    if actor is None or not actor.is_authenticated:
        raise ServiceError("forbidden", _("Please log in to vote."))
    if getattr(actor, "is_guest", False):
        raise ServiceError("forbidden", _("Guests cannot vote in the conference's polls."))
    raise ServiceError("forbidden", _("Only members registered for this conference may vote."))


def poll_vote(*, actor: Member, poll: Poll, option_ids: Sequence[int]) -> int:
    """``actor`` votes for ``option_ids`` (one for yes/no and single choice; 1 to
    ``max_choices`` for multiple choice). Once per member: a second vote is refused
    (``conflict``) by the database's unique constraint, however the requests race.

    Returns the poll's number of online ballots with this one (read under the poll's lock).

    The vote is three statements in one transaction, in the lock order every writer of a poll
    keeps (the poll's row, then its options): the turnout raised on the poll's row only while
    it is open (:func:`_count_ballot`, which takes the row lock, so a close cannot slip in), the
    ballot inserted unless the member has one (:func:`_insert_ballot`), the chosen options'
    counters raised, and only where they are this poll's. Any refusal after the first rolls the
    transaction back, so nothing of a refused vote is kept.
    """
    conference = poll.conference
    _refuse_voter(actor, conference)
    chosen = list(dict.fromkeys(option_ids))
    if not chosen:
        raise ServiceError("invalid", _("Please choose an option."))
    if not all(0 < option <= MAX_ROW_ID for option in chosen):  # no such row, beyond the column
        raise ServiceError("invalid", _("Please choose one of the poll's options."))
    if len(chosen) > poll.max_choices:
        raise ServiceError(
            "invalid",
            _("You may choose at most %(count)d options.") % {"count": poll.max_choices},
        )
    with transaction.atomic():
        ballots = _count_ballot(poll.pk)
        if ballots is None:
            raise ServiceError("closed", _("This poll is closed."))
        ballot = _insert_ballot(poll.pk, actor.pk)
        if ballot is None:
            raise ServiceError("conflict", _("You have already voted in this poll."))
        counted = PollOption.objects.filter(poll_id=poll.pk, pk__in=sorted(chosen)).update(
            online_count=F("online_count") + 1
        )
        if counted != len(chosen):
            raise ServiceError("invalid", _("Please choose one of the poll's options."))
        if not poll.secret:
            NamedChoice.objects.bulk_create(
                NamedChoice(ballot_id=ballot, option_id=option) for option in chosen
            )
        turnout.notify_on_commit(conference.pk, poll.pk)
    return ballots


def _count_ballot(poll_pk: int) -> int | None:
    """Raise the open poll's turnout by one and return it (its row stays locked until commit);
    None if the poll is not open. One ``UPDATE … RETURNING`` (PostgreSQL; SQLite 3.35+)."""
    connection = connections[Poll.objects.db]
    quote = connection.ops.quote_name
    count = quote("ballots_count")
    sql = (
        f"UPDATE {quote(Poll._meta.db_table)} SET {count} = {count} + 1"  # noqa: S608
        f" WHERE {quote('id')} = %s AND {quote('status')} = %s RETURNING {count}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [poll_pk, Poll.Status.OPEN])
        row = cursor.fetchone()
    return None if row is None else row[0]


def _insert_ballot(poll_pk: int, member_pk: int) -> int | None:
    """Insert the member's ballot and return its id; None if they have one (the unique
    constraint answers, without the savepoint an ``IntegrityError`` would need)."""
    connection = connections[Ballot.objects.db]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Ballot._meta.db_table)}"  # noqa: S608
        f" ({quote('poll_id')}, {quote('member_id')}) VALUES (%s, %s)"
        f" ON CONFLICT ({quote('poll_id')}, {quote('member_id')}) DO NOTHING"
        f" RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [poll_pk, member_pk])
        row = cursor.fetchone()
    return None if row is None else row[0]


def _record_poll_event(
    conference: Conference, poll: Poll, build: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """Record and broadcast ``build(snapshot)``; for a closed named poll also its members'
    variant, which names who chose what (``events.with_voters``). Inside atomic, conference
    locked, ``poll`` as now written."""
    public = selectors.snapshot(poll)
    members_event = None
    if events.names_shown(poll):
        voters = selectors.voters_of([poll]).get(poll.pk, {})
        members_event = build(events.with_voters(public, voters))
    live.record_and_broadcast(conference, build(public), members_event=members_event)


def poll_close(*, actor: Member, poll: Poll) -> Poll:
    """The chair closes the poll; everyone receives the full results (``poll.closed``), kept
    with the item; for a named poll the party's members also who chose what. The number
    registered is frozen as the poll's electorate."""
    conference = poll.conference
    _require_chair(actor, conference)
    with transaction.atomic():
        locked_conference = live.lock(conference)
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        if locked.status != Poll.Status.OPEN:
            raise ServiceError("closed", _("This poll is closed."))
        locked.status = Poll.Status.CLOSED
        locked.closed_at = clock.now()
        locked.eligible_count = Registration.objects.filter(conference=conference).count()
        locked.save(update_fields=["status", "closed_at", "eligible_count"])
        _record_poll_event(locked_conference, locked, events.poll_closed)
    turnout.coalescer.forget(locked.pk)
    return locked


def poll_hall_count(*, actor: Member, poll: Poll, counts: dict[int, int]) -> Poll:
    """The chair enters (or corrects) the hall count: per option, how many voted in the hall
    without a device. Shown beside the online count and added to the total."""
    conference = poll.conference
    _require_chair(actor, conference)
    with transaction.atomic():
        locked_conference = live.lock(conference)
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        options = {option.pk: option for option in locked.options.all()}
        if set(counts) - set(options):
            raise ServiceError("invalid", _("Please choose one of the poll's options."))
        if any(not isinstance(n, int) or not 0 <= n <= 100_000 for n in counts.values()):
            raise ServiceError("invalid", _("Please give each count as a whole number from 0."))
        for pk, number in counts.items():
            options[pk].hall_count = number
        PollOption.objects.bulk_update(list(options.values()), ["hall_count"])
        locked.hall_counted = True
        locked.save(update_fields=["hall_counted"])
        _record_poll_event(locked_conference, locked, events.poll_hall_count)
    return locked
