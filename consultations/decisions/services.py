"""The writers of the decisions calendar: decisions, their results, and following topics.

Every service takes keyword arguments, checks who-may (``permissions``), validates what it is
given (a form is never the only guard), writes inside ``transaction.atomic()`` and tells the
followers in the same transaction (``deliberation.notifications``). A refusal raises
:class:`forums.errors.ServiceError` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from datetime import time as Time
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from consultations.decisions import notices
from consultations.decisions.models import DISCUSSION_TARGETS, Decision, Topic, TopicFollow
from consultations.decisions.permissions import can_edit, can_follow
from consultations.inputs import clean_link, clean_text
from deliberation import notifications
from deliberation.markup import render_markdown
from deliberation.models import Member
from forums.errors import ServiceError
from forums.permissions import can_view_forum, is_staff

MAX_TITLE = 200
MAX_EXPLANATION = 300
MAX_TEXT = 20_000
#: The days a decision may have: anything else is a typing error.
FIRST_DAY = Date(2000, 1, 1)
LAST_DAY = Date(2100, 12, 31)


def _require_editor(actor: Member) -> None:
    if not can_edit(actor):
        raise ServiceError("forbidden", _("Only staff and organisers may change the calendar."))


def _day(value: Any) -> Date:
    if not isinstance(value, Date) or not FIRST_DAY <= value <= LAST_DAY:
        raise ServiceError("invalid", _("Please give a date between 2000 and 2100."))
    return value


def _discussion(
    actor: Member, target: Model | None, *, current: Decision | None = None
) -> tuple[ContentType | None, int | None]:
    """The relation's two columns for ``target``. A new link must point where ``actor`` can see;
    the link ``current`` already has is kept as it is (an organiser may edit a decision that
    staff linked to a forum she cannot see)."""
    if target is None:
        return None, None
    key = (target._meta.app_label, target._meta.model_name)
    if key not in DISCUSSION_TARGETS or target.pk is None:
        raise ServiceError("invalid", _("A decision can link only to a thread or a conference."))
    content_type = ContentType.objects.get_for_model(target)
    if (
        current is not None
        and current.discussion_type_id == content_type.pk
        and current.discussion_id == target.pk
    ):
        return content_type, target.pk
    forum = getattr(target, "forum", None)
    if forum is None or not can_view_forum(actor, forum):
        raise ServiceError("invalid", _("You cannot link to a discussion you cannot see."))
    return content_type, target.pk


def _fields(
    *,
    actor: Member,
    title: str,
    explanation: str,
    body: str,
    date: Any,
    time: Time | None,
    institution: str,
    source_url: str,
    topics: Iterable[Topic],
    discussion: Model | None,
    current: Decision | None = None,
) -> tuple[dict[str, Any], list[Topic]]:
    topics = list(topics)
    if not topics or any(not isinstance(t, Topic) or t.pk is None for t in topics):
        raise ServiceError("invalid", _("Please choose at least one topic."))
    if institution not in Decision.Institution.values:
        raise ServiceError("invalid", _("Please choose who decides."))
    if time is not None and not isinstance(time, Time):
        raise ServiceError("invalid", _("Please give the time as hours and minutes."))
    body = clean_text(body, label=_("Text"), limit=MAX_TEXT, required=False)
    discussion_type, discussion_id = _discussion(actor, discussion, current=current)
    fields = {
        "title": clean_text(title, label=_("Title"), limit=MAX_TITLE, required=True),
        "explanation": clean_text(
            explanation, label=_("Short explanation"), limit=MAX_EXPLANATION, required=True
        ),
        "body": body,
        "body_html": render_markdown(body),
        "date": _day(date),
        "time": time,
        "institution": institution,
        "source_url": clean_link(source_url, label=_("Source")),
        "discussion_type": discussion_type,
        "discussion_id": discussion_id,
    }
    return fields, topics


def _followers(decision: Decision, *, exclude: Member) -> Any:
    """Active party members following any of the decision's topics, each once."""
    return (
        Member.objects.filter(
            topic_follows__topic__decisions=decision, is_active=True, kind=Member.Kind.MEMBER
        )
        .exclude(pk=exclude.pk)
        .distinct()
    )


