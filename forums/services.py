"""The only writers of forums, threads, posts, reactions and grants.

Every service takes keyword arguments, checks who-may (``forums.permissions``), then when-may
(forum state, thread lock, edit window, rate limit), validates the input, writes inside one
``transaction.atomic()``, appends the thread's event to its log (``_record_event``) and, last,
hands the event to ``deliberation.live.broadcast_on_commit``. A refusal raises
:class:`forums.errors.ServiceError` and changes nothing.

Locking: every write that touches a thread's posts, reactions or event log first locks the thread
row (``_lock_thread``). That one lock serialises the thread's sequence numbers, its counters and
the idempotency check on ``client_id``; it is held only for the few statements of one change.

Hooks for apps that depend on forums (forums never imports them):

* :func:`register_participation_guard` - ``guard(actor, forum)`` is called before every post,
  edit and reaction and may raise ``ServiceError("muted", ...)`` (the moderation app's mutes).
  Moderators are not exempt: a guard decides that itself.
* :func:`register_held_post_listener` - ``listener(post)`` is called inside the transaction that
  saved a post in state HELD (pre-moderation, or a guest's post). Held posts get no sequence
  number and no event; whoever releases a post records its ``post.created`` event then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from guardian.shortcuts import assign_perm, remove_perm

from deliberation import ratelimit
from deliberation.live import access_changed_on_commit, broadcast_on_commit, group_name
from deliberation.markup import render_markdown
from deliberation.models import Member
from deliberation.streams import record_event
from forums import events
from forums.errors import ServiceError
from forums.models import (
    Forum,
    Post,
    PostRevision,
    Reaction,
    Thread,
    ThreadEvent,
    ThreadVisit,
    validate_forum_slug,
)
from forums.permissions import (
    RIGHTS,
    can_moderate,
    can_participate,
    can_see_post,
    can_set_members_only,
    is_staff,
    sees_members_only,
)

ParticipationGuard = Callable[[Member, Forum], None]
HeldPostListener = Callable[[Post], None]

_participation_guards: list[ParticipationGuard] = []
_held_post_listeners: list[HeldPostListener] = []

TITLE_MAX_LENGTH = 200
CLIENT_ID_MAX_LENGTH = 64


def register_participation_guard(guard: ParticipationGuard) -> ParticipationGuard:
    """Add ``guard(actor, forum)``, run before every post, edit and reaction; usable as decorator.

    A guard refuses by raising :class:`ServiceError` (code ``"muted"``); it must not write.
    Register once, e.g. in the moderation app's ``AppConfig.ready()``.
    """
    if guard not in _participation_guards:
        _participation_guards.append(guard)
    return guard


def unregister_participation_guard(guard: ParticipationGuard) -> None:
    if guard in _participation_guards:
        _participation_guards.remove(guard)


def register_held_post_listener(listener: HeldPostListener) -> HeldPostListener:
    """Add ``listener(post)``, called inside the transaction that saved a post as HELD."""
    if listener not in _held_post_listeners:
        _held_post_listeners.append(listener)
    return listener


def unregister_held_post_listener(listener: HeldPostListener) -> None:
    if listener in _held_post_listeners:
        _held_post_listeners.remove(listener)


# --- checks -------------------------------------------------------------------------------------


def _require_actor(actor: Any) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise ServiceError("forbidden", _("Please sign in to take part."))


def _check_forum_open(forum: Forum) -> None:
    if forum.state != Forum.State.OPEN:
        raise ServiceError("closed", _("This forum is closed: it no longer takes contributions."))


def _check_participation(actor: Member, forum: Forum, thread: Thread | None = None) -> bool:
    """Who-may, then when-may, then the guards. Returns whether ``actor`` moderates ``forum``."""
    _require_actor(actor)
    if not can_participate(actor, forum):
        raise ServiceError("forbidden", _("You may not take part in this forum."))
    _check_forum_open(forum)
    if thread is not None and thread.members_only and not sees_members_only(actor):
        # The views and the socket never hand a guest such a thread; a caller that does is wrong.
        raise ServiceError("forbidden", _("This thread is for members of the party only."))
    moderator = can_moderate(actor, forum)
    if thread is not None and thread.locked and not moderator:
        raise ServiceError("locked", _("This thread is locked: no new contributions."))
    for guard in list(_participation_guards):
        guard(actor, forum)
    return moderator


def _clean_body(body: Any) -> str:
    if not isinstance(body, str):
        raise ServiceError("invalid", _("Please write some text."))
    # NUL cannot be stored by PostgreSQL; carriage returns are only noise.
    body = body.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ServiceError("invalid", _("Please write some text."))
    limit = settings.POST_MAX_LENGTH
    if len(body) > limit:
        raise ServiceError(
            "too_long",
            _("Your text has %(length)d characters; at most %(limit)d are allowed.")
            % {"length": len(body), "limit": limit},
            details={"length": len(body), "max": limit},
        )
    return body


def _clean_title(title: Any) -> str:
    title = " ".join(title.split()) if isinstance(title, str) else ""
    if not title:
        raise ServiceError("invalid", _("Please give the thread a title."))
    if len(title) > TITLE_MAX_LENGTH:
        raise ServiceError(
            "too_long",
            _("The title may have at most %(limit)d characters.") % {"limit": TITLE_MAX_LENGTH},
            details={"length": len(title), "max": TITLE_MAX_LENGTH},
        )
    return title


def _clean_client_id(client_id: Any) -> str:
    if client_id is None:
        return ""
    if not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX_LENGTH:
        raise ServiceError("invalid", _("The message could not be sent. Please reload the page."))
    return client_id.strip()


def _check_rate(actor: Member, action: str = "post") -> None:
    """At most POST_RATE_LIMIT new posts (POST_EDIT_RATE_LIMIT edits) per member per
    POST_RATE_WINDOW_SECONDS, counted by :mod:`deliberation.ratelimit` (which fails open).
    """
    limit = settings.POST_EDIT_RATE_LIMIT if action == "edit" else settings.POST_RATE_LIMIT
    wait = ratelimit.hit(
        f"forums.{action}", actor.pk, limit=limit, window=settings.POST_RATE_WINDOW_SECONDS
    )
    if wait is None:
        return
    if action == "edit":
        message = ngettext(
            "You are editing very quickly. Please wait %(seconds)d second.",
            "You are editing very quickly. Please wait %(seconds)d seconds.",
            wait,
        )
    else:
        message = ngettext(
            "You are posting very quickly. Please wait %(seconds)d second.",
            "You are posting very quickly. Please wait %(seconds)d seconds.",
            wait,
        )
    raise ServiceError("rate_limited", message % {"seconds": wait}, details={"retry_after": wait})


# --- the event log ------------------------------------------------------------------------------


def _lock_thread(thread: Thread) -> Thread:
    """The thread's row, locked until the transaction ends. Call inside ``transaction.atomic()``."""
    return Thread.objects.select_for_update(of=("self",)).select_related("forum").get(pk=thread.pk)


