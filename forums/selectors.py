"""Reads of the forums that pages need.

Every read here starts from what the user may see (``permissions.visible_forums``), so a page
cannot show a thread or post of a forum the user has no access to by forgetting a filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
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
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from deliberation.models import Member
from forums.events import EXCERPT_CHARS, plain_excerpt
from forums.models import Forum, Post, Reaction, Thread, ThreadVisit

POSTS_PER_PAGE = 50
THREADS_PER_PAGE = 30
SEARCH_RESULTS_PER_PAGE = 20
LIVE_WINDOW = timedelta(hours=2)
LIVE_LIMIT = 10
User = Member | AnonymousUser


def _visible_forums(user: User) -> QuerySet[Forum]:
    from forums.permissions import visible_forums

    return visible_forums(user)


def _last_seen_seq(user: User, thread_ref: str = "pk") -> Subquery:
    return Subquery(
        ThreadVisit.objects.filter(thread=OuterRef(thread_ref), member=user).values(
            "last_seen_seq"
        )[:1]
    )


# --- forums and threads ---------------------------------------------------------------------------


def forum_list(*, user: User) -> QuerySet[Forum]:
    """Forums the user may see, with ``thread_count`` and ``has_unread`` (a thread not read up)."""
    forums = _visible_forums(user).annotate(thread_count=Count("threads", distinct=True))
    if not user.is_authenticated:
        return forums.annotate(has_unread=Value(False)).order_by("title")
    unread_threads = Thread.objects.filter(forum=OuterRef("pk"), last_seq__gt=0).filter(
        last_seq__gt=Coalesce(_last_seen_seq(user), Value(0))
    )
    return forums.annotate(has_unread=Exists(unread_threads)).order_by("title")


def forum_threads(*, user: User, forum: Forum) -> QuerySet[Thread]:
    """The forum's threads, pinned first then by last activity, each with ``is_unread``.

    Precondition: the user may view ``forum`` (fetched through ``access_forum``).
    """
    threads = forum.threads.select_related("opened_by").order_by(
        "-pinned", "-last_activity_at", "-pk"
    )
    if not user.is_authenticated:
        return threads.annotate(is_unread=Value(False))
    return threads.annotate(
        is_unread=ExpressionWrapper(
            Q(last_seq__gt=Coalesce(_last_seen_seq(user), Value(0))),
            output_field=BooleanField(),
        )
    )


def threads_live_now(*, user: User) -> list[Thread]:
    """Up to ten threads with activity in the last two hours, in forums the user may see."""
    since = timezone.now() - LIVE_WINDOW
    return list(
        Thread.objects.filter(forum__in=_visible_forums(user), last_activity_at__gte=since)
        .select_related("forum")
        .order_by("-last_activity_at", "-pk")[:LIVE_LIMIT]
    )


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
    for post in posts:
        own = user.is_authenticated and post.author_id == user.pk
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


def thread_post_page(posts: QuerySet[Post], page_param: Any) -> Page:
    """One page of ``posts`` (from :func:`thread_posts`) in ONE query where possible.

    The total for the page links comes with the rows (``COUNT(*) OVER ()``), so a page costs a
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
        rows = list(posts.annotate(page_total=Window(Count("pk")))[start : start + POSTS_PER_PAGE])
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
        thread__forum__in=_visible_forums(user),
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
