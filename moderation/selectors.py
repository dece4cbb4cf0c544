"""Reads of moderation that pages need: the queues, the public log, moderation notes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from deliberation.models import Member
from forums.models import Forum, ForumGroupObjectPermission, ForumUserObjectPermission, Post
from forums.permissions import MODERATE, can_moderate, checker_for, sees_members_only
from forums.selectors import escaped
from moderation import permissions
from moderation.models import SEVERITY, Appeal, Case, ModerationAction, PostNote, Reason

#: Urgency weights: a report's reason counts most, then how many reported it, then waiting time.
SEVERITY_WEIGHT = 10
REPORT_WEIGHT = 5
REPORT_CAP = 10
HELD_BASE = 25
APPEAL_BASE = 30
AGE_CAP_MINUTES = 600


def urgency(case: Case, now: datetime | None = None) -> int:
    """How urgent an open case is (higher first).

    Reports: severity of the most severe reason x 10 (threat 70 ... other 10), plus 5 per
    further report (at most 10), plus one per ten minutes waited (at most 60). Held posts start
    at 25 and appeals at 30 (people wait for them), plus the same waiting time.
    """
    now = now or timezone.now()
    minutes = max(0, int((now - case.opened_at).total_seconds() // 60))
    age = min(minutes, AGE_CAP_MINUTES) // 10
    if case.kind == Case.Kind.HELD:
        return HELD_BASE + age
    if case.kind == Case.Kind.APPEAL:
        return APPEAL_BASE + age
    severity = SEVERITY.get(case.top_reason, 1) * SEVERITY_WEIGHT
    return severity + REPORT_WEIGHT * min(max(0, case.report_count - 1), REPORT_CAP) + age


@dataclass
class QueueItem:
    case: Case
    post: Post
    urgency: int
    claimed_by: Any
    claimed_until: datetime | None

    @property
    def kind(self) -> str:
        return self.case.kind

    @property
    def thread(self) -> Any:
        return self.post.thread

    @property
    def forum(self) -> Forum:
        return self.case.forum


def _queue(cases: Any) -> list[QueueItem]:
    now = timezone.now()
    rows = cases.filter(status=Case.Status.OPEN).select_related(
        "forum", "post__thread", "post__author", "claimed_by"
    )
    items = []
    for case in rows:
        holder = case.claim_holder(now)
        items.append(
            QueueItem(
                case=case,
                post=case.post,
                urgency=urgency(case, now),
                claimed_by=holder,
                claimed_until=case.claimed_until if holder is not None else None,
            )
        )
    items.sort(key=lambda item: (-item.urgency, item.case.opened_at, item.case.pk))
    return items


def queue_for_forum(*, user: Any, forum: Forum) -> list[QueueItem]:
    """Open cases of ``forum`` (reports, held posts, appeals), most urgent first.

    Raises PermissionDenied unless ``user`` moderates the forum (or is staff).
    """
    if not permissions.can_view_queue(user, forum):
        raise PermissionDenied
    return _queue(_cases_seen_by(user, Case.objects.filter(forum=forum)))


def _cases_seen_by(user: Any, cases: Any) -> Any:
    """Without the cases of members-only threads for a guest moderator, who may not see them."""
    return cases if sees_members_only(user) else cases.exclude(post__thread__members_only=True)


def queue_for_staff(*, user: Any) -> list[QueueItem]:
    """Open cases of every forum, most urgent first (staff only, else PermissionDenied)."""
    if not permissions.can_view_queue(user, None):
        raise PermissionDenied
    return _queue(Case.objects.all())


def case_reports(*, user: Any, case: Case) -> list[Any]:
    """The reports of a case, oldest first (moderators of its forum only)."""
    if not can_moderate(user, case.forum):
        raise PermissionDenied
    return list(case.reports.select_related("reporter"))


@dataclass
class PublicLogEntry:
    action: str
    action_label: str
    reason: str
    reason_label: str
    created_at: datetime
    #: The moderator's display name, only where the forum shows moderators' names.
    moderator: str | None


def public_log(*, user: Any, forum: Forum, limit: int = 200) -> list[PublicLogEntry]:
    """The forum's moderation log as its readers see it: action, reason category, time, and the
    moderator's name only if ``forum.show_moderator_names``. No texts, no members' names.

    Raises PermissionDenied unless ``user`` may view the forum.
    """
    if not permissions.can_view_public_log(user, forum):
        raise PermissionDenied
    rows = ModerationAction.objects.filter(
        Q(forum_id=forum.pk) | Q(action=ModerationAction.Kind.THREAD_MOVED, details__to=forum.pk)
    ).select_related("actor")[:limit]
    entries = []
    for row in rows:
        name = None
        if forum.show_moderator_names:
            name = row.actor.display_name if row.actor is not None else ""
        entries.append(
            PublicLogEntry(
                action=row.action,
                action_label=str(row.get_action_display()),
                reason=row.reason,
                reason_label=str(row.get_reason_display()) if row.reason else "",
                created_at=row.created_at,
                moderator=name,
            )
        )
    return entries


def moderation_notes(*, user: Any, posts: Iterable[Post]) -> dict[int, dict[str, str]]:
    """For a page of posts: why each hidden or rejected one is, as ``user`` may know it.

    ``{post_id: {"reason", "reason_label", "text"}}``; ``text`` (the moderator's explanation)
    only for the post's author and the forum's moderators, else ``""``. One query.
    """
    posts = [p for p in posts if p.state in (Post.State.HIDDEN, Post.State.REJECTED)]
    if not posts:
        return {}
    notes = {n.post_id: n for n in PostNote.objects.filter(post__in=[p.pk for p in posts])}
    checker = checker_for(user)
    moderates: dict[int, bool] = {}
    result = {}
    for post in posts:
        note = notes.get(post.pk)
        if note is None:
            continue
        forum = post.thread.forum
        if forum.pk not in moderates:
            moderates[forum.pk] = can_moderate(user, forum, checker=checker)
        own = user is not None and user.is_authenticated and post.author_id == user.pk
        result[post.pk] = {
            "reason": note.reason,
            "reason_label": str(Reason(note.reason).label) if note.reason else "",
            "text": note.text if (own or moderates[forum.pk]) else "",
        }
    return result


def mute_in_force(*, member: Any, forum: Forum) -> Any:
    """The mute in force for ``member`` in ``forum`` (or None): to show its end on the page."""
    return permissions.active_mute(member, forum)


def queue_item(*, user: Any, kind: str, pk: int) -> QueueItem | None:
    """One open queue item, by its case (``kind="case"``) or its post (``kind="post"``);
    ``None`` when there is no open case or ``user`` does not moderate its forum."""
    cases = Case.objects.filter(status=Case.Status.OPEN)
    if kind == "case":
        cases = cases.filter(pk=pk)
    elif kind == "post":
        cases = cases.filter(post_id=pk)
    else:
        return None
    case = _cases_seen_by(user, cases).select_related("forum").first()
    if case is None or not can_moderate(user, case.forum):
        return None
    items = _queue(Case.objects.filter(pk=case.pk))
    return items[0] if items else None


def appeal_for_post(*, post: Post) -> Appeal | None:
    """The post's appeal (there is at most one), decided or not."""
    return Appeal.objects.filter(post=post).select_related("decided_by").first()


def hiding_of(*, post: Post) -> PostNote | None:
    """Why the post is hidden or rejected now (``reason``, ``text``, ``moderator``), or None.

    Show ``text`` to the author and moderators only; ``moderator`` to moderators, or to anyone
    where the forum shows moderators' names.
    """
    return PostNote.objects.filter(post=post).select_related("moderator").first()


def forum_moderators(*, forum: Forum) -> list[Member]:
    """Members holding the moderate right on ``forum`` directly (staff moderate everywhere)."""
    ids = ForumUserObjectPermission.objects.filter(
        content_object=forum, permission__codename=MODERATE
    ).values("user_id")
    return list(Member.objects.filter(pk__in=ids, is_active=True).order_by("display_name"))


@dataclass(frozen=True)
class QueueLink:
    """Where the navigation's "Moderation" link leads, and how many cases wait there."""

    url: str
    open_cases: int


def queue_link(*, user: Any) -> QueueLink | None:
    """The navigation's link to ``user``'s moderation queue, or None for a non-moderator: one query.

    Staff get the queue of every forum. A moderator of forums (directly or through a group)
    gets the queue of the one with the most open cases (the first by name when none has any),
    and the count of open cases over all of them.
    """
    if not (user is not None and user.is_authenticated and user.is_active):
        return None
    if permissions.is_staff(user):
        count = Case.objects.filter(status=Case.Status.OPEN).count()
        return QueueLink(url=reverse("moderation:staff_queue"), open_cases=count)
    direct = ForumUserObjectPermission.objects.filter(user=user, permission__codename=MODERATE)
    through_groups = ForumGroupObjectPermission.objects.filter(
        group__user=user, permission__codename=MODERATE
    )
    rows = list(
        Forum.objects.filter(
            Q(pk__in=direct.values("content_object_id"))
            | Q(pk__in=through_groups.values("content_object_id"))
        )
        .annotate(
            open_cases=Count(
                "moderation_cases", filter=Q(moderation_cases__status=Case.Status.OPEN)
            )
        )
        .order_by("-open_cases", "title", "pk")
        .values_list("slug", "open_cases")
    )
    if not rows:
        return None
    slug = rows[0][0]
    return QueueLink(
        url=reverse("moderation:queue", kwargs={"slug": slug}),
        open_cases=sum(count for _slug, count in rows),
    )


def present_post_links(posts: list[Post], url_maker: Any) -> None:
    """What ``moderation/_post_links.html`` shows on the thread page, once per page of posts.

    Registered with ``forums.selectors.register_post_presenter``: sets ``report_shown``,
    ``report_url``, ``report_label``, ``moderate_url`` and ``moderate_label`` (the template
    decides which show).
    Precondition: ``forums.selectors.annotate_post_presentation`` set ``author_name`` (escaped
    for the template, as the labels here are: ``forums.selectors.escaped``).
    """
    report_url = url_maker("moderation:report")
    moderate_url = url_maker("moderation:post")
    report_label = escaped(gettext("Report the post by %(name)s"))
    moderate_label = escaped(gettext("Moderate the post by %(name)s"))
    for post in posts:
        # Report: for signed-in members (the template asks), not on their own posts
        # (``viewer_is_author`` from forums.selectors.annotate_posts_for_viewer), only on
        # published posts.
        post.report_shown = (
            post.state == Post.State.PUBLISHED
            and not post.is_deleted
            and not getattr(post, "viewer_is_author", False)
        )
        post.report_url = report_url(post.pk)
        post.moderate_url = moderate_url(post.pk)
        post.report_label = SafeString(report_label % {"name": post.author_name})
        post.moderate_label = SafeString(moderate_label % {"name": post.author_name})
