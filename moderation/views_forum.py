"""Moderation pages of threads and forums: lock, pin, move; mute and remove members; the public
log; the forum's moderators (staff). Same rules as :mod:`moderation.views` (whose helpers these
share): thin views, access checked on every request, plain forms, POST-redirect-GET.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from deliberation.models import Member
from forums import permissions
from forums.errors import ServiceError
from forums.models import Forum, Thread
from forums.views import login_if_anonymous
from moderation import answers, selectors, services
from moderation.forms import ActionForm, ModeratorGrantForm, MoveForm, MuteForm, RemoveForm
from moderation.models import Reason
from moderation.views import (
    _form_errors,
    _moderated_forum,
    _moderated_thread,
    _next_url,
    _queue_url,
    _run,
)

LOG_PER_PAGE = 50

# --- threads --------------------------------------------------------------------------------------


def _movable_to(user: Any, thread: Thread) -> Any:
    forums = Forum.objects.exclude(pk=thread.forum_id).filter(state=Forum.State.OPEN)
    if permissions.is_staff(user):
        return forums
    checker = permissions.checker_for(user, forums)
    allowed = [f.pk for f in forums if permissions.can_moderate(user, f, checker=checker)]
    return forums.filter(pk__in=allowed)


@login_if_anonymous
@require_GET
def thread_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    thread = _moderated_thread(request.user, pk)
    return render(
        request,
        "moderation/thread.html",
        {
            "thread": thread,
            "forum": thread.forum,
            "lock_form": ActionForm(auto_id="lock-%s", initial_reason=Reason.HEATED),
            "pin_form": ActionForm(auto_id="pin-%s", initial_reason=Reason.IMPORTANT),
            # A guest moderator may not hide a thread from guests (nor see one so hidden).
            "members_only_form": (
                ActionForm(auto_id="members-only-%s", initial_reason=Reason.OTHER)
                if permissions.can_set_members_only(request.user, thread.forum)
                else None
            ),
            "move_form": MoveForm(
                auto_id="move-%s",
                forums=_movable_to(request.user, thread),
                initial={"reason": Reason.WRONG_FORUM},
            ),
        },
    )


THREAD_ACTIONS: dict[str, tuple[Callable[..., Any], Any]] = {
    "sperren": (services.thread_lock, gettext_lazy("The thread is locked.")),
    "entsperren": (services.thread_unlock, gettext_lazy("The thread is open again.")),
    "anheften": (services.thread_pin, gettext_lazy("The thread is pinned.")),
    "loesen": (services.thread_unpin, gettext_lazy("The thread is no longer pinned.")),
    "nur-mitglieder": (
        services.thread_make_members_only,
        gettext_lazy("Only members see the thread now; guests no longer do."),
    ),
    "fuer-gaeste": (
        services.thread_open_to_guests,
        gettext_lazy("The forum's guests see the thread again."),
    ),
}


@login_required
@require_POST
def thread_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    thread = _moderated_thread(request.user, pk)
    back = _next_url(request, thread.get_absolute_url())
    if action == "verschieben":
        form = MoveForm(request.POST, forums=_movable_to(request.user, thread))
        if not form.is_valid():
            _form_errors(request, form)
            return HttpResponseRedirect(reverse("moderation:thread", kwargs={"pk": thread.pk}))
        target = form.cleaned_data["forum"]
        moved = _run(
            request,
            lambda: services.thread_move(
                actor=request.user,
                thread=thread,
                to_forum=target,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
            ),
            _("The thread has been moved to “%(forum)s”.") % {"forum": target.title},
        )
        return HttpResponseRedirect(thread.get_absolute_url() if moved else back)
    if action not in THREAD_ACTIONS:
        raise Http404("no such action")
    call, success = THREAD_ACTIONS[action]
    form = ActionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return HttpResponseRedirect(back)
    _run(
        request,
        lambda: call(
            actor=request.user,
            thread=thread,
            reason=form.cleaned_data["reason"],
            text=form.cleaned_data["text"],
        ),
        str(success),
    )
    return HttpResponseRedirect(back)


# --- members of a forum ---------------------------------------------------------------------------


def _forum_member(member_pk: int) -> Member:
    member = Member.objects.filter(pk=member_pk).first()
    if member is None:
        raise Http404("no such member")
    return member


#: Member actions that take only a reason, like THREAD_ACTIONS (muting also takes an end).
MEMBER_ACTIONS: dict[str, tuple[type, Callable[..., Any], Any]] = {
    "stummschaltung-aufheben": (
        ActionForm,
        services.member_unmute,
        gettext_lazy("%(name)s may take part again."),
    ),
    "entfernen": (
        RemoveForm,
        services.member_remove_from_forum,
        gettext_lazy("%(name)s has been removed from this forum."),
    ),
}


@login_required
@require_POST
@answers.fetch_aware
def member_action(request: HttpRequest, slug: str, member_pk: int, action: str) -> HttpResponse:
    forum = _moderated_forum(request.user, slug)
    member = _forum_member(member_pk)
    case_pk = answers.case_of(request)
    back = answers.back_to(request, _queue_url(forum), case_pk=case_pk)
    name = member.display_name
    if action == "stummschalten":
        form = MuteForm(request.POST)
        if not form.is_valid():
            return answers.invalid(request, form, back=back, case_pk=case_pk)
        return answers.run(
            request,
            lambda: services.member_mute(
                actor=request.user,
                forum=forum,
                member=member,
                until=form.cleaned_data["until_at"],
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
            ),
            _("%(name)s is muted in this forum.") % {"name": name},
            back=back,
            case_pk=case_pk,
        )
    if action not in MEMBER_ACTIONS:
        raise Http404("no such action")
    form_class, call, success = MEMBER_ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        return answers.invalid(request, form, back=back, case_pk=case_pk)
    return answers.run(
        request,
        lambda: call(
            actor=request.user,
            forum=forum,
            member=member,
            reason=form.cleaned_data["reason"],
            text=form.cleaned_data["text"],
        ),
        str(success) % {"name": name},
        back=back,
        case_pk=case_pk,
    )


# --- the public log -------------------------------------------------------------------------------


@login_if_anonymous
@require_GET
def public_log(request: HttpRequest, slug: str) -> HttpResponse:
    """What the moderators did in a forum, for everyone who may read the forum."""
    forum = permissions.access_forum(request.user, slug=slug)
    entries = selectors.public_log(user=request.user, forum=forum)
    page = Paginator(entries, LOG_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "moderation/log.html",
        {"forum": forum, "page_obj": page, "entries": page.object_list},
    )


# --- moderators of a forum (staff) ----------------------------------------------------------------


def _staff_forum(request: HttpRequest, slug: str) -> Forum:
    if not permissions.is_staff(request.user):
        raise PermissionDenied
    return permissions.access_forum(request.user, slug=slug)


@login_if_anonymous
def forum_moderators(request: HttpRequest, slug: str) -> HttpResponse:
    forum = _staff_forum(request, slug)
    if request.method == "POST":
        form = ModeratorGrantForm(request.POST)
        if form.is_valid():
            member = Member.objects.filter(email__iexact=form.cleaned_data["email"]).first()
            if member is None:
                form.add_error("email", _("No member has this e-mail address."))
            else:
                try:
                    services.moderator_grant(actor=request.user, forum=forum, member=member)
                except ServiceError as error:
                    form.add_error("email", error.message)
                else:
                    messages.success(
                        request,
                        _("%(name)s now moderates this forum.") % {"name": member.display_name},
                    )
                    return HttpResponseRedirect(
                        reverse("moderation:moderators", kwargs={"slug": forum.slug})
                    )
    else:
        form = ModeratorGrantForm()
    return render(
        request,
        "moderation/moderators.html",
        {
            "forum": forum,
            "form": form,
            "moderators": selectors.forum_moderators(forum=forum),
        },
    )


@login_required
@require_POST
def moderator_revoke(request: HttpRequest, slug: str, member_pk: int) -> HttpResponse:
    forum = _staff_forum(request, slug)
    member = _forum_member(member_pk)
    _run(
        request,
        lambda: services.moderator_revoke(actor=request.user, forum=forum, member=member),
        _("%(name)s no longer moderates this forum.") % {"name": member.display_name},
    )
    return HttpResponseRedirect(reverse("moderation:moderators", kwargs={"slug": forum.slug}))
