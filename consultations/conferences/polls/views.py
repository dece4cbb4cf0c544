"""The polls' pages and actions. Thin: fetch through ``access_conference``, parse with a form,
call a service, answer.

Actions answer a plain form with a message and a redirect (or the page again with its errors),
and a fetch (``X-Requested-With: fetch``, polls.js) with JSON ``{"ok", "message", "html"}``,
where ``html`` is the poll's card as this member sees it now.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from consultations.conferences.models import Conference
from consultations.conferences.permissions import access_conference
from consultations.conferences.polls import selectors, services
from consultations.conferences.polls.forms import HallCountForm, PollOpenForm, VoteForm
from consultations.conferences.polls.models import Poll
from deliberation.fetch import wants_json as is_fetch
from forums.errors import ServiceError

STATUS = {"forbidden": 403, "not_found": 404, "conflict": 409, "closed": 409}


def _next(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _poll(conference: Conference, pk: int) -> Poll:
    poll = selectors.poll_of(conference, pk)
    if poll is None:
        raise Http404
    poll.conference = conference
    return poll


def card_context(
    request: HttpRequest,
    conference: Conference,
    poll: Poll,
    *,
    vote_form: VoteForm | None = None,
    hall_form: HallCountForm | None = None,
) -> dict[str, Any]:
    view = selectors.poll_views(request.user, conference, [poll])[0]
    if vote_form is None and view.may_vote:
        vote_form = VoteForm(poll=poll, options=view.options)
    if hall_form is None and view.chair:
        hall_form = HallCountForm(poll=poll, options=view.options)
    return {
        "conference": conference,
        "pv": view,
        "vote_form": vote_form,
        "hall_form": hall_form,
        "next_url": _next(request, ""),
    }


def _card_html(request: HttpRequest, conference: Conference, poll_pk: int) -> str:
    poll = _poll(conference, poll_pk)
    context = card_context(request, conference, poll)
    return render_to_string("conferences/polls/_poll.html", context, request=request)


def _answer(
    request: HttpRequest,
    conference: Conference,
    poll: Poll,
    *,
    ok: bool,
    message: str,
    status: int = 200,
    page_context: dict[str, Any] | None = None,
    with_card: bool = True,
) -> HttpResponse:
    if is_fetch(request):
        # A counted vote needs no new card (polls.js swaps the form for the answer): the ack
        # stays cheap when a thousand arrive at once. Everything else sends the card as it is now.
        html = "" if ok and not with_card else _card_html(request, conference, poll.pk)
        return JsonResponse({"ok": ok, "message": message, "html": html}, status=status)
    if not ok and page_context is not None:
        page_context["error"] = message
        return render(request, "conferences/polls/detail.html", page_context, status=status)
    (messages.success if ok else messages.error)(request, message)
    default = reverse("conferences:poll", kwargs={"slug": conference.slug, "pk": poll.pk})
    return HttpResponseRedirect(_next(request, default))


def poll_list(request: HttpRequest, slug: str) -> HttpResponse:
    conference = access_conference(request.user, slug)
    groups = [
        (item, selectors.poll_views(request.user, conference, polls))
        for item, polls in selectors.polls_by_item(conference)
    ]
    return render(
        request, "conferences/polls/list.html", {"conference": conference, "groups": groups}
    )


def poll_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    conference = access_conference(request.user, slug)
    poll = _poll(conference, pk)
    if is_fetch(request):
        # polls.js fetches a poll that opened live: its card as this member sees it.
        html = render_to_string(
            "conferences/polls/_poll.html", card_context(request, conference, poll), request=request
        )
        return JsonResponse({"ok": True, "message": "", "html": html})
    return render(request, "conferences/polls/detail.html", card_context(request, conference, poll))


@login_required
@require_http_methods(["GET", "POST"])
def poll_create(request: HttpRequest, slug: str) -> HttpResponse:
    conference = access_conference(request.user, slug, chair=True)
    form = PollOpenForm(request.POST or None, conference=conference)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            poll = services.poll_open(
                actor=request.user,
                conference=conference,
                item=data["item"],
                question=data["question"],
                kind=data["kind"],
                options=form.option_lines(),
                max_choices=data["max_choices"],
                secret=data["secret"],
                live_results=data["live_results"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The poll is open."))
            return HttpResponseRedirect(
                reverse("conferences:poll", kwargs={"slug": slug, "pk": poll.pk})
            )
    status = 400 if form.errors else 200
    return render(
        request,
        "conferences/polls/create.html",
        {"conference": conference, "form": form},
        status=status,
    )


@login_required
@require_POST
def poll_vote(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    conference = access_conference(request.user, slug)
    poll = _poll(conference, pk)
    options = selectors.options_of(poll)
    form = VoteForm(request.POST, poll=poll, options=options)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        context = card_context(request, conference, poll, vote_form=form)
        return _answer(
            request,
            conference,
            poll,
            ok=False,
            message=message,
            status=400,
            page_context=context,
        )
    try:
        services.poll_vote(actor=request.user, poll=poll, option_ids=form.option_ids())
    except ServiceError as error:
        context = card_context(request, conference, poll)
        return _answer(
            request,
            conference,
            poll,
            ok=False,
            message=error.message,
            status=STATUS.get(error.code, 400),
            page_context=context,
        )
    return _answer(
        request,
        conference,
        poll,
        ok=True,
        message=_("Your vote has been counted."),
        with_card=not poll.secret,  # a named poll's card shows the member's own choices
    )


@login_required
@require_POST
def poll_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    conference = access_conference(request.user, slug, chair=True)
    poll = _poll(conference, pk)
    try:
        services.poll_close(actor=request.user, poll=poll)
    except ServiceError as error:
        return _answer(
            request,
            conference,
            poll,
            ok=False,
            message=error.message,
            status=STATUS.get(error.code, 400),
        )
    return _answer(request, conference, poll, ok=True, message=_("The poll is closed."))


@login_required
@require_POST
def poll_hall_count(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    conference = access_conference(request.user, slug, chair=True)
    poll = _poll(conference, pk)
    form = HallCountForm(request.POST, poll=poll, options=selectors.options_of(poll))
    if not form.is_valid():
        message = " ".join(
            f"{form.fields[name].label}: {e}"
            for name, errors in form.errors.items()
            for e in errors
        )
        context = card_context(request, conference, poll, hall_form=form)
        return _answer(
            request,
            conference,
            poll,
            ok=False,
            message=message,
            status=400,
            page_context=context,
        )
    try:
        services.poll_hall_count(actor=request.user, poll=poll, counts=form.counts())
    except ServiceError as error:
        return _answer(
            request,
            conference,
            poll,
            ok=False,
            message=error.message,
            status=STATUS.get(error.code, 400),
        )
    return _answer(request, conference, poll, ok=True, message=_("The hall count is saved."))