def _record_event(
    thread: Thread,
    event: dict[str, Any],
    *,
    post: Post | None = None,
    also: dict[str, Any] | None = None,
) -> dict:
    """Append ``event`` (from :mod:`forums.events`) to the thread's log with the next seq.

    Precondition: inside ``transaction.atomic()``, with ``thread`` fetched by :func:`_lock_thread`
    in this transaction (so ``thread.last_seq`` is current). ``also`` are further columns of the
    thread to set in the same UPDATE (expressions allowed). Returns the complete event,
    ``{"type", "seq", "thread", ...}``, ready for :func:`_broadcast`. The one outbox mechanism
    of every stream: :func:`deliberation.streams.record_event`.
    """
    return record_event(
        thread, event, outbox=ThreadEvent, stream_field="thread", also=also, post=post
    )


def _broadcast(thread: Thread, event: dict, *, moderator_event: dict | None = None) -> None:
    broadcast_on_commit(group_name("thread", thread.pk), event, moderator_event=moderator_event)


def _sync(target: Thread, source: Thread) -> None:
    """Copy the counters of the locked row onto the caller's instance."""
    for field in ("last_seq", "post_count", "last_activity_at", "locked", "pinned"):
        setattr(target, field, getattr(source, field))


# --- forums and grants --------------------------------------------------------------------------


