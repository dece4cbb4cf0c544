"""The speaker queue's pages and actions: thin views over the queue's services.

Every action is a plain form POST that works without JavaScript (POST, then redirect back to the
conference page with a message); queue.js may send the same form with ``fetch`` and an
``Accept: application/json`` header and gets ``{"ok", "message"}`` instead. The forms with text
(asking to speak, adding a hall speaker, a sub-list) have a page of their own, which shows a
refusal with the error summary and answers 400. Rights are checked by the services on every
request; the views fetch through ``access_conference`` (404 for those who may not view).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from consultations.conferences.models import AgendaItem, Conference
from consultations.conferences.permissions import access_conference, is_registered
from consultations.conferences.queue import selectors, services
from consultations.conferences.queue.forms import (
    AskForm,
    EntryActionForm,
    HallSpeakerForm,
    ListActionForm,
    SubListForm,
)
from consultations.conferences.queue.models import SpeakRequest
from consultations.conferences.queue.panel import panel_context
from deliberation.fetch import wants_json
from forums.errors import ServiceError

View = Callable[..., HttpResponse]


def _login_if_anonymous(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (Http404, PermissionDenied):
            if request.user.is_authenticated:
                raise
            return redirect_to_login(request.get_full_path())

    return wrapper


def _back(conference: Conference) -> str:
    return f"{conference.get_absolute_url()}#redeliste"


def _done(request: HttpRequest, conference: Conference, text: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, "message": text})
    messages.success(request, text)
    return redirect(_back(conference))


def _refused(request: HttpRequest, conference: Conference, text: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": False, "message": text}, status=400)
    messages.error(request, text)
    return redirect(_back(conference))


def _item(conference: Conference, item_pk: int) -> AgendaItem:
    return get_object_or_404(AgendaItem, pk=item_pk, conference=conference)


def _form_page(
    request: HttpRequest,
    template: str,
    conference: Conference,
    item: AgendaItem,
    form: Any,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    if status >= 400 and wants_json(request):
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return JsonResponse({"ok": False, "message": " ".join(errors)}, status=status)
    context = {"conference": conference, "item": item, "form": form, **extra}
    return render(request, template, context, status=status)


@_login_if_anonymous
def ask(request: HttpRequest, slug: str, item_pk: int) -> HttpResponse:
    """Ask to speak on an item: its own page (no JavaScript, or a refusal), or the panel's form."""
    conference = access_conference(request.user, slug)
    item = _item(conference, item_pk)
    lanes = selectors.lanes_of(item)
    template = "conferences/queue/ask.html"
    if request.method != "POST":
        form = AskForm(lanes=lanes)
        return _form_page(
            request, template, conference, item, form, may=is_registered(request.user, conference)
        )
    form = AskForm(request.POST, lanes=lanes)
    if not form.is_valid():
        return _form_page(request, template, conference, item, form, status=400, may=True)
    try:
        services.speak_request_create(
            actor=request.user,
            conference=conference,
            item=item,
            kind=form.cleaned_data["kind"],
            sublist=form.cleaned_data.get("sublist") or "",
        )
    except ServiceError as error:
        form.add_error(None, error.message)
        return _form_page(request, template, conference, item, form, status=400, may=True)
    return _done(request, conference, _("You are on the speaker list."))


@_login_if_anonymous
def hall_speaker(request: HttpRequest, slug: str, item_pk: int) -> HttpResponse:
    """The chair adds a hall speaker who has no account, by name."""
    conference = access_conference(request.user, slug, chair=True)
    item = _item(conference, item_pk)
    lanes = selectors.lanes_of(item)
    template = "conferences/queue/hall_speaker.html"
    if request.method != "POST":
        return _form_page(request, template, conference, item, HallSpeakerForm(lanes=lanes))
    form = HallSpeakerForm(request.POST, lanes=lanes)
    if form.is_valid():
        try:
            entry = services.speak_request_add_hall(
                actor=request.user,
                conference=conference,
                item=item,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                sublist=form.cleaned_data.get("sublist") or "",
            )
        except ServiceError as error:
            form.add_error("name" if error.code == "too_long" else None, error.message)
        else:
            return _done(
                request, conference, _("%(name)s is on the speaker list.") % {"name": entry.name}
            )
    return _form_page(request, template, conference, item, form, status=400)