def decision_create(
    *,
    actor: Member,
    title: str,
    explanation: str,
    date: Date,
    institution: str,
    topics: Iterable[Topic],
    body: str = "",
    time: Time | None = None,
    source_url: str = "",
    discussion: Model | None = None,
) -> Decision:
    """Add an upcoming decision (staff and organisers); every follower of one of its topics
    (the actor aside) is told once."""
    _require_editor(actor)
    fields, topic_list = _fields(
        actor=actor,
        title=title,
        explanation=explanation,
        body=body,
        date=date,
        time=time,
        institution=institution,
        source_url=source_url,
        topics=topics,
        discussion=discussion,
    )
    with transaction.atomic():
        decision = Decision.objects.create(created_by=actor, **fields)
        decision.topics.set(topic_list)
        notifications.notify_many(
            members=_followers(decision, exclude=actor),
            verb=notices.DECISION_NEW,
            params={"title": decision.title, "date": decision.date.isoformat()},
            url=decision.get_absolute_url(),
        )
    return decision


def decision_update(
    *,
    actor: Member,
    decision: Decision,
    title: str,
    explanation: str,
    date: Date,
    institution: str,
    topics: Iterable[Topic],
    body: str = "",
    time: Time | None = None,
    source_url: str = "",
    discussion: Model | None = None,
) -> Decision:
    """Change a decision's details (staff and organisers). Nobody is notified of a change."""
    _require_editor(actor)
    fields, topic_list = _fields(
        actor=actor,
        title=title,
        explanation=explanation,
        body=body,
        date=date,
        time=time,
        institution=institution,
        source_url=source_url,
        topics=topics,
        discussion=discussion,
        current=decision,
    )
    with transaction.atomic():
        for name, value in fields.items():
            setattr(decision, name, value)
        decision.updated_at = timezone.now()
        decision.save(update_fields=[*fields, "updated_at"])
        decision.topics.set(topic_list)
    return decision


def decision_decide(
    *, actor: Member, decision: Decision, result: str, result_url: str = ""
) -> Decision:
    """Enter what was decided (staff and organisers). The first time, the decision becomes
    decided and every follower of one of its topics (the actor aside) is told once; entering it
    again corrects the result without telling anyone again."""
    _require_editor(actor)
    result = clean_text(result, label=_("Result"), limit=MAX_TEXT, required=True)
    result_url = clean_link(result_url, label=_("Link to the result"))
    with transaction.atomic():
        locked = Decision.objects.select_for_update(of=("self",)).get(pk=decision.pk)
        first_time = locked.status != Decision.Status.DECIDED
        locked.result = result
        locked.result_html = render_markdown(result)
        locked.result_url = result_url
        locked.status = Decision.Status.DECIDED
        now = timezone.now()
        if first_time:
            locked.decided_at = now
        locked.updated_at = now
        locked.save(
            update_fields=[
                "result",
                "result_html",
                "result_url",
                "status",
                "decided_at",
                "updated_at",
            ]
        )
        if first_time:
            notifications.notify_many(
                members=_followers(locked, exclude=actor),
                verb=notices.DECISION_DECIDED,
                params={"title": locked.title},
                url=locked.get_absolute_url(),
            )
    for name in ("result", "result_html", "result_url", "status", "decided_at", "updated_at"):
        setattr(decision, name, getattr(locked, name))
    return decision


def topic_follow(*, actor: Member, topic: Topic, follow: bool) -> bool:
    """Follow (``follow``) or stop following ``topic``; returns whether ``actor`` follows it now.
    Idempotent: following twice is following."""
    if not can_follow(actor):
        raise ServiceError("forbidden", _("Only members can follow a topic."))
    if follow:
        try:
            with transaction.atomic():
                TopicFollow.objects.get_or_create(topic=topic, member=actor)
        except IntegrityError:  # the same member's second click, at the same moment
            pass
        return True
    TopicFollow.objects.filter(topic=topic, member=actor).delete()
    return False


def topic_ensure(*, name: str, slug: str) -> Topic:
    """The topic ``slug``, created with ``name`` if missing (the demo, the admin)."""
    topic, _created = Topic.objects.get_or_create(slug=slug, defaults={"name": name})
    return topic


def organiser_grant(*, actor: Member, member: Member, on: bool = True) -> None:
    """Give ``member`` the organiser's right on the calendar (or take it, ``on`` False): staff
    only, never to a guest. The right is Django's ``decisions.change_decision``."""
    from django.contrib.auth.models import Permission

    if not is_staff(actor):
        raise ServiceError("forbidden", _("Only staff may appoint organisers of the calendar."))
    if on and member.is_guest:
        raise ServiceError("invalid", _("Guests cannot organise the decisions calendar."))
    permission = Permission.objects.get(
        content_type__app_label="decisions", codename="change_decision"
    )
    if on:
        member.user_permissions.add(permission)
    else:
        member.user_permissions.remove(permission)
    # Django caches a member's rights on the object: the next check must read them again.
    for cache in ("_perm_cache", "_user_perm_cache", "_decisions_can_edit"):
        member.__dict__.pop(cache, None)
