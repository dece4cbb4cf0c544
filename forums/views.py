"""Forum pages: thin views that fetch through access helpers and write through services.

Everything works without JavaScript: plain forms, POST-redirect-GET, a message for every outcome.
A refused change (``ServiceError``) re-renders the form with the member's text and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deliberation.models import Member
from forums import permissions, selectors, services
from forums.errors import ServiceError
from forums.forms import AgreeForm, PostEditForm, PostForm, ThreadForm, new_client_id
from forums.models import Forum, Post, Thread
from forums.timeformat import time_settings

View = Callable[..., HttpResponse]


def login_if_anonymous(view: View) -> View:
    """Anonymous visitors who may not see a page are sent to log in, not shown 404 or 403.

    Whether the object exists or not, they get the same answer, so nothing leaks.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (Http404, PermissionDenied):
            if request.user.is_authenticated:
                raise
            return redirect_to_login(request.get_full_path())

    return wrapper


def _post_url(request: HttpRequest, post: Post, *, is_moderator: bool) -> str:
    page = selectors.post_page_number(user=request.user, post=post, is_moderator=is_moderator)
    query = f"?page={page}" if page > 1 else ""
    return f"{post.thread.get_absolute_url()}{query}#post-{post.pk}"


def _refused(request: HttpRequest, error: ServiceError, form: Any = None) -> None:
    """Tell the member why nothing changed: as a message, and next to the form if there is one."""
    messages.error(request, error.message)
    if form is not None:
        field = "body" if error.code in {"too_long", "invalid"} and "body" in form.fields else None
        form.add_error(field, error.message)


def _refusal_status(response: HttpResponse, error: ServiceError | None) -> HttpResponse:
    """A page re-shown after a rate limit answers 429 with Retry-After; any other refusal 200."""
    if error is not None and error.code == "rate_limited":
        response.status_code = 429
        response["Retry-After"] = str(error.details.get("retry_after", 60))
    return response


# --- forums ---------------------------------------------------------------------------------------


@login_if_anonymous
def forum_index(request: HttpRequest) -> HttpResponse:
    forums = selectors.forum_list(user=request.user)
    return render(request, "forums/index.html", {"forums": forums})


@login_if_anonymous
def forum_detail(request: HttpRequest, slug: str) -> HttpResponse:
    forum = permissions.access_forum(request.user, slug=slug)
    threads = selectors.forum_threads(user=request.user, forum=forum)
    page = Paginator(threads, selectors.THREADS_PER_PAGE).get_page(request.GET.get("page"))
    can_start = forum.state == Forum.State.OPEN and permissions.can_participate(request.user, forum)
    return render(
        request,
        "forums/forum.html",
        {"forum": forum, "page_obj": page, "threads": page.object_list, "can_start": can_start},
    )


@login_required
def thread_create(request: HttpRequest, slug: str) -> HttpResponse:
    forum = permissions.access_forum(request.user, slug=slug)
    if forum.state != Forum.State.OPEN or not permissions.can_participate(request.user, forum):
        messages.error(request, _("You cannot start a thread in this forum."))
        return redirect(forum)
    refusal: ServiceError | None = None
    may_set_members_only = permissions.can_set_members_only(request.user, forum)
    if request.method == "POST":
        form = ThreadForm(request.POST, may_set_members_only=may_set_members_only)
        if form.is_valid():
            try:
                thread = services.thread_create(
                    actor=request.user,
                    forum=forum,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    client_id=form.cleaned_data["client_id"] or "",
                    members_only=form.cleaned_data.get("members_only", False),
                )
            except ServiceError as error:
                _refused(request, error, form)
                refusal = error
            else:
                messages.success(request, _("Your thread has been started."))
                return redirect(thread)
    else:
        form = ThreadForm(
            initial={"client_id": new_client_id()}, may_set_members_only=may_set_members_only
        )
    page = render(request, "forums/thread_form.html", {"forum": forum, "form": form})
    return _refusal_status(page, refusal)


# --- threads --------------------------------------------------------------------------------------