@_login_if_anonymous
def sublists(request: HttpRequest, slug: str, item_pk: int) -> HttpResponse:
    """The chair sees the item's sub-lists and adds one (for this item or every item)."""
    conference = access_conference(request.user, slug, chair=True)
    item = _item(conference, item_pk)
    template = "conferences/queue/sublists.html"
    lanes = selectors.lanes_of(item)
    if request.method != "POST":
        return _form_page(request, template, conference, item, SubListForm(), lanes=lanes)
    form = SubListForm(request.POST)
    if form.is_valid():
        try:
            services.sublist_create(
                actor=request.user,
                conference=conference,
                item=item if form.cleaned_data["scope"] == "item" else None,
                name=form.cleaned_data["name"],
                short=form.cleaned_data["short"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The list has been added."))
            return redirect(request.path)
    return _form_page(request, template, conference, item, form, status=400, lanes=lanes)


@require_POST
@_login_if_anonymous
def list_action(request: HttpRequest, slug: str, item_pk: int) -> HttpResponse:
    """The chair's buttons on the whole list: call next, close, reopen, first-time priority."""
    conference = access_conference(request.user, slug)
    item = _item(conference, item_pk)
    form = ListActionForm(request.POST)
    if not form.is_valid():
        return _refused(request, conference, _("This action is not known."))
    action = form.cleaned_data["action"]
    common = {"actor": request.user, "conference": conference, "item": item}
    try:
        if action == "call_next":
            seconds = form.cleaned_data["seconds"]
            called = services.speak_request_call_next(**common, seconds=seconds)
            if called is None:
                text = _("Nobody is waiting.")
            else:
                name = called.member.display_name if called.member_id else called.name
                text = _("%(name)s has the floor.") % {"name": name}
        elif action in ("close", "open"):
            services.speaker_list_set_open(**common, is_open=action == "open")
            text = _("The list is open.") if action == "open" else _("The list is closed.")
        else:
            services.speaker_list_set_priority(**common, first_time=action == "priority_on")
            text = (
                _("First-time speakers now go first.")
                if action == "priority_on"
                else _("The list is called in plain order.")
            )
    except ServiceError as error:
        return _refused(request, conference, error.message)
    return _done(request, conference, text)


@require_POST
@_login_if_anonymous
def entry_action(request: HttpRequest, slug: str) -> HttpResponse:
    """One entry's buttons: withdraw (its member), up, down, remove, done, set time (the chair)."""
    conference = access_conference(request.user, slug)
    form = EntryActionForm(request.POST)
    if not form.is_valid():
        errors = form.errors.get("seconds")
        return _refused(
            request, conference, str(errors[0]) if errors else _("This action is not known.")
        )
    entry = (
        SpeakRequest.objects.select_related("item__conference", "member")
        .filter(pk=form.cleaned_data["entry"], item__conference=conference)
        .first()
    )
    if entry is None:
        return _refused(request, conference, _("This request is no longer on the list."))
    entry.item.conference = conference  # one permission cache for the request
    action = form.cleaned_data["action"]
    try:
        if action == "withdraw":
            services.speak_request_withdraw(actor=request.user, entry=entry)
            text = _("Your request has been withdrawn.")
        elif action in ("up", "down"):
            services.speak_request_move(actor=request.user, entry=entry, direction=action)
            text = _("The list has been reordered.")
        elif action == "remove":
            services.speak_request_remove(actor=request.user, entry=entry)
            text = _("The request has been removed.")
        elif action == "finish":
            services.speak_request_finish(actor=request.user, entry=entry)
            text = _("The turn has ended.")
        else:
            services.speak_request_set_time(
                actor=request.user, entry=entry, seconds=form.cleaned_data["seconds"]
            )
            text = _("The speaking time has been changed.")
    except ServiceError as error:
        return _refused(request, conference, error.message)
    return _done(request, conference, text)


@require_GET
@_login_if_anonymous
def snapshot(request: HttpRequest, slug: str, item_pk: int) -> HttpResponse:
    """The item's public queue as JSON (the same as ``queue.changed`` carries)."""
    conference = access_conference(request.user, slug)
    item = _item(conference, item_pk)
    return JsonResponse(selectors.queue_snapshot(item))


@require_GET
@_login_if_anonymous
def panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The panel's HTML for the current item (queue.js fetches it when the item changes)."""
    conference = access_conference(request.user, slug)
    context = panel_context(request, conference)
    return HttpResponse(render_to_string("conferences/queue/_queue.html", context, request))


#: The polls' include point on the projector (a closed poll's result).
POLLS_PROJECTOR = "conferences/polls/_projector.html"


@require_GET
@_login_if_anonymous
def projector(request: HttpRequest, slug: str) -> HttpResponse:
    """The hall's projector view: current item, speaker and countdown, the next three."""
    conference = access_conference(request.user, slug)
    context = panel_context(request, conference)
    context["projector"] = True
    context["polls_projector"] = POLLS_PROJECTOR
    return render(request, "conferences/queue/projector.html", context)
