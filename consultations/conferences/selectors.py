"""What the conference pages read: lists, the running schedule, registration totals, and the
dashboard's entries. Writers live in ``services``; who may see what in ``permissions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet

from consultations.conferences.models import AgendaItem, Conference, Registration
from deliberation import clock, dashboard
from forums.permissions import visible_forums

#: Age groups of the childcare totals: (label key, lowest age, highest age).
AGE_GROUPS: list[tuple[str, int, int]] = [
    ("under_3", 0, 2),
    ("3_5", 3, 5),
    ("6_11", 6, 11),
    ("12_plus", 12, 17),
]


def visible_conferences(*, user: Any) -> QuerySet[Conference]:
    """Every conference whose forum ``user`` may view (one query)."""
    return Conference.objects.filter(forum__in=visible_forums(user)).select_related("forum")


@dataclass
class ConferenceLists:
    running: list[Conference]
    upcoming: list[Conference]
    past: list[Conference]


def conference_lists(*, user: Any) -> ConferenceLists:
    """The conference index: live ones, the coming ones (soonest first), the past (newest first)."""
    conferences = list(visible_conferences(user=user).order_by("starts_at"))
    return ConferenceLists(
        running=[c for c in conferences if c.phase == Conference.Phase.LIVE],
        upcoming=[c for c in conferences if c.phase == Conference.Phase.PREPARATION],
        past=[
            c
            for c in reversed(conferences)
            if c.phase in (Conference.Phase.FOLLOW_UP, Conference.Phase.ARCHIVED)
        ],
    )


def agenda(conference: Conference) -> list[AgendaItem]:
    """The agenda in order, each item with its thread and linked commitments (three queries)."""
    return list(
        conference.agenda.select_related("thread")
        .prefetch_related("commitments")
        .order_by("position")
    )


@dataclass
class ScheduleRow:
    item: AgendaItem
    planned_start: datetime
    planned_end: datetime
    state: str  # "done", "current" or "upcoming"


@dataclass
class Schedule:
    rows: list[ScheduleRow]
    #: Whole minutes behind the plan (0: on time); None before the day or without a plan.
    delay_minutes: int | None


def schedule(
    conference: Conference, items: list[AgendaItem], *, now: datetime | None = None
) -> Schedule:
    """The running schedule: each item's planned start (the day's start plus the planned
    durations before it) beside its actual start and end, and how far the day is behind.

    Behind is measured where the day is: the current item is expected to end at its planned
    length after its actual start, or now if it overran; compared with its planned end. Between
    items, the last finished item's end against its planned end; before the first item, now
    against the day's start. Only while the conference is live: before, there is nothing to be
    behind; after, the day is over.
    """
    now = now or clock.now()
    rows: list[ScheduleRow] = []
    start = conference.starts_at
    for item in items:
        end = start + timedelta(minutes=item.planned_minutes)
        if item.pk == conference.current_item_id:
            state = "current"
        elif item.ended_at is not None:
            state = "done"
        else:
            state = "upcoming"
        rows.append(ScheduleRow(item=item, planned_start=start, planned_end=end, state=state))
        start = end
    if conference.phase != Conference.Phase.LIVE or not rows:
        return Schedule(rows=rows, delay_minutes=None)
    late: timedelta | None = None
    current = next((r for r in rows if r.state == "current"), None)
    if current is not None and current.item.started_at is not None:
        planned_length = current.planned_end - current.planned_start
        expected_end = max(current.item.started_at + planned_length, now)
        late = expected_end - current.planned_end
    else:
        finished = [r for r in rows if r.item.ended_at is not None]
        if finished:
            last = max(finished, key=lambda r: r.item.ended_at)  # type: ignore[arg-type, return-value]
            late = max(last.item.ended_at, now) - last.planned_end  # type: ignore[type-var]
        elif now > conference.starts_at:
            late = now - conference.starts_at
    if late is None:
        return Schedule(rows=rows, delay_minutes=None)
    return Schedule(rows=rows, delay_minutes=max(0, int(late.total_seconds() // 60)))


@dataclass
class RegistrationTotals:
    total: int
    hall: int
    remote: int
    childcare: int  # registrations asking for childcare
    children: dict[str, int]  # children by age group (AGE_GROUPS)
    accessibility: int  # registrations with accessibility needs


def registration_totals(conference: Conference) -> RegistrationTotals:
    """The organisers' totals, in two queries whatever the number of registrations."""
    counts = Registration.objects.filter(conference=conference).aggregate(
        total=Count("pk"),
        hall=Count("pk", filter=Q(attendance=Registration.Attendance.HALL)),
        remote=Count("pk", filter=Q(attendance=Registration.Attendance.REMOTE)),
        childcare=Count("pk", filter=Q(childcare=True)),
        accessibility=Count("pk", filter=~Q(accessibility_needs="")),
    )
    children = {key: 0 for key, _low, _high in AGE_GROUPS}
    ages_lists = Registration.objects.filter(conference=conference, childcare=True).values_list(
        "children_ages", flat=True
    )
    for ages in ages_lists:
        for age in ages or []:
            for key, low, high in AGE_GROUPS:
                if isinstance(age, int) and low <= age <= high:
                    children[key] += 1
    return RegistrationTotals(children=children, **counts)


def registration_list(conference: Conference) -> QuerySet[Registration]:
    """Every registration with its member: for organisers only (it carries the needs)."""
    return (
        Registration.objects.filter(conference=conference)
        .select_related("member")
        .order_by("attendance", "member__display_name")
    )


def registration_of(user: Any, conference: Conference) -> Registration | None:
    if not user.is_authenticated:
        return None
    return Registration.objects.filter(conference=conference, member=user).first()


# --- the dashboard's slots ------------------------------------------------------------------------


def dashboard_live_now(*, user: Any, now: datetime) -> list[dashboard.LiveEntry]:
    """Conferences on their live day, with how many take part remotely (one query)."""
    conferences = (
        visible_conferences(user=user)
        .filter(phase=Conference.Phase.LIVE)
        .annotate(
            remote=Count(
                "registrations",
                filter=Q(registrations__attendance=Registration.Attendance.REMOTE),
            )
        )
        .order_by("starts_at")[: dashboard.SLOT_LIMIT]
    )
    return [
        dashboard.LiveEntry(
            title=c.title, url=c.get_absolute_url(), followers=c.remote, context=c.venue_name
        )
        for c in conferences
    ]


def dashboard_upcoming(*, user: Any, now: datetime) -> list[dashboard.UpcomingEntry]:
    """The next conferences in preparation (one query)."""
    conferences = (
        visible_conferences(user=user)
        .filter(phase=Conference.Phase.PREPARATION, starts_at__gt=now)
        .order_by("starts_at")[: dashboard.SLOT_LIMIT]
    )
    return [
        dashboard.UpcomingEntry(
            title=c.title, url=c.get_absolute_url(), starts_at=c.starts_at, context=c.venue_name
        )
        for c in conferences
    ]