def forum_create(
    *,
    actor: Member,
    title: str,
    slug: str,
    kind: str = Forum.Kind.TOPIC,
    visibility: str = Forum.Visibility.MEMBERS,
    description: str = "",
    premoderated: bool = False,
    show_presence_names: bool = False,
) -> Forum:
    """Open a new forum (staff only)."""
    if not is_staff(actor):
        raise ServiceError("forbidden", _("Only staff may open forums."))
    title = _clean_title(title)
    try:
        validate_forum_slug(slug)
    except ValidationError as exc:
        raise ServiceError("invalid", " ".join(exc.messages)) from None
    if Forum.objects.filter(slug=slug).exists():
        raise ServiceError("invalid", _("A forum with this short name exists already."))
    return Forum.objects.create(
        title=title,
        slug=slug,
        kind=kind,
        visibility=visibility,
        description=description,
        description_html=render_markdown(description),
        premoderated=premoderated,
        show_presence_names=show_presence_names,
    )


def forum_set_state(*, actor: Member, forum: Forum, state: str) -> Forum:
    """Open, close or archive a forum (staff or the forum's moderators)."""
    if not can_moderate(actor, forum):
        raise ServiceError("forbidden", _("Only moderators may close or reopen a forum."))
    if state not in Forum.State.values:
        raise ServiceError("invalid", _("Unknown forum state."))
    forum.state = state
    forum.save(update_fields=["state"])
    return forum


def _check_grant(actor: Member, forum: Forum, right: str) -> str:
    _require_actor(actor)
    if right not in RIGHTS:
        raise ServiceError("invalid", _("Unknown right."))
    if right == "moderate":
        if not is_staff(actor):
            raise ServiceError("forbidden", _("Only staff may appoint moderators."))
    elif not can_moderate(actor, forum):
        raise ServiceError("forbidden", _("Only moderators may invite people to this forum."))
    return RIGHTS[right]


def forum_grant(*, actor: Member, forum: Forum, member: Member, right: str) -> None:
    """Give ``member`` the ``right`` ("view", "participate", "moderate") in ``forum``.

    Staff and the forum's moderators may grant view and participate; only staff may grant
    moderate. A stronger right implies the weaker ones (see ``forums.permissions``).
    """
    perm = _check_grant(actor, forum, right)
    assign_perm(perm, member, forum)


def forum_revoke(*, actor: Member, forum: Forum, member: Member, right: str) -> None:
    """Take the explicit ``right`` away again (same rules as :func:`forum_grant`).

    The member's open sockets re-authorise once this commits (``access.changed``), so a lost right
    ends live delivery at once, not on the client's next frame.
    """
    perm = _check_grant(actor, forum, right)
    remove_perm(perm, member, forum)
    access_changed_on_commit(member.pk)


def forum_set_hold_guest_posts(*, forum: Forum, on: bool) -> Forum:
    """Whether guests' posts wait for a moderator in ``forum`` (the caller checked the actor's
    right: an advisory forum's organisers decide it for theirs)."""
    forum.hold_guest_posts = bool(on)
    forum.save(update_fields=["hold_guest_posts"])
    return forum


def guest_participation_grant(*, forum: Forum, member: Member) -> None:
    """Let ``member`` take part in ``forum`` because an invitation the caller has checked says
    so (``consultations.advisory.invitations``): no actor, the invitation is the authority."""
    assign_perm(RIGHTS["participate"], member, forum)


def guest_participation_end(*, forum: Forum, member: Member) -> None:
    """Take every right ``member`` held directly in ``forum`` away (an organiser ended a guest's
    access, checked by the caller). Their open sockets re-authorise once this commits and close."""
    for perm in RIGHTS.values():
        remove_perm(perm, member, forum)
    access_changed_on_commit(member.pk)


# --- threads and posts --------------------------------------------------------------------------


def _is_held(actor: Member, forum: Forum, moderator: bool) -> bool:
    return not moderator and (forum.premoderated or (actor.is_guest and forum.hold_guest_posts))


def _insert_post(
    *,
    thread: Thread,
    actor: Member,
    body: str,
    body_html: str,
    client_id: str,
    reply_to: Post | None,
    held: bool,
) -> tuple[Post, dict | None]:
    """Save a new post in the locked ``thread``; returns it and its event (None when held).

    ``body_html`` is ``render_markdown(body)``, rendered by the caller before it took the lock.
    """
    now = timezone.now()
    post = Post(
        thread=thread,
        author=actor,
        body=body,
        body_html=body_html,
        reply_to=reply_to,
        client_id=client_id,
        state=Post.State.HELD if held else Post.State.PUBLISHED,
        created_at=now,
        seq=0 if held else thread.last_seq + 1,
        language=actor.language,
    )
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:
        # The author's client_id is unique; the thread lock rules out a race in this thread,
        # so the id was used for a post elsewhere.
        raise ServiceError(
            "conflict", _("The message could not be sent. Please reload the page.")
        ) from None
    if held:
        for listener in list(_held_post_listeners):
            listener(post)
        return post, None
    event = _record_event(
        thread,
        events.post_created(post),
        post=post,
        also={"post_count": F("post_count") + 1, "last_activity_at": now},
    )
    thread.post_count += 1
    thread.last_activity_at = now
    return post, event


