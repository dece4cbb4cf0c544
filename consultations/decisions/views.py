"""Decisions calendar pages: thin views that fetch through ``permissions`` and write through
``services``. Everything works without JavaScript (plain forms, POST-redirect-GET, a message for
every outcome); decisions.js only turns the follow button into an in-place toggle."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consultations.decisions import calendar, permissions, selectors, services
from consultations.decisions.forms import DecideForm, DecisionForm, FollowForm
from consultations.decisions.models import Topic
from deliberation.fetch import wants_json
from forums.errors import ServiceError
from forums.views import login_if_anonymous

PER_PAGE = 20


def _topic_filter(request: HttpRequest) -> Topic | None:
    slug = request.GET.get("thema", "")
    if not slug:
        return None
    topic = Topic.objects.filter(slug=slug[:100]).first()
    if topic is None:
        raise Http404
    return topic


def _topic_context(request: HttpRequest, topic: Topic | None) -> dict[str, Any]:
    return {
        "topics": selectors.topics(),
        "topic": topic,
        "followed": selectors.followed_topic_ids(user=request.user),
        "can_edit": permissions.can_edit(request.user),
        "feed_query": f"?{permissions.FEED_KEY_PARAMETER}={permissions.feed_key(request.user)}",
    }


@login_if_anonymous
def decision_list(request: HttpRequest) -> HttpResponse:
    permissions.require_reader(request.user)
    topic = _topic_filter(request)
    page = Paginator(selectors.decision_list(topic=topic), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page_obj": page, "decisions": page.object_list, **_topic_context(request, topic)}
    return render(request, "decisions/list.html", context)


@login_if_anonymous
def decision_month(
    request: HttpRequest, year: int | None = None, month: int | None = None
) -> HttpResponse:
    permissions.require_reader(request.user)
    topic = _topic_filter(request)
    today = timezone.localdate()
    if year is None or month is None:
        year, month = today.year, today.month
    if not (services.FIRST_DAY.year <= year <= services.LAST_DAY.year and 1 <= month <= 12):
        raise Http404
    shown = selectors.month(year=year, month=month, topic=topic, today=today)
    context = {
        "month": shown,
        "has_previous": shown.previous >= services.FIRST_DAY,
        "has_next": shown.next <= services.LAST_DAY,
        **_topic_context(request, topic),
    }
    return render(request, "decisions/calendar.html", context)


def _feed_response(request: HttpRequest, topic: Topic | None) -> HttpResponse:
    body = calendar.feed(
        selectors.feed_decisions(topic=topic),
        base_url=request.build_absolute_uri("/").rstrip("/"),
        topic=topic,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    name = f"entscheidungen-{topic.slug}" if topic is not None else "entscheidungen"
    response["Content-Disposition"] = f'inline; filename="{name}.ics"'
    return response


def _feed_reader(request: HttpRequest) -> object:
    key = request.GET.get(permissions.FEED_KEY_PARAMETER, "")[:200]
    return permissions.feed_reader(request.user, key)


def decision_feed(request: HttpRequest) -> HttpResponse:
    _feed_reader(request)
    return _feed_response(request, None)


def topic_feed(request: HttpRequest, slug: str) -> HttpResponse:
    return _feed_response(request, permissions.access_topic(_feed_reader(request), slug))


@login_if_anonymous
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = permissions.access_decision(request.user, pk)
    can_edit = permissions.can_edit(request.user)
    context = {
        "decision": decision,
        "decision_topics": list(decision.topics.all()),
        "followed": selectors.followed_topic_ids(user=request.user),
        "show_discussion": permissions.can_see_discussion(request.user, decision),
        "can_edit": can_edit,
        "decide_form": DecideForm(
            initial={"result": decision.result, "result_url": decision.result_url}
        )
        if can_edit
        else None,
    }
    return render(request, "decisions/detail.html", context)


def _write_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": data["title"],
        "explanation": data["explanation"],
        "body": data["body"],
        "date": data["date"],
        "time": data["time"],
        "institution": data["institution"],
        "topics": data["topics"],
        "source_url": data["source_url"],
        "discussion": data["discussion_address"],
    }


@login_if_anonymous
def decision_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a decision (``pk`` None) or change one; staff and organisers only."""
    if pk is None:
        permissions.require_reader(request.user)
        if not permissions.can_edit(request.user):
            raise PermissionDenied
        decision = None
    else:
        decision = permissions.access_decision(request.user, pk, for_write=True)
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                if decision is None:
                    decision = services.decision_create(
                        actor=request.user, **_write_kwargs(form.cleaned_data)
                    )
                    messages.success(request, _("The decision has been added to the calendar."))
                else:
                    services.decision_update(
                        actor=request.user, decision=decision, **_write_kwargs(form.cleaned_data)
                    )
                    messages.success(request, _("The decision has been changed."))
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                return redirect(decision)
    elif decision is not None:
        form = DecisionForm(
            initial={
                "title": decision.title,
                "explanation": decision.explanation,
                "body": decision.body,
                "date": decision.date,
                "time": decision.time,
                "institution": decision.institution,
                "topics": list(decision.topics.all()),
                "source_url": decision.source_url,
                "discussion_address": decision.discussion_url,
            }
        )
    else:
        form = DecisionForm(initial={"date": timezone.localdate()})
    return render(request, "decisions/form.html", {"form": form, "decision": decision})


@login_if_anonymous
def decision_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter the result (staff and organisers): its own page for a clear error summary; the
    detail page carries the same form."""
    decision = permissions.access_decision(request.user, pk, for_write=True)
    if request.method == "POST":
        form = DecideForm(request.POST)
        if form.is_valid():
            try:
                services.decision_decide(
                    actor=request.user,
                    decision=decision,
                    result=form.cleaned_data["result"],
                    result_url=form.cleaned_data["result_url"],
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("The result has been saved; followers of its topics are told.")
                )
                return redirect(decision)
    else:
        form = DecideForm(initial={"result": decision.result, "result_url": decision.result_url})
    return render(request, "decisions/decide.html", {"form": form, "decision": decision})


@login_required
@require_POST
def topic_follow(request: HttpRequest, slug: str) -> HttpResponse:
    topic = permissions.access_topic(request.user, slug)
    form = FollowForm(request.POST)
    if not form.is_valid():
        if wants_json(request):
            return JsonResponse({"error": _("Please use the button.")}, status=400)
        messages.error(request, _("Please use the button."))
        return redirect("decisions:index")
    following = services.topic_follow(
        actor=request.user, topic=topic, follow=form.cleaned_data["follow"]
    )
    if following:
        text = _("You follow “%(topic)s”: you will be told of new decisions and results.")
    else:
        text = _("You no longer follow “%(topic)s”.")
    text = text % {"topic": topic.name}
    if wants_json(request):
        return JsonResponse({"following": following, "message": text})
    messages.success(request, text)
    next_url = request.POST.get("next", "")
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("decisions:index")
    # A path, never a view name: redirect() would try to reverse anything else.
    return HttpResponseRedirect(next_url)
