"""Moderation pages of queues, posts, cases and appeals (threads and forums: ``views_forum``).

Thin views that fetch through access helpers and act through the services.

Everything works without JavaScript: plain forms, POST-redirect-GET, a message for every outcome.
Every request checks the right again on the server: a moderator of one forum gets 404 for the
objects of another (their existence stays secret), a member gets 404 or 403, an anonymous visitor
is sent to log in. A refused change (``ServiceError``) changes nothing and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from forums import permissions
from forums.errors import ServiceError
from forums.models import Forum, Post, Thread
from forums.views import login_if_anonymous
from moderation import answers, selectors, services
from moderation import permissions as moderation_permissions
from moderation.forms import (
    ActionForm,
    AppealDecisionForm,
    AppealForm,
    HideForm,
    MuteForm,
    RemoveForm,
    ReportForm,
)
from moderation.models import Appeal, Case, PostNote, Reason, Report

# --- helpers --------------------------------------------------------------------------------------


def _moderated_forum(user: Any, slug: str) -> Forum:
    """The forum, if ``user`` moderates it: 404 if they may not see it, 403 if they only see it."""
    forum = permissions.access_forum(user, slug=slug)
    if not permissions.can_moderate(user, forum):
        raise PermissionDenied
    return forum


def _moderated_post(user: Any, pk: int) -> Post:
    post = permissions.access_post(user, pk)
    if not permissions.can_moderate(user, post.thread.forum):
        raise PermissionDenied
    return post


def _moderated_thread(user: Any, pk: int) -> Thread:
    thread = permissions.access_thread(user, pk)
    if not permissions.can_moderate(user, thread.forum):
        raise PermissionDenied
    return thread


def _moderated_case(user: Any, pk: int) -> Case:
    case = Case.objects.select_related("post__thread__forum").filter(pk=pk).first()
    if case is None:
        raise Http404("no such case")
    _moderated_post(user, case.post_id)
    return case


def _moderated_appeal(user: Any, pk: int) -> Appeal:
    appeal = Appeal.objects.select_related("post__thread__forum").filter(pk=pk).first()
    if appeal is None:
        raise Http404("no such appeal")
    _moderated_post(user, appeal.post_id)
    return appeal


_next_url = answers.next_url


def _queue_url(forum: Forum) -> str:
    return reverse("moderation:queue", kwargs={"slug": forum.slug})


def _form_errors(request: HttpRequest, form: Any) -> None:
    """Report invalid input as messages (the form sat on another page: the queue, a thread)."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _run(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    try:
        action()
    except ServiceError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, success)
    return True


# --- queues ---------------------------------------------------------------------------------------