def _existing_post(actor: Member, client_id: str) -> Post | None:
    """The post ``actor`` already sent with ``client_id`` (a retry), or None.

    Asked on every post and almost always answered "none": the first query selects only the
    key (a third of the cost of loading a post with its thread), the second runs on a retry.
    """
    if not client_id:
        return None
    pk = Post.objects.filter(author=actor, client_id=client_id).values_list("pk", flat=True)
    found = pk.first()
    if found is None:
        return None
    return Post.objects.select_related("thread").get(pk=found)


def _check_retry(existing: Post, thread: Thread, body: str) -> None:
    """A retry must repeat its create: the same thread and the text first sent, else
    ``conflict`` (a client reused a ``client_id``; nothing is written)."""
    if existing.thread_id != thread.pk:
        raise ServiceError(
            "conflict",
            _(
                "This message has the same client_id as a post in another thread. "
                "Please reload the page and send it again."
            ),
        )
    if existing.deleted_at is not None:
        return  # its text was erased with it: nothing to compare, the retry gets it back
    first = None
    if existing.edited_at is not None:
        first = existing.revisions.values_list("body", flat=True).first()
    if body != (existing.body if first is None else first):
        raise ServiceError(
            "conflict",
            _(
                "This message has the same client_id as an earlier post with other text. "
                "Please reload the page and send it again."
            ),
        )


def thread_create(
    *,
    actor: Member,
    forum: Forum,
    title: str,
    body: str,
    client_id: str = "",
    members_only: bool = False,
) -> Thread:
    """Open a thread in ``forum`` with ``body`` as its first post.

    The first post is held (and the thread has no visible post yet) when the forum is
    pre-moderated or the actor is a guest. A retry with the same ``client_id`` returns the
    thread created the first time. ``members_only`` hides the thread from guests; only who
    may set it (``can_set_members_only``: the forum's moderators who are members, staff) may.
    """
    moderator = _check_participation(actor, forum)
    if members_only and not can_set_members_only(actor, forum):
        raise ServiceError(
            "forbidden", _("Only the forum's moderators may open a thread for members only.")
        )
    title = _clean_title(title)
    body = _clean_body(body)
    client_id = _clean_client_id(client_id)
    existing = _existing_post(actor, client_id)
    if existing is not None:
        if existing.thread.forum_id != forum.pk:
            raise ServiceError(
                "invalid", _("The message could not be sent. Please reload the page.")
            )
        return existing.thread
    if not moderator:
        _check_rate(actor)
    body_html = render_markdown(body)  # before the lock: no row waits on a render
    with transaction.atomic():
        now = timezone.now()
        Thread.objects.create(
            forum=forum,
            title=title,
            opened_by=actor,
            created_at=now,
            last_activity_at=now,
            members_only=bool(members_only),
        )
        thread = _lock_thread(Thread.objects.filter(forum=forum, opened_by=actor).latest("pk"))
        _first_post, event = _insert_post(
            thread=thread,
            actor=actor,
            body=body,
            body_html=body_html,
            client_id=client_id,
            reply_to=None,
            held=_is_held(actor, forum, moderator),
        )
        if event is not None:
            _broadcast(thread, event)
    return thread


def _reply_target(actor: Member, thread: Thread, reply_to_id: Any) -> Post | None:
    if reply_to_id in (None, ""):
        return None
    try:
        pk = int(reply_to_id)
    except (TypeError, ValueError):
        pk = 0
    parent = (
        Post.objects.select_related("thread__forum", "author").filter(pk=pk, thread=thread).first()
    )
    if parent is None or parent.deleted_at is not None or not can_see_post(actor, parent):
        raise ServiceError("invalid", _("The post you are replying to is not in this thread."))
    return parent


