"""Reads of the forums that pages need.

Every read here starts from what the user may see (``permissions.visible_forums``), so a page
cannot show a thread or post of a forum the user has no access to by forgetting a filter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from deliberation.models import Member
from forums.events import EXCERPT_CHARS, plain_excerpt
from forums.models import Forum, Post, Reaction, Thread, ThreadVisit
from forums.timeformat import post_time_format

POSTS_PER_PAGE = 50
THREADS_PER_PAGE = 30
SEARCH_RESULTS_PER_PAGE = 20
#: Threads with unread posts and threads of recent activity the dashboard shows.
UNREAD_LIMIT = 5
ACTIVITY_LIMIT = 6
User = Member | AnonymousUser


def _visible_forums(user: User) -> QuerySet[Forum]:
    from forums.permissions import visible_forums

    return visible_forums(user)


def _visible_threads(user: User, prefix: str = "") -> Q:
    from forums.permissions import visible_threads_q

    return visible_threads_q(user, prefix)


def _last_seen_seq(user: User, thread_ref: str = "pk") -> Subquery:
    return Subquery(
        ThreadVisit.objects.filter(thread=OuterRef(thread_ref), member=user).values(
            "last_seen_seq"
        )[:1]
    )


# --- forums and threads ---------------------------------------------------------------------------


def forum_list(*, user: User) -> QuerySet[Forum]:
    """Forums the user may see, with ``thread_count`` and ``has_unread`` (a thread not read up),
    both of the threads the user may see (members-only ones not for guests and visitors)."""
    from forums.permissions import sees_members_only

    members = sees_members_only(user)
    counted = None if members else Q(threads__members_only=False)
    forums = _visible_forums(user).annotate(
        thread_count=Count("threads", distinct=True, filter=counted)
    )
    if not user.is_authenticated:
        return forums.annotate(has_unread=Value(False)).order_by("title")
    unread_threads = Thread.objects.filter(forum=OuterRef("pk"), last_seq__gt=0).filter(
        last_seq__gt=Coalesce(_last_seen_seq(user), Value(0))
    )
    if not members:
        unread_threads = unread_threads.filter(members_only=False)
    return forums.annotate(has_unread=Exists(unread_threads)).order_by("title")


def forum_threads(*, user: User, forum: Forum) -> QuerySet[Thread]:
    """The forum's threads, pinned first then by last activity, each with ``is_unread``.

    Precondition: the user may view ``forum`` (fetched through ``access_forum``).
    """
    from forums.permissions import sees_members_only

    threads = forum.threads.select_related("opened_by").order_by(
        "-pinned", "-last_activity_at", "-pk"
    )
    if not sees_members_only(user):
        threads = threads.filter(members_only=False)
    if not user.is_authenticated:
        return threads.annotate(is_unread=Value(False))
    return threads.annotate(
        is_unread=ExpressionWrapper(
            Q(last_seq__gt=Coalesce(_last_seen_seq(user), Value(0))),
            output_field=BooleanField(),
        )
    )


def _readable_posts() -> QuerySet[Post]:
    """Posts whose text every viewer of the thread may read: published, not deleted."""
    return Post.objects.filter(state=Post.State.PUBLISHED, deleted_at__isnull=True)


def threads_with_unread_posts(*, user: User, limit: int = UNREAD_LIMIT) -> list[Thread]:
    """Threads the member has read before and others have posted in since, newest activity first.

    Each thread carries ``unread_count`` (published posts by others after the member's read
    position, as the thread page records it in ``ThreadVisit``) and ``first_unread_id`` (where to
    go on reading). A thread the member never opened is not here but in :func:`forum_activity`:
    counting a whole thread as "unread" would only repeat the forum list. One query, whatever the
    number of forums and threads.
    """
    if not user.is_authenticated:
        return []
    new_posts = (
        _readable_posts()
        .filter(thread=OuterRef("pk"), seq__gt=OuterRef("seen_seq"))
        .exclude(author=user)
    )
    count = new_posts.order_by().values("thread").annotate(n=Count("pk")).values("n")[:1]
    return list(
        Thread.objects.filter(_visible_threads(user))
        .annotate(visit=FilteredRelation("visits", condition=Q(visits__member=user)))
        .filter(visit__last_seen_seq__lt=F("last_seq"))
        .annotate(seen_seq=F("visit__last_seen_seq"))
        .annotate(
            unread_count=Coalesce(Subquery(count), Value(0)),
            first_unread_id=Subquery(new_posts.order_by("seq").values("pk")[:1]),
        )
        .filter(unread_count__gt=0)
        .select_related("forum")
        .order_by("-last_activity_at", "-pk")[:limit]
    )


def forum_activity(
    *, user: User, limit: int = ACTIVITY_LIMIT, exclude: Iterable[int] = ()
) -> list[Thread]:
    """The threads last posted in, in forums the user may see, newest first; two queries.

    Each thread carries ``last_post`` (its newest readable post, author loaded), its
    ``last_post_excerpt`` (plain text) and ``is_unread`` (that post is by someone else and after
    the member's read position in ``ThreadVisit``; always False for visitors). Threads in
    ``exclude`` (already listed elsewhere on the page) and threads without a readable post are
    left out.
    """
    newest = _readable_posts().filter(thread=OuterRef("pk")).order_by("-seq")
    threads = (
        Thread.objects.filter(_visible_threads(user))
        .exclude(pk__in=list(exclude))
        .annotate(last_post_id=Subquery(newest.values("pk")[:1]))
        .filter(last_post_id__isnull=False)
        .select_related("forum")
        .order_by("-last_activity_at", "-pk")
    )
    if user.is_authenticated:
        threads = threads.annotate(seen_seq=Coalesce(_last_seen_seq(user), Value(0)))
    rows = list(threads[:limit])
    posts = Post.objects.select_related("author").in_bulk([t.last_post_id for t in rows])
    for thread in rows:
        post = thread.last_post = posts.get(thread.last_post_id)
        thread.last_post_excerpt = plain_excerpt(post) if post else ""
        # New to this member: the newest readable post is after their read position and not
        # their own. (The forum list's marker counts any event, an agreement or a held post
        # too; here the reader is promised a post they have not seen.)
        thread.is_unread = bool(
            post
            and user.is_authenticated
            and post.seq > thread.seen_seq
            and post.author_id != user.pk
        )
    return [thread for thread in rows if thread.last_post is not None]


# --- posts ----------------------------------------------------------------------------------------


def visible_posts(*, user: User, thread: Thread, is_moderator: bool) -> QuerySet[Post]:
    """The thread's posts the user may see, in reading order.

    Published and author-deleted posts are listed for everyone (a deleted post keeps its place as
    a placeholder), and so are hidden posts: others see "hidden by moderation" with the reason
    category in their place, never their text (see ``viewer_sees_text``). Held and rejected
    posts only for their author and the moderators.
    """
    posts = thread.posts.all()
    if not is_moderator:
        shown = Q(state__in=[Post.State.PUBLISHED, Post.State.HIDDEN])
        if user.is_authenticated:
            shown |= Q(author=user)
        posts = posts.filter(shown)
    return posts.order_by("created_at", "id")


def post_is_visible(*, user: User, post: Post, is_moderator: bool) -> bool:
    """Whether the post has its place on the user's page (its text: see ``post_text_visible``)."""
    return (
        is_moderator
        or post.state in (Post.State.PUBLISHED, Post.State.HIDDEN)
        or (user.is_authenticated and post.author_id == user.pk)
    )


def post_text_visible(*, user: User, post: Post, is_moderator: bool) -> bool:
    """Whether the user may read the post's text: published, or their own, or a moderator."""
    return (
        is_moderator
        or post.state == Post.State.PUBLISHED
        or (user.is_authenticated and post.author_id == user.pk)
    )


def post_page_number(*, user: User, post: Post, is_moderator: bool) -> int:
    """The page of the thread on which ``post`` appears (for redirects to ``#post-<id>``)."""
    before = (
        visible_posts(user=user, thread=post.thread, is_moderator=is_moderator)
        .filter(Q(created_at__lt=post.created_at) | Q(created_at=post.created_at, id__lt=post.id))
        .count()
    )
    return before // POSTS_PER_PAGE + 1


def excerpt(post: Post) -> str:
    """Plain text of a post, shortened (the template escapes it)."""
    return plain_excerpt(post)


def annotate_posts_for_viewer(
    posts: list[Post], *, user: User, is_moderator: bool, can_participate: bool
) -> list[Post]:
    """Set the per-viewer flags the post template reads, without further queries.

    Sets ``viewer_reacted`` (unless :func:`thread_posts` annotated it), ``viewer_can_edit``,
    ``viewer_can_delete``, ``viewer_can_react`` and, for replies, ``reply_excerpt``,
    ``reply_shown`` and ``reply_on_page``. Precondition: ``posts`` were fetched with
    ``select_related("author", "reply_to__author")``.
    """
    needs_reactions = user.is_authenticated and any(not hasattr(p, "viewer_reacted") for p in posts)
    reacted: set[int] = set()
    if needs_reactions:
        reacted = set(
            Reaction.objects.filter(member=user, post__in=[p.pk for p in posts]).values_list(
                "post_id", flat=True
            )
        )
    on_page = {p.pk for p in posts}
    edit_after = timezone.now() - timedelta(seconds=settings.POST_EDIT_WINDOW_SECONDS)
    # Asked once: request.user is a lazy object, each attribute a proxied lookup.
    viewer_pk = user.pk if user.is_authenticated else None
    for post in posts:
        own = viewer_pk is not None and post.author_id == viewer_pk
        post.viewer_is_author = own
        alive = not post.is_deleted
        if not hasattr(post, "viewer_reacted"):
            post.viewer_reacted = post.pk in reacted
        post.viewer_can_edit = own and alive and post.created_at >= edit_after
        post.viewer_can_delete = own and alive
        post.viewer_sees_text = post_text_visible(user=user, post=post, is_moderator=is_moderator)
        if not post.viewer_sees_text:
            # A hidden post keeps its place; its text must not reach this viewer's page at all.
            post.body = post.body_html = ""
        post.viewer_can_react = (
            can_participate and alive and post.state == Post.State.PUBLISHED and not own
        )
        parent = post.reply_to
        post.reply_on_page = post.reply_to_id in on_page
        post.reply_shown = False
        post.reply_excerpt = ""
        if parent is not None and post_is_visible(
            user=user, post=parent, is_moderator=is_moderator
        ):
            post.reply_shown = True
            post.reply_excerpt = "" if parent.is_deleted else excerpt(parent)
    return annotate_post_presentation(posts)


# --- what the post template shows, computed once per page -----------------------------------------


class PostForTemplate(dict):
    """A post as ``forums/_post.html`` reads it: its attributes (fields and what
    :func:`annotate_posts_for_viewer` set) as dictionary keys, anything else (``pk``,
    ``is_deleted``, ``author``, ``moderation_note``) from the post itself.

    Django's template engine tries ``obj[key]`` before ``getattr(obj, key)``; on a model instance
    that first try raises ``TypeError`` for each of a post's ~45 lookups, which made a lookup
    about 1.5 times as dear as a dictionary's. Read-only; the page's posts are rendered once.
    """

    __slots__ = ("post",)

    def __init__(self, post: Post) -> None:
        super().__init__(post.__dict__)
        self.post = post

    def __missing__(self, key: str) -> Any:
        return getattr(self.post, key)


def posts_for_template(posts: list[Post]) -> list[PostForTemplate]:
    """The posts of :func:`annotate_posts_for_viewer` as ``forums/_post.html`` reads them best."""
    return [PostForTemplate(post) for post in posts]


#: A post id no real post has: reversed once per page and replaced per post (see ``_url_maker``).
_PK_SLOT = 987654321


def escaped(text: str) -> SafeString:
    """``text`` as the template's autoescaping writes it (``django.utils.html.escape``), marked
    safe, so the template writes it as it is.

    The post template's values are escaped here, once per distinct text where texts repeat (names,
    labels, times), instead of by the template at each of about 20 outputs a post: an output that
    is already safe skips ``conditional_escape``'s escaping, about 2 microseconds each. The page's
    bytes do not change. For template values only: never pass the result on as plain text.
    """
    return SafeString(html.escape(text))


def _url_maker(name: str) -> Any:
    """``pk -> url`` for the URL pattern ``name``: ONE ``reverse`` per page, then string formatting.

    A ``{% url %}`` per post and link cost the thread page about a fifth of its time. The result is
    what ``reverse(name, args=[pk])`` gives (same script prefix, same language), escaped for the
    template (:func:`escaped`).
    """
    prefix, suffix = escaped(reverse(name, args=[_PK_SLOT])).split(str(_PK_SLOT))
    return lambda pk: SafeString(f"{prefix}{pk}{suffix}")


def post_labels() -> dict[str, str]:
    """The post template's fixed texts in the current language, looked up once per page.

    The msgids are the template's own (``{% translate %}`` and ``{% blocktranslate %}``), so the
    catalogue needs nothing new. The texts that depend on the post (state notes, the reply line's
    "Deleted account" and "deleted post") are set per post by :func:`annotate_post_presentation`.
    A text with nothing to escape is marked safe, so the template, which writes several of them
    per post, skips escaping it; its JSON (``#post-labels``, for the live client) is the same.
    """
    texts = {
        "agree": gettext("Agree"),
        "reply": gettext("Reply"),
        "edit": gettext("Edit"),
        "delete": gettext("Delete"),
        "edited": gettext("(edited)"),
        "in_reply_to": gettext("In reply to"),
        "reply_not_shown": gettext("In reply to a post that is not shown."),
        "deleted_note": gettext("This post was deleted by its author."),
        # The words of moderation/_post_links.html, included by the post template.
        "report": gettext("Report"),
        "moderate": gettext("Moderate"),
    }
    return {key: _safe_if_plain(text) for key, text in texts.items()}


def _safe_if_plain(text: str) -> str:
    """``text`` marked safe if escaping would not change it, else ``text`` itself (the template
    escapes it then): either way the template writes the same, and so does ``json_script``."""
    return SafeString(text) if html.escape(text) == text else text


PostPresenter = Callable[[list[Post], Callable[[str], Callable[[int], str]]], None]
_post_presenters: list[PostPresenter] = []


def register_post_presenter(presenter: PostPresenter) -> None:
    """Let an app that builds on forums add what its part of the post template shows.

    ``presenter(posts, url_maker)`` sets attributes on each post; ``url_maker(name)`` is
    ``_url_maker``. The moderation app registers the report and moderate links this way (forums
    does not import it). Registered once, in ``AppConfig.ready``.
    """
    if presenter not in _post_presenters:
        _post_presenters.append(presenter)


def _time_formatter() -> Callable[[datetime], tuple[SafeString, SafeString]]:
    """``created_at -> (ISO 8601 in UTC, the post's time)`` as ``|utc|date:'c'`` and
    ``|post_time`` (forums.timeformat) give them, escaped (:func:`escaped`); the latter once per
    minute shown (its format has no seconds, see ``forums.timeformat.SUPPORTED``)."""
    post_format = post_time_format()
    shown: dict[datetime, SafeString] = {}

    def times(value: datetime) -> tuple[SafeString, SafeString]:
        local = timezone.localtime(value)
        key = local.replace(second=0, microsecond=0)
        if key not in shown:
            shown[key] = escaped(date_format(local, post_format))
        # Digits, "-", ":", "+", "T" and ".": nothing to escape.
        return SafeString(value.astimezone(UTC).isoformat()), shown[key]

    return times


def annotate_post_presentation(posts: list[Post]) -> list[Post]:
    """Set the URLs and per-post texts the post template shows, without ``{% url %}``,
    ``{% blocktranslate %}`` or date filters per post: ``agree_url``, ``edit_url``,
    ``delete_url``, ``reply_to_url``, ``ref``, ``seq_text`` and ``reaction_count_text`` (the post's
    id, seq and agreement count as text), ``author_name`` (the display name or "Deleted account"),
    ``agree_label`` ("Agree with the post by {name}"), ``reply_label`` ("Reply to {name}"),
    ``agree_total_label`` ("{n} agreement(s)"),
    ``created_iso`` and ``created_display``; what ``{% if %}`` chains per post decided:
    ``author_badge``, ``state_note`` and ``state_note_shown``, ``shows_moderation_note``,
    ``body_lang`` and ``shown_body_html`` (empty where the viewer does not get the text),
    ``reply_link_hidden`` and, for the "In reply to" line, ``reply_to_href``,
    ``reply_to_author``, ``reply_to_lang`` and ``reply_to_quote``; then what registered presenters
    add.

    Every text is escaped for the template (:func:`escaped`, a ``SafeString``): a registered
    presenter that builds on ``author_name`` must escape its own texts likewise.

    Precondition: ``posts`` were fetched with ``select_related("author")``; call in the language
    and time zone of the page (the texts are translated and the times converted here).
    """
    agree_url = _url_maker("forums:post_agree")
    edit_url = _url_maker("forums:post_edit")
    delete_url = _url_maker("forums:post_delete")
    permalink = _url_maker("forums:post")
    deleted_account = escaped(gettext("Deleted account"))
    reply_to = escaped(gettext("Reply to %(name)s"))
    agree_with = escaped(gettext("Agree with the post by %(name)s"))
    deleted_post = escaped(gettext("deleted post"))
    state_notes = {
        Post.State.HELD: escaped(
            gettext(
                "Waiting for a moderator: only its author and the moderators can see this post."
            )
        ),
        Post.State.HIDDEN: escaped(
            gettext(
                "Hidden by the moderators: only its author and the moderators can see this post."
            )
        ),
        Post.State.REJECTED: escaped(
            gettext(
                "Rejected by the moderators: only its author and the moderators can see this post."
            )
        ),
    }
    language = get_language()
    times = _time_formatter()
    totals: dict[int, SafeString] = {}
    # Escaped once per author (a page shows few): display name and badge.
    people: dict[int, tuple[SafeString, SafeString]] = {}
    languages: dict[str, SafeString] = {}

    def person(member: Member) -> tuple[SafeString, SafeString]:
        if member.pk not in people:
            people[member.pk] = (escaped(member.display_name), escaped(member.badge))
        return people[member.pk]

    def lang(code: str) -> SafeString:
        if code not in languages:
            languages[code] = escaped(code)
        return languages[code]

    for post in posts:
        pk = post.pk
        # Numbers the template writes, as text: an int output goes through number formatting
        # (formats.localize) every time, about 8 times a post. Digits need no escaping.
        post.ref = SafeString(pk)
        post.seq_text = SafeString(post.seq)
        post.agree_url = agree_url(pk)
        post.edit_url = edit_url(pk)
        post.delete_url = delete_url(pk)
        post.reply_to_url = permalink(post.reply_to_id) if post.reply_to_id else ""
        name, badge = person(post.author) if post.author_id and post.author else ("", "")
        post.author_name = name or deleted_account
        post.agree_label = SafeString(agree_with % {"name": post.author_name})
        post.reply_label = SafeString(reply_to % {"name": post.author_name})
        count = post.reaction_count or 0
        post.reaction_count_text = SafeString(count)
        if count not in totals:
            totals[count] = escaped(
                ngettext("%(counter)s agreement", "%(counter)s agreements", count)
                % {"counter": localize(count)}
            )
        post.agree_total_label = totals[count]
        post.created_iso, post.created_display = times(post.created_at)
        post.author_badge = badge
        alive = not post.is_deleted
        sees = getattr(post, "viewer_sees_text", True)
        post.state_note = state_notes.get(post.state, "")
        post.state_note_shown = post.state != Post.State.PUBLISHED and alive and bool(sees)
        post.shows_moderation_note = post.state in (Post.State.HIDDEN, Post.State.REJECTED)
        shown = alive and sees
        post.body_lang = lang(post.language) if post.language != language and shown else ""
        # Sanitised once, on write (deliberation.markup): marked safe here, not per post by |safe.
        post.shown_body_html = mark_safe(post.body_html) if shown else ""  # noqa: S308
        post.reply_link_hidden = not alive or sees is False
        parent = post.reply_to if post.reply_to_id else None
        if parent is None:
            post.reply_to_href = post.reply_to_author = post.reply_to_lang = ""
            post.reply_to_quote = escaped(getattr(post, "reply_excerpt", ""))
        else:
            post.reply_to_href = (
                SafeString(f"#post-{post.reply_to_id}")
                if getattr(post, "reply_on_page", False)
                else post.reply_to_url
            )
            post.reply_to_author = person(parent.author)[0] if parent.author else deleted_account
            post.reply_to_lang = (
                lang(parent.language)
                if parent.language and parent.language != language and not parent.is_deleted
                else ""
            )
            post.reply_to_quote = (
                deleted_post if parent.is_deleted else escaped(getattr(post, "reply_excerpt", ""))
            )
    for presenter in _post_presenters:
        presenter(posts, _url_maker)
    return posts


#: The moderation app's note on a hidden post (a reverse one-to-one), fetched in the same query
#: where that app is installed; forums does not import it.
_POST_NOTE = ("moderation_note",) if hasattr(Post, "moderation_note") else ()


def thread_posts(*, user: User, thread: Thread, is_moderator: bool) -> QuerySet[Post]:
    """Visible posts with everything the page shows fetched in the same query.

    For a signed-in user each post also carries ``viewer_reacted`` (whether the user agrees) and
    ``viewer_seen_seq`` (how far the user had read the thread; the same on every row, an
    uncorrelated subquery the database evaluates once), so a page of posts costs one query
    whatever its length, and the page can skip marking read when nothing is new.
    """
    posts = visible_posts(user=user, thread=thread, is_moderator=is_moderator).select_related(
        "author", "reply_to__author", *_POST_NOTE
    )
    if not user.is_authenticated:
        return posts
    return posts.annotate(
        viewer_reacted=Exists(Reaction.objects.filter(post=OuterRef("pk"), member=user)),
        viewer_seen_seq=Subquery(
            ThreadVisit.objects.filter(thread=thread, member=user).values("last_seen_seq")[:1]
        ),
    )


def _row_count(posts: QuerySet[Post]) -> Subquery:
    """``(SELECT COUNT(*) FROM ... WHERE <the filter of posts>)``: uncorrelated, so the database
    counts once per query (an index count), whatever the rows selected around it.

    Not ``COUNT(*) OVER ()``: a window over the filtered rows made SQLite build every row of the
    thread (its joins and per-row subqueries too) before the ``LIMIT``: 6.8 ms of the 1,000-post
    thread's first page against 0.8 ms this way (PostgreSQL also materialises a window).
    """
    count = Func(F("pk"), function="COUNT", output_field=IntegerField())
    return Subquery(posts.order_by().annotate(rows=count).values("rows"))


def thread_post_page(posts: QuerySet[Post], page_param: Any) -> Page:
    """One page of ``posts`` (from :func:`thread_posts`) in ONE query where possible.

    The total for the page links comes with the rows (:func:`_row_count`), so a page costs a
    single query instead of a count plus a slice. ``"last"``, an out-of-range number or an empty
    thread fall back to Django's paginator (count, then slice).
    """
    paginator = Paginator(posts, POSTS_PER_PAGE)
    try:
        number = 1 if page_param in (None, "") else int(page_param)
    except (TypeError, ValueError):
        number = 0 if page_param == "last" else 1
    if number >= 1:
        start = (number - 1) * POSTS_PER_PAGE
        rows = list(posts.annotate(page_total=_row_count(posts))[start : start + POSTS_PER_PAGE])
        if rows:
            paginator.__dict__["count"] = rows[0].page_total  # seeds the cached_property
            return Page(rows, number, paginator)
    number = paginator.num_pages if number == 0 or number > 1 else 1
    page = paginator.get_page(number)
    page.object_list = list(page.object_list)
    return page


def reply_target(*, user: User, thread: Thread, post_id: Any, is_moderator: bool) -> Post | None:
    """The post a reply form answers, if it is a visible, undeleted post of ``thread``."""
    try:
        pk = int(post_id)
    except (TypeError, ValueError):
        return None
    post = (
        visible_posts(user=user, thread=thread, is_moderator=is_moderator)
        .select_related("author")
        .filter(pk=pk, deleted_at__isnull=True)
        .first()
    )
    return post


# --- search ---------------------------------------------------------------------------------------

_MARK_START = "\ue000"
_MARK_STOP = "\ue001"
_MARKED = re.compile(f"{_MARK_START}(.*?){_MARK_STOP}", re.DOTALL)


@dataclass
class SearchHit:
    post: Post
    excerpt: SafeString


def _highlight(text: str) -> SafeString:
    """Escape ``text`` and turn sentinel-delimited spans into ``<mark>``; stray sentinels vanish."""
    escaped = escape(text)
    marked = _MARKED.sub(lambda m: f"<mark>{m.group(1)}</mark>", escaped)
    return mark_safe(marked.replace(_MARK_START, "").replace(_MARK_STOP, ""))  # noqa: S308


def _mark_terms(text: str, terms: list[str], *, chars: int = 2 * EXCERPT_CHARS) -> str:
    """A window of ``text`` around the first term found, with every term wrapped in sentinels."""
    clean = " ".join(text.replace(_MARK_START, "").replace(_MARK_STOP, "").split())
    lower = clean.lower()
    first = min((i for i in (lower.find(t.lower()) for t in terms) if i >= 0), default=0)
    start = max(0, first - chars // 3)
    window = clean[start : start + chars]
    if start > 0:
        window = "…" + window
    if start + chars < len(clean):
        window += "…"
    if not terms:
        return window
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    return pattern.sub(lambda m: f"{_MARK_START}{m.group(0)}{_MARK_STOP}", window)


def _search_terms(query: str) -> list[str]:
    return [t.strip('"') for t in query.split() if t.strip('"') and not t.startswith("-")]


def searchable_posts(*, user: User) -> QuerySet[Post]:
    """Published, undeleted posts in forums the user may see (held and hidden never appear)."""
    return Post.objects.filter(
        _visible_threads(user, "thread__"),
        state=Post.State.PUBLISHED,
        deleted_at__isnull=True,
    )


def search_posts(*, user: User, query: str) -> QuerySet[Post]:
    """Posts matching ``query`` (in the body or the thread's title), best first.

    On PostgreSQL: full-text search with the German configuration (stemming, so "Mieten" finds
    "Miete"), websearch syntax ("quotes", -not, or) and ranking; the thread title weighs more than
    the body. Elsewhere (the SQLite default): every word must occur in the body or title.
    Each post carries ``headline`` (sentinel-marked text) for :func:`search_hits`.
    """
    posts = searchable_posts(user=user).select_related("thread__forum", "author")
    query = query.strip()
    if not query:
        return posts.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import (
            SearchHeadline,
            SearchQuery,
            SearchRank,
            SearchVector,
        )

        vector = SearchVector("thread__title", weight="A", config="german") + SearchVector(
            "body", weight="B", config="german"
        )
        search_query = SearchQuery(query, config="german", search_type="websearch")
        return (
            posts.annotate(document=vector, rank=SearchRank(vector, search_query))
            .filter(document=search_query)
            .annotate(
                headline=SearchHeadline(
                    "body",
                    search_query,
                    config="german",
                    start_sel=_MARK_START,
                    stop_sel=_MARK_STOP,
                    max_words=35,
                    min_words=15,
                )
            )
            .order_by("-rank", "-created_at", "-id")
        )
    terms = _search_terms(query)
    if not terms:
        return posts.none()
    condition = Q()
    for term in terms:
        condition &= Q(body__icontains=term) | Q(thread__title__icontains=term)
    return posts.filter(condition).annotate(headline=F("body")).order_by("-created_at", "-id")


def search_hits(posts: list[Post], *, query: str) -> list[SearchHit]:
    """Escaped excerpts with ``<mark>`` around the matches, for one page of results."""
    postgres = connection.vendor == "postgresql"
    terms = _search_terms(query)
    hits = []
    for post in posts:
        text = post.headline if postgres else _mark_terms(post.headline, terms)
        hits.append(SearchHit(post=post, excerpt=_highlight(text)))
    return hits


# --- event replay (written with forums.services; the implementation is in forums/replay.py) -----


def events_after(
    *,
    thread: Thread,
    after: int,
    limit: int | None = None,
    user: Any,
    moderator: bool | None = None,
) -> list[dict]:
    """The thread's events with ``seq > after`` in order, shaped like the live frames."""
    from forums.replay import REPLAY_LIMIT
    from forums.replay import events_after as replay

    return replay(
        thread=thread, after=after, limit=limit or REPLAY_LIMIT, user=user, moderator=moderator
    )