def decorate(items: list[Any], *, user: Any) -> list[Any]:
    """Add what the item template shows beyond the selector's QueueItem (a few queries a page).

    Each item gets its own forms with ids prefixed by the case, so the labels of one item's
    form never point into another's.
    """
    cases = [item.case for item in items]
    reports: dict[int, list[Any]] = {}
    for report in (
        Report.objects.filter(case__in=cases).order_by("created_at", "id") if cases else []
    ):
        reports.setdefault(report.case_id, []).append(report)
    appeals = (
        {
            a.case_id: a
            for a in Appeal.objects.filter(case__in=cases).select_related("post__thread__forum")
        }
        if cases
        else {}
    )
    notes = (
        {n.post_id: n for n in PostNote.objects.filter(post__in=[c.post_id for c in cases])}
        if cases
        else {}
    )
    with permissions.grants_read_once():  # one grants query per forum, not per appeal
        decidable = {
            case_pk: moderation_permissions.can_decide_appeal(user, appeal)
            for case_pk, appeal in appeals.items()
        }
    for item in items:
        case = item.case
        counts: dict[str, int] = {}
        for report in reports.get(case.pk, []):
            counts[report.reason] = counts.get(report.reason, 0) + 1
        item.reason_counts = [
            (Reason(reason).label, n)
            for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        item.report_texts = [r.text for r in reports.get(case.pk, []) if r.text]
        item.claimed_by_me = item.claimed_by is not None and item.claimed_by.pk == user.pk
        # A case about one's own post is another moderator's: shown, but without actions.
        item.own = item.post.author_id is not None and item.post.author_id == user.pk
        item.appeal = appeals.get(case.pk)
        item.note = notes.get(case.post_id)
        item.can_decide = decidable.get(case.pk, False)
        # Ascending order = most urgent first (the live script inserts by this key).
        item.order = (
            f"{max(0, 999_999 - item.urgency):06d}-{case.opened_at:%Y%m%d%H%M%S}-{case.pk:010d}"
        )
        # What the moderator sees of the case; the live script ignores a fetch that brings the
        # same version (e.g. the echo of the moderator's own claim).
        claimed = item.claimed_until.timestamp() if item.claimed_until else 0
        holder = item.claimed_by.pk if item.claimed_by else 0
        item.version = f"{case.kind}-{case.report_count}-{holder}-{claimed:.0f}-{item.post.state}"
        prefix = f"case{case.pk}-%s"
        item.forms = {
            "hide": HideForm(auto_id=f"hide-{prefix}"),
            "dismiss": ActionForm(auto_id=f"dismiss-{prefix}", initial_reason=Reason.NO_VIOLATION),
            "approve": ActionForm(auto_id=f"approve-{prefix}", initial_reason=Reason.NO_VIOLATION),
            "reject": HideForm(auto_id=f"reject-{prefix}"),
            "decide": AppealDecisionForm(auto_id=f"decide-{prefix}"),
            "mute": MuteForm(auto_id=f"mute-{prefix}"),
            "remove": RemoveForm(auto_id=f"remove-{prefix}"),
        }
    return items


def _queue_page(
    request: HttpRequest, *, items: Any, forum: Forum | None, ws_path: str, queue_url: str
) -> HttpResponse:
    template = "moderation/queue.html"
    if request.GET.get("teil") == "liste":
        template = "moderation/_queue_list.html"
    context = {
        "forum": forum,
        "items": decorate(items, user=request.user),
        "ws_path": ws_path,
        "list_url": f"{queue_url}?teil=liste",
        "next_url": queue_url,
    }
    return render(request, template, context)


@login_if_anonymous
@require_GET
def forum_queue(request: HttpRequest, slug: str) -> HttpResponse:
    forum = _moderated_forum(request.user, slug)
    items = selectors.queue_for_forum(user=request.user, forum=forum)
    return _queue_page(
        request,
        items=items,
        forum=forum,
        ws_path=f"/ws/moderation/{forum.pk}/",
        queue_url=_queue_url(forum),
    )


@login_if_anonymous
@require_GET
def staff_queue(request: HttpRequest) -> HttpResponse:
    if not permissions.is_staff(request.user):
        raise PermissionDenied
    items = selectors.queue_for_staff(user=request.user)
    return _queue_page(
        request,
        items=items,
        forum=None,
        ws_path="/ws/moderation/staff/",
        queue_url=reverse("moderation:staff_queue"),
    )


@login_if_anonymous
@require_GET
def queue_item(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One queue item as an HTML fragment; 404 once it left the queue (the script removes it)."""
    if kind != "case":
        raise Http404("no such kind")
    # Only this one case, not the forum's whole queue: the live queue fetches it on every change.
    item = selectors.queue_item(user=request.user, kind="case", pk=pk)
    if item is None:
        raise Http404("not in the queue, or not yours to moderate")
    context = {
        "item": decorate([item], user=request.user)[0],
        "next_url": _next_url(request, _queue_url(item.case.forum)),
    }
    return render(request, "moderation/_queue_item.html", context)


# --- posts ----------------------------------------------------------------------------------------


@login_required
def post_report(request: HttpRequest, pk: int) -> HttpResponse:
    post = permissions.access_post(request.user, pk)
    back = post.thread.get_absolute_url() + f"#post-{post.pk}"
    if request.method != "POST" and not moderation_permissions.can_report(request.user, post):
        # The service refuses such a report anyway; say so before anyone fills in the form.
        messages.error(request, _("You cannot report this post."))
        return HttpResponseRedirect(back)
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                services.report_create(
                    actor=request.user,
                    post=post,
                    reason=form.cleaned_data["reason"],
                    text=form.cleaned_data["text"],
                )
            except ServiceError as error:
                messages.error(request, error.message)
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "Thank you. The moderators will look at the post; "
                        "you will be told in your notifications what they decided."
                    ),
                )
                return HttpResponseRedirect(back)
    else:
        form = ReportForm()
    return render(request, "moderation/report.html", {"post": post, "form": form, "back": back})


@login_if_anonymous
@require_GET
def post_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """Every action on one post, for its forum's moderators (reached from the thread page)."""
    post = _moderated_post(request.user, pk)
    forum = post.thread.forum
    case = Case.objects.filter(post=post, status=Case.Status.OPEN).first()
    return render(
        request,
        "moderation/post.html",
        {
            "post": post,
            "forum": forum,
            "case": case,
            "note": selectors.hiding_of(post=post),
            "mute": selectors.mute_in_force(member=post.author, forum=forum),  # None without author
            "hide_form": HideForm(auto_id="hide-%s"),
            "restore_form": ActionForm(auto_id="restore-%s", initial_reason=Reason.CORRECTED),
            "approve_form": ActionForm(auto_id="approve-%s", initial_reason=Reason.NO_VIOLATION),
            "reject_form": HideForm(auto_id="reject-%s"),
            "mute_form": MuteForm(auto_id="mute-%s"),
            "unmute_form": ActionForm(auto_id="unmute-%s", initial_reason=Reason.CORRECTED),
            "remove_form": RemoveForm(auto_id="remove-%s"),
            "own": post.author_id is not None and post.author_id == request.user.pk,
            "next_url": request.get_full_path(),
            "back": post.thread.get_absolute_url() + f"#post-{post.pk}",
        },
    )


#: action slug -> (form, service call, success message); every call gets actor, post, the form's
#: data and the queue case the form was sent from (None from the post page).
POST_ACTIONS: dict[str, tuple[type, Callable[..., Any], Any]] = {
    "ausblenden": (
        HideForm,
        lambda actor, post, data, case: services.post_hide(
            actor=actor, post=post, reason=data["reason"], text=data["text"], expected_case=case
        ),
        gettext_lazy("The post is hidden."),
    ),
    "wiederherstellen": (
        ActionForm,
        lambda actor, post, data, case: services.post_restore(
            actor=actor, post=post, reason=data["reason"], text=data["text"], expected_case=case
        ),
        gettext_lazy("The post is shown again."),
    ),
    "freigeben": (
        ActionForm,
        lambda actor, post, data, case: services.post_approve(
            actor=actor, post=post, reason=data["reason"], text=data["text"], expected_case=case
        ),
        gettext_lazy("The post is published."),
    ),
    "ablehnen": (
        HideForm,
        lambda actor, post, data, case: services.post_reject(
            actor=actor, post=post, reason=data["reason"], text=data["text"], expected_case=case
        ),
        gettext_lazy("The post is rejected."),
    ),
}


def _open_case_pk(post: Post) -> int | None:
    return (
        Case.objects.filter(post=post, status=Case.Status.OPEN).values_list("pk", flat=True).first()
    )


@login_required
@require_POST
@answers.fetch_aware
def post_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in POST_ACTIONS:
        raise Http404("no such action")
    post = _moderated_post(request.user, pk)
    form_class, call, success = POST_ACTIONS[action]
    case_pk = answers.case_of(request) or _open_case_pk(post)
    back = answers.back_to(request, _queue_url(post.thread.forum), case_pk=answers.case_of(request))
    form = form_class(request.POST)
    if not form.is_valid():
        return answers.invalid(request, form, back=back, case_pk=case_pk)
    return answers.run(
        request,
        lambda: call(request.user, post, form.cleaned_data, answers.case_of(request)),
        str(success),
        back=back,
        case_pk=case_pk,
    )


@login_required
@require_POST
@answers.fetch_aware
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = _moderated_case(request.user, pk)
    back = answers.back_to(request, _queue_url(case.post.thread.forum), case_pk=case.pk)
    if action == "uebernehmen":
        return answers.run(
            request,
            lambda: services.case_claim(actor=request.user, case=case),
            _("You have taken this case. Others see that you are working on it."),
            back=back,
            case_pk=case.pk,
        )
    if action != "verwerfen":
        raise Http404("no such action")
    form = ActionForm(request.POST)
    if not form.is_valid():
        return answers.invalid(request, form, back=back, case_pk=case.pk)
    return answers.run(
        request,
        lambda: services.case_dismiss(
            actor=request.user,
            case=case,
            reason=form.cleaned_data["reason"],
            text=form.cleaned_data["text"],
        ),
        _("The reports are closed without action."),
        back=back,
        case_pk=case.pk,
    )


# --- appeals --------------------------------------------------------------------------------------


@login_required
def post_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    """The author of a hidden post asks the moderators to look again (once)."""
    post = permissions.access_post(request.user, pk)
    if post.author_id != request.user.pk:
        raise PermissionDenied
    back = post.thread.get_absolute_url() + f"#post-{post.pk}"
    existing = selectors.appeal_for_post(post=post)
    if request.method == "POST":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                services.appeal_create(
                    actor=request.user, post=post, text=form.cleaned_data["text"]
                )
            except ServiceError as error:
                messages.error(request, error.message)
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Your appeal has been sent. Another moderator will decide on it."),
                )
                return HttpResponseRedirect(back)
    else:
        form = AppealForm()
    hiding = selectors.hiding_of(post=post)
    return render(
        request,
        "moderation/appeal.html",
        {"post": post, "form": form, "back": back, "existing": existing, "hiding": hiding},
    )


@login_required
@require_POST
@answers.fetch_aware
def appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = _moderated_appeal(request.user, pk)
    back = answers.back_to(
        request, _queue_url(appeal.post.thread.forum), case_pk=answers.case_of(request)
    )
    form = AppealDecisionForm(request.POST)
    if not form.is_valid():
        return answers.invalid(request, form, back=back, case_pk=appeal.case_id)
    # Upholding the appeal means the author was right: the post is shown again.
    uphold = form.cleaned_data["decision"] == "restore"
    return answers.run(
        request,
        lambda: services.appeal_decide(
            actor=request.user,
            appeal=appeal,
            uphold=uphold,
            reason=form.cleaned_data["reason"],
            text=form.cleaned_data["text"],
        ),
        _("The post is shown again; the author is told.")
        if uphold
        else _("The post stays hidden; the author is told why."),
        back=back,
        case_pk=appeal.case_id,
    )