def post_create(
    *, actor: Member, thread: Thread, body: str, client_id: str = "", reply_to_id: Any = None
) -> tuple[Post, bool]:
    """Add a post to ``thread``; returns ``(post, created)``.

    Idempotent on ``(actor, client_id)``: a retry returns the existing post and ``False``,
    writes nothing and broadcasts nothing. Held posts (pre-moderated forum, or a guest) get no
    event; see :func:`register_held_post_listener`.
    """
    forum = thread.forum
    moderator = _check_participation(actor, forum, thread)
    body = _clean_body(body)
    client_id = _clean_client_id(client_id)
    # Rendered before the lock, so no other writer of the thread waits on it (a retry renders
    # for nothing: cheap, and rarer than holding the lock through every render).
    body_html = render_markdown(body)
    with transaction.atomic():
        locked = _lock_thread(thread)
        # Looked up under the thread's lock, so a concurrent retry cannot slip past; before
        # anything else is checked, so a retry gets its post back even if the post it answered
        # was deleted meanwhile, and is never counted against the rate limit.
        existing = _existing_post(actor, client_id)
        if existing is not None:
            _check_retry(existing, thread, body)
            return existing, False
        if locked.locked and not moderator:
            raise ServiceError("locked", _("This thread is locked: no new contributions."))
        reply_to = _reply_target(actor, thread, reply_to_id)
        if not moderator:
            _check_rate(actor)
        post, event = _insert_post(
            thread=locked,
            actor=actor,
            body=body,
            body_html=body_html,
            client_id=client_id,
            reply_to=reply_to,
            held=_is_held(actor, forum, moderator),
        )
        if event is not None:
            _broadcast(locked, event)
    _sync(thread, locked)
    return post, True


def _check_author(actor: Member, post: Post, message: str) -> None:
    _require_actor(actor)
    if post.author_id != actor.pk:
        raise ServiceError("forbidden", message)