def _thread_page(
    request: HttpRequest,
    thread: Thread,
    *,
    page_number: Any,
    reply_form: PostForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    forum = thread.forum
    checker = permissions.checker_for(user)  # one guardian lookup for both questions
    is_moderator = permissions.can_moderate(user, forum, checker=checker)
    can_participate = permissions.can_participate(user, forum, checker=checker)
    can_post = permissions.can_post_in_thread(user, thread, checker=checker)

    posts_qs = selectors.thread_posts(user=user, thread=thread, is_moderator=is_moderator)
    page = selectors.thread_post_page(posts_qs, page_number)
    posts = selectors.annotate_posts_for_viewer(
        page.object_list,
        user=user,
        is_moderator=is_moderator,
        can_participate=can_participate,
    )

    reply_target = None
    if can_post:
        if reply_form is None:
            reply_to_param = request.GET.get("reply_to")
            if reply_to_param:
                reply_target = selectors.reply_target(
                    user=user, thread=thread, post_id=reply_to_param, is_moderator=is_moderator
                )
            reply_form = PostForm(
                initial={
                    "client_id": new_client_id(),
                    "reply_to": reply_target.pk if reply_target else None,
                }
            )
        elif reply_form.is_bound and reply_form.data.get("reply_to"):
            reply_target = selectors.reply_target(
                user=user,
                thread=thread,
                post_id=reply_form.data.get("reply_to"),
                is_moderator=is_moderator,
            )

    if user.is_authenticated and posts:
        # Read up to what this page shows: everything on the last page, else its newest post.
        seq = thread.last_seq if not page.has_next() else max(p.seq for p in posts)
        if (posts[0].viewer_seen_seq or 0) < seq:
            services.thread_mark_read(member=user, thread=thread, seq=seq)

    return render(
        request,
        "forums/thread.html",
        {
            "forum": forum,
            "thread": thread,
            "page_obj": page,
            "posts": selectors.posts_for_template(posts),
            "is_moderator": is_moderator,
            # For the post template's report link: one question to the lazy request.user per
            # page instead of one a post.
            "signed_in": user.is_authenticated,
            "can_participate": can_participate,
            "can_post": can_post,
            "reply_form": reply_form,
            "reply_target": reply_target,
            "reply_target_excerpt": selectors.excerpt(reply_target) if reply_target else "",
            "post_time": time_settings(),
            "badge_labels": {
                str(code): str(label) for code, label in Member.Affiliation.choices if code
            },
            "post_labels": selectors.post_labels(),
            # The start of each post's reply link (the post's id follows), once per page,
            # escaped once here rather than by the template in every post.
            "reply_link_prefix": selectors.escaped(
                f"?page={page.number}&reply_to=" if page.number > 1 else "?reply_to="
            ),
        },
        status=status,
    )


@login_if_anonymous
def thread_detail(request: HttpRequest, pk: int) -> HttpResponse:
    thread = permissions.access_thread(request.user, pk)
    return _thread_page(request, thread, page_number=request.GET.get("page"))


@login_required
@require_POST
def thread_reply(request: HttpRequest, pk: int) -> HttpResponse:
    thread = permissions.access_thread(request.user, pk)
    form = PostForm(request.POST)
    refusal: ServiceError | None = None
    if form.is_valid():
        try:
            post, created = services.post_create(
                actor=request.user,
                thread=thread,
                body=form.cleaned_data["body"],
                client_id=form.cleaned_data["client_id"] or "",
                reply_to_id=form.cleaned_data["reply_to"],
            )
        except ServiceError as error:
            _refused(request, error, form)
            refusal = error
        else:
            if not created:
                messages.info(request, _("This post had already been sent; it is shown below."))
            elif post.state == Post.State.HELD:
                messages.success(
                    request,
                    _("Your post waits for a moderator. Until then only you can see it."),
                )
            else:
                messages.success(request, _("Your post has been published."))
            is_moderator = permissions.can_moderate(request.user, thread.forum)
            return HttpResponseRedirect(_post_url(request, post, is_moderator=is_moderator))
    # The form sits at the end of every page; show the last one, where the member was writing.
    page = _thread_page(request, thread, page_number="last", reply_form=form)
    return _refusal_status(page, refusal)


# --- posts ----------------------------------------------------------------------------------------


@login_if_anonymous
def post_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    """A post's lasting address: redirects to the page of its thread that shows it."""
    post = permissions.access_post(request.user, pk)
    is_moderator = permissions.can_moderate(request.user, post.thread.forum)
    return HttpResponseRedirect(_post_url(request, post, is_moderator=is_moderator))


@login_required
@require_POST
def thread_agree(request: HttpRequest, pk: int) -> HttpResponse:
    """The thread page's one agreement form (#agree-form): each post's toggle is a submit button
    of it that sends the post's id, so the page holds one CSRF token instead of one per post.

    A post that is not one of this thread's, or that the member may not see, changes nothing.
    """
    thread = permissions.access_thread(request.user, pk)
    form = AgreeForm(request.POST)
    post = None
    if form.is_valid():
        with suppress(Http404):
            post = permissions.access_post(request.user, form.cleaned_data["post"])
    if post is None or post.thread_id != thread.pk:
        messages.error(request, _("This post does not exist in this thread."))
        return HttpResponseRedirect(thread.get_absolute_url())
    return _toggle_agreement(request, post)


@login_required
@require_POST
def post_agree(request: HttpRequest, pk: int) -> HttpResponse:
    return _toggle_agreement(request, permissions.access_post(request.user, pk))


def _toggle_agreement(request: HttpRequest, post: Post) -> HttpResponse:
    try:
        reacted, _count = services.reaction_toggle(actor=request.user, post=post)
    except ServiceError as error:
        _refused(request, error)
    else:
        if reacted:
            messages.success(request, _("You agree with this post."))
        else:
            messages.success(request, _("You no longer agree with this post."))
    is_moderator = permissions.can_moderate(request.user, post.thread.forum)
    return HttpResponseRedirect(_post_url(request, post, is_moderator=is_moderator))


def _own_post(request: HttpRequest, pk: int) -> Post:
    post = permissions.access_post(request.user, pk)
    if post.author_id != request.user.pk:
        raise PermissionDenied
    if post.is_deleted:
        raise Http404
    return post


@login_required
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    post = _own_post(request, pk)
    is_moderator = permissions.can_moderate(request.user, post.thread.forum)
    refusal: ServiceError | None = None
    if request.method == "POST":
        form = PostEditForm(request.POST)
        if form.is_valid():
            try:
                services.post_edit(actor=request.user, post=post, body=form.cleaned_data["body"])
            except ServiceError as error:
                _refused(request, error, form)
                refusal = error
            else:
                messages.success(request, _("Your post has been changed."))
                return HttpResponseRedirect(_post_url(request, post, is_moderator=is_moderator))
    else:
        form = PostEditForm(initial={"body": post.body})
    back = _post_url(request, post, is_moderator=is_moderator)
    page = render(
        request,
        "forums/post_edit.html",
        {
            "post": post,
            "form": form,
            "back": back,
            "edit_window_minutes": settings.POST_EDIT_WINDOW_SECONDS // 60,
        },
    )
    return _refusal_status(page, refusal)


@login_required
def post_delete(request: HttpRequest, pk: int) -> HttpResponse:
    post = _own_post(request, pk)
    is_moderator = permissions.can_moderate(request.user, post.thread.forum)
    back = _post_url(request, post, is_moderator=is_moderator)
    if request.method == "POST":
        try:
            services.post_delete(actor=request.user, post=post)
        except ServiceError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Your post has been deleted."))
        return HttpResponseRedirect(back)
    return render(
        request,
        "forums/post_delete.html",
        {"post": post, "back": back, "excerpt": selectors.excerpt(post)},
    )


# --- search ---------------------------------------------------------------------------------------


@login_if_anonymous
def search(request: HttpRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:200]
    page = None
    hits: list[selectors.SearchHit] = []
    if query:
        results = selectors.search_posts(user=request.user, query=query)
        page = Paginator(results, selectors.SEARCH_RESULTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        hits = selectors.search_hits(list(page.object_list), query=query)
    return render(request, "forums/search.html", {"query": query, "page_obj": page, "hits": hits})
