"""Participation figures of an advisory forum for its organisers (issue #12 item 4).

What counts: a post is *published* as every reader sees it (state published, not deleted by its
author, as ``forums.selectors`` reads posts and ``Thread.post_count`` counts them). Participants
are the distinct authors of such posts; a post whose account was deleted (author NULL) counts as
a post but as nobody. Threads are those with at least one such post in the period. Guests are
members of kind ``guest``.

The privacy rule (:func:`figures_shown`) is the only place that decides what may be shown: no
figure ever describes fewer than :data:`MIN_GROUP` people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.advisory.models import AdvisoryForum
from deliberation.models import Member
from forums.models import Post

#: No figure is shown that describes fewer people than this.
MIN_GROUP = 5

#: The periods an organiser may choose: GET value -> (days back or None for all time, label).
PERIODS: dict[str, tuple[int | None, str]] = {
    "alle": (None, _("All time")),
    "30": (30, _("Last 30 days")),
    "90": (90, _("Last 90 days")),
}
ALL_TIME = "alle"


def period_of(value: object) -> str:
    """The period key for a GET value; anything unknown (missing, garbage) is all time."""
    return value if isinstance(value, str) and value in PERIODS else ALL_TIME


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """The first moment of ``period`` (a key of :data:`PERIODS`), or None for all time."""
    days = PERIODS[period][0]
    if days is None:
        return None
    return (now or timezone.now()) - timedelta(days=days)


@dataclass(frozen=True)
class Counts:
    """What the database counts, before the privacy rule. Never put this in a page."""

    participants: int
    posts: int
    threads: int
    guests: int
    guest_posts: int
    members: int
    member_posts: int


@dataclass(frozen=True)
class Figures:
    """What a page may show. ``None`` means "not shown" (the group is too small)."""

    participants: int | None = None
    posts: int | None = None
    threads: int | None = None
    guests: int | None = None
    guest_posts: int | None = None
    members: int | None = None
    member_posts: int | None = None

    @property
    def shown(self) -> bool:
        return self.participants is not None

    @property
    def groups_shown(self) -> bool:
        return self.guests is not None

    @property
    def guest_share(self) -> float | None:
        """Guests among participants, in per cent."""
        if self.guests is None or not self.participants:
            return None
        return 100 * self.guests / self.participants

    @property
    def member_share(self) -> float | None:
        if self.members is None or not self.participants:
            return None
        return 100 * self.members / self.participants

    @property
    def guest_post_share(self) -> float | None:
        """Posts by guests among all counted posts (deleted accounts' included), in per cent."""
        if self.guest_posts is None or not self.posts:
            return None
        return 100 * self.guest_posts / self.posts

    @property
    def member_post_share(self) -> float | None:
        if self.member_posts is None or not self.posts:
            return None
        return 100 * self.member_posts / self.posts


def figures_shown(counts: Counts) -> Figures:
    """The figures that may be shown: none describes fewer than :data:`MIN_GROUP` people.

    * Fewer than ``MIN_GROUP`` participants: nothing at all. Even the post and thread counts
      would describe those few people's activity.
    * Otherwise the totals (participants, posts, threads). The split into guests and members is
      shown only if *both* groups have at least ``MIN_GROUP`` people: with the total known, one
      group's size, share or post count gives away the other's (members = participants -
      guests), so a small group on either side hides both sides.

    Zero is treated as small like 1-4: hiding only 1-4 would mark exactly those cases.
    Posts by deleted accounts are in ``posts`` but in neither group; that difference names no
    person, since the accounts are gone.
    """
    if counts.participants < MIN_GROUP:
        return Figures()
    totals = {
        "participants": counts.participants,
        "posts": counts.posts,
        "threads": counts.threads,
    }
    if counts.guests < MIN_GROUP or counts.members < MIN_GROUP:
        return Figures(**totals)
    return Figures(
        **totals,
        guests=counts.guests,
        guest_posts=counts.guest_posts,
        members=counts.members,
        member_posts=counts.member_posts,
    )


def advisory_counts(*, advisory: AdvisoryForum, since: datetime | None = None) -> Counts:
    """The raw counts of ``advisory``'s forum since ``since`` (all time if None): one query,
    aggregated in the database."""
    posts = Post.objects.filter(
        thread__forum_id=advisory.forum_id,
        state=Post.State.PUBLISHED,
        deleted_at__isnull=True,
    )
    if since is not None:
        posts = posts.filter(created_at__gte=since)
    guest = Q(author__kind=Member.Kind.GUEST)
    member = Q(author__kind=Member.Kind.MEMBER)
    row = posts.aggregate(
        participants=Count("author", distinct=True),  # COUNT skips NULL: deleted accounts
        posts=Count("pk"),
        threads=Count("thread", distinct=True),
        guests=Count("author", distinct=True, filter=guest),
        guest_posts=Count("pk", filter=guest),
        members=Count("author", distinct=True, filter=member),
        member_posts=Count("pk", filter=member),
    )
    return Counts(**row)


def advisory_figures(*, advisory: AdvisoryForum, since: datetime | None = None) -> Figures:
    """The figures of ``advisory`` since ``since`` (all time if None) that may be shown.
    One query."""
    return figures_shown(advisory_counts(advisory=advisory, since=since))