def post_edit(*, actor: Member, post: Post, body: str) -> Post:
    """Change the text of one's own post within POST_EDIT_WINDOW_SECONDS of posting.

    The previous text is kept as a PostRevision. Only the author edits; moderators hide instead.
    At most POST_EDIT_RATE_LIMIT edits per member per window (moderators exempt), as for posts.
    """
    _check_author(actor, post, _("You can only edit your own posts."))
    thread = post.thread
    moderator = _check_participation(actor, thread.forum, thread)
    if post.deleted_at is not None:
        raise ServiceError("invalid", _("This post has been deleted."))
    if post.state not in (Post.State.PUBLISHED, Post.State.HELD):
        raise ServiceError(
            "forbidden", _("This post was removed by moderation and cannot be edited.")
        )
    window = settings.POST_EDIT_WINDOW_SECONDS
    if timezone.now() - post.created_at > timedelta(seconds=window):
        raise ServiceError(
            "forbidden",
            ngettext(
                "Posts can only be edited within %(minutes)d minute of posting.",
                "Posts can only be edited within %(minutes)d minutes of posting.",
                window // 60,
            )
            % {"minutes": window // 60},
        )
    body = _clean_body(body)
    if not moderator:
        _check_rate(actor, "edit")
    body_html = render_markdown(body)  # before the lock, as for a new post
    with transaction.atomic():
        locked = _lock_thread(thread)
        current = Post.objects.select_related("author", "reply_to__author").get(pk=post.pk)
        if current.deleted_at is not None:
            raise ServiceError("invalid", _("This post has been deleted."))
        if current.body == body:
            return current
        PostRevision.objects.create(post=current, body=current.body, body_html=current.body_html)
        current.body = body
        current.body_html = body_html
        current.edited_at = timezone.now()
        current.save(update_fields=["body", "body_html", "edited_at"])
        if current.state == Post.State.PUBLISHED:
            _broadcast(locked, _record_event(locked, events.post_edited(current), post=current))
    _sync(thread, locked)
    return current


def post_delete(*, actor: Member, post: Post) -> Post:
    """Delete one's own post: its text and earlier revisions are erased, a tombstone stays.

    Deliberately allowed in closed forums, locked threads and while muted: withdrawing one's own
    political statement is the author's right. Moderators hide posts (moderation app) instead.
    Deleting twice changes nothing.
    """
    _check_author(actor, post, _("You can only delete your own posts."))
    thread = post.thread
    with transaction.atomic():
        locked = _lock_thread(thread)
        current = Post.objects.select_related("author", "reply_to__author").get(pk=post.pk)
        if current.deleted_at is not None:
            return current
        was_published = current.state == Post.State.PUBLISHED
        current.deleted_at = timezone.now()
        current.body = ""
        current.body_html = ""
        current.save(update_fields=["deleted_at", "body", "body_html"])
        current.revisions.all().delete()
        if was_published:
            locked.post_count = max(0, locked.post_count - 1)
            Thread.objects.filter(pk=locked.pk, post_count__gt=0).update(
                post_count=F("post_count") - 1
            )
            _broadcast(locked, _record_event(locked, events.post_deleted(current), post=current))
    _sync(thread, locked)
    return current


def reaction_toggle(*, actor: Member, post: Post) -> tuple[bool, int]:
    """Agree with a post, or take the agreement back; returns ``(agrees now, count)``.

    One agreement per member and post; agreeing with one's own post is refused ("invalid"), as
    are agreements with deleted or not-published posts.
    """
    thread = post.thread
    _check_participation(actor, thread.forum, thread)
    if post.author_id == actor.pk:
        raise ServiceError("invalid", _("You cannot agree with your own post."))
    if post.deleted_at is not None or post.state != Post.State.PUBLISHED:
        raise ServiceError("invalid", _("You cannot agree with this post."))
    with transaction.atomic():
        locked = _lock_thread(thread)
        removed, _count = Reaction.objects.filter(post=post, member=actor).delete()
        if removed:
            Post.objects.filter(pk=post.pk, reaction_count__gt=0).update(
                reaction_count=F("reaction_count") - 1
            )
        else:
            Reaction.objects.create(post=post, member=actor)
            Post.objects.filter(pk=post.pk).update(reaction_count=F("reaction_count") + 1)
        current = Post.objects.get(pk=post.pk)
        post.reaction_count = current.reaction_count
        _broadcast(locked, _record_event(locked, events.reaction_changed(post), post=post))
    _sync(thread, locked)
    return not removed, post.reaction_count


def _check_moderator(actor: Member, thread: Thread) -> None:
    _require_actor(actor)
    if not can_moderate(actor, thread.forum):
        raise ServiceError("forbidden", _("Only moderators may do this."))


def thread_set_locked(*, actor: Member, thread: Thread, locked: bool) -> Thread:
    """Lock or unlock a thread (moderators). Locked threads take posts only from moderators."""
    _check_moderator(actor, thread)
    with transaction.atomic():
        row = _lock_thread(thread)
        if row.locked != locked:
            row.locked = locked
            Thread.objects.filter(pk=row.pk).update(locked=locked)
            _broadcast(row, _record_event(row, events.thread_locked(row)))
    _sync(thread, row)
    return thread


def thread_set_pinned(*, actor: Member, thread: Thread, pinned: bool) -> Thread:
    """Pin a thread to the top of its forum, or unpin it (moderators)."""
    _check_moderator(actor, thread)
    with transaction.atomic():
        row = _lock_thread(thread)
        if row.pinned != pinned:
            row.pinned = pinned
            Thread.objects.filter(pk=row.pk).update(pinned=pinned)
            _broadcast(row, _record_event(row, events.thread_pinned(row)))
    _sync(thread, row)
    return thread


def thread_mark_read(*, member: Member, thread: Thread, seq: int) -> None:
    """Remember that ``member`` has seen ``thread`` up to ``seq`` (never moves backwards).

    Precondition: ``member`` may view the thread (fetch it with ``access_thread``).
    """
    if member is None or not member.is_authenticated:
        return
    try:
        seq = max(0, min(int(seq), thread.last_seq))
    except (TypeError, ValueError):
        raise ServiceError("invalid", _("Invalid position.")) from None
    now = timezone.now()
    updated = ThreadVisit.objects.filter(
        thread=thread, member=member, last_seen_seq__lt=seq
    ).update(last_seen_seq=seq, updated_at=now)
    if not updated:
        # No row, or one that is already further: insert, and let an existing row win (a row
        # created by another tab at the same moment is as good as ours). Two statements at most,
        # no savepoint: this runs on every first visit of a thread page.
        ThreadVisit.objects.bulk_create(
            [ThreadVisit(thread=thread, member=member, last_seen_seq=seq, updated_at=now)],
            ignore_conflicts=True,
        )
