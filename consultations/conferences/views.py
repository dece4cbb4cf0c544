"""Conference pages: thin views that fetch through ``permissions.access_conference`` and write
through ``services``. Everything works without JavaScript (plain forms, POST-redirect-GET, a
message for every outcome); conference.js, queue.js and polls.js only keep the page live."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consultations.conferences import calendar, permissions, selectors, services
from consultations.conferences.forms import AgendaItemForm, PhaseForm, RegistrationForm
from consultations.conferences.models import AgendaItem, Conference, Registration
from forums.errors import ServiceError
from forums.views import login_if_anonymous


def conference_list(request: HttpRequest) -> HttpResponse:
    lists = selectors.conference_lists(user=request.user)
    return render(request, "conferences/list.html", {"lists": lists})


def conference_calendar(request: HttpRequest) -> HttpResponse:
    conferences = selectors.visible_conferences(user=request.user).order_by("starts_at")
    body = calendar.feed(conferences, base_url=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="konferenzen.ics"'
    return response


@login_if_anonymous
def conference_detail(request: HttpRequest, slug: str) -> HttpResponse:
    conference = permissions.access_conference(request.user, slug)
    items = selectors.agenda(conference)
    registration = selectors.registration_of(request.user, conference)
    permissions.remember_registration(request.user, conference, registration)
    is_chair = permissions.can_chair(request.user, conference)
    is_organiser = permissions.can_organise(request.user, conference)
    current = next((i for i in items if i.pk == conference.current_item_id), None)
    context = {
        "conference": conference,
        "agenda": items,
        "current": current,
        "schedule": selectors.schedule(conference, items),
        "registration": registration,
        "can_register": permissions.can_register(request.user, conference),
        "is_chair": is_chair,
        "is_organiser": is_organiser,
        "show_video": permissions.can_enter_video(request.user, conference),
        "written_open": services.written_discussion_open(conference),
        "phase_form": PhaseForm(initial={"phase": conference.phase}) if is_organiser else None,
    }
    return render(request, "conferences/conference.html", context)


@login_required
def registration(request: HttpRequest, slug: str) -> HttpResponse:
    conference = permissions.access_conference(request.user, slug)
    if not permissions.can_register(request.user, conference):
        if request.user.is_guest:
            messages.error(request, _("Guests cannot register for a conference."))
        else:
            messages.error(request, _("Only members can register for a conference."))
        return redirect(conference)
    existing = selectors.registration_of(request.user, conference)
    if request.method == "POST":
        form = RegistrationForm(request.POST, conference=conference)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.registration_save(
                    actor=request.user,
                    conference=conference,
                    attendance=data["attendance"],
                    childcare=data.get("childcare", False),
                    children_ages=data.get("children_ages", []),
                    accessibility_needs=data["accessibility_needs"],
                )
            except ServiceError as error:
                messages.error(request, error.message)
                form.add_error(None, error.message)
            else:
                if existing is None:
                    messages.success(request, _("You are registered."))
                else:
                    messages.success(request, _("Your registration has been changed."))
                return redirect(conference)
    else:
        initial = {}
        if existing is not None:
            initial = {
                "attendance": existing.attendance,
                "childcare": existing.childcare,
                "children_ages": ", ".join(str(a) for a in existing.children_ages),
                "accessibility_needs": existing.accessibility_needs,
            }
        form = RegistrationForm(initial=initial, conference=conference)
    return render(
        request,
        "conferences/registration.html",
        {"conference": conference, "form": form, "registration": existing},
    )


@login_required
@require_POST
def registration_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    conference = permissions.access_conference(request.user, slug)
    try:
        cancelled = services.registration_cancel(actor=request.user, conference=conference)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        if cancelled:
            messages.success(request, _("Your registration has been withdrawn."))
        else:
            messages.info(request, _("You were not registered."))
    return redirect(conference)


@login_required
def registrations(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisers' page: totals and the list with needs (organisers and staff only)."""
    conference = permissions.access_conference(request.user, slug)
    if not permissions.can_organise(request.user, conference):
        raise PermissionDenied
    return render(
        request,
        "conferences/registrations.html",
        {
            "conference": conference,
            "totals": selectors.registration_totals(conference),
            "registrations": selectors.registration_list(conference),
            "hall": Registration.Attendance.HALL,
        },
    )


@login_required
@require_POST
def phase(request: HttpRequest, slug: str) -> HttpResponse:
    conference = permissions.access_conference(request.user, slug)
    if not permissions.can_organise(request.user, conference):
        raise PermissionDenied
    form = PhaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please choose a phase."))
        return redirect(conference)
    try:
        services.conference_set_phase(
            actor=request.user, conference=conference, phase=form.cleaned_data["phase"]
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The conference is now in the phase “%(phase)s”.")
            % {"phase": Conference.Phase(conference.phase).label},
        )
    return redirect(conference)


# --- agenda -------------------------------------------------------------------------------------


def _organised(request: HttpRequest, slug: str) -> Conference:
    conference = permissions.access_conference(request.user, slug)
    if not permissions.can_organise(request.user, conference):
        raise PermissionDenied
    return conference


def _item_of(conference: Conference, pk: int) -> AgendaItem:
    return get_object_or_404(AgendaItem, pk=pk, conference=conference)


@login_required
def agenda_item_form(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Add an item (``pk`` None) or change one; organisers only."""
    conference = _organised(request, slug)
    item = _item_of(conference, pk) if pk is not None else None
    if request.method == "POST":
        form = AgendaItemForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if item is None:
                    item = services.agenda_item_create(
                        actor=request.user,
                        conference=conference,
                        title=data["title"],
                        description=data["description"],
                        planned_minutes=data["planned_minutes"],
                        speaking_seconds=data["speaking_seconds"],
                    )
                    item.conference = conference
                    # the new item's commitments, through the same writer as an edit
                    if data["commitments"]:
                        services.agenda_item_update(
                            actor=request.user,
                            item=item,
                            title=item.title,
                            description=item.description,
                            planned_minutes=item.planned_minutes,
                            speaking_seconds=item.speaking_seconds,
                            commitments=data["commitments"],
                        )
                    messages.success(request, _("The item has been added to the agenda."))
                else:
                    services.agenda_item_update(
                        actor=request.user,
                        item=item,
                        title=data["title"],
                        description=data["description"],
                        planned_minutes=data["planned_minutes"],
                        speaking_seconds=data["speaking_seconds"],
                        commitments=data["commitments"],
                    )
                    messages.success(request, _("The item has been changed."))
            except ServiceError as error:
                messages.error(request, error.message)
                form.add_error(None, error.message)
            else:
                return redirect(f"{conference.get_absolute_url()}#agenda")
    elif item is not None:
        form = AgendaItemForm(
            initial={
                "title": item.title,
                "description": item.description,
                "planned_minutes": item.planned_minutes,
                "speaking_seconds": item.speaking_seconds,
                "commitments": list(item.commitments.all()),
            }
        )
    else:
        form = AgendaItemForm()
    return render(
        request,
        "conferences/agenda_item_form.html",
        {"conference": conference, "form": form, "item": item},
    )


@login_required
@require_POST
def agenda_item_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    conference = _organised(request, slug)
    item = _item_of(conference, pk)
    try:
        services.agenda_item_move(
            actor=request.user, item=item, direction=request.POST.get("direction", "")
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The agenda's order has been changed."))
    return redirect(f"{conference.get_absolute_url()}#agenda")


@login_required
@require_POST
def agenda_current(request: HttpRequest, slug: str) -> HttpResponse:
    """The chair's buttons: "make current" (``item``), "next item" (``next``), or none."""
    conference = permissions.access_conference(request.user, slug, chair=True)
    try:
        if "next" in request.POST:
            services.agenda_next(actor=request.user, conference=conference)
        else:
            raw = request.POST.get("item", "")
            item = None
            if raw:
                if not raw.isascii() or not raw.isdigit():
                    raise Http404
                item = _item_of(conference, int(raw))
            services.agenda_set_current(actor=request.user, conference=conference, item=item)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        conference.refresh_from_db()
        if conference.current_item is not None:
            messages.success(
                request,
                _("Current item: %(title)s") % {"title": conference.current_item.title},
            )
        else:
            messages.success(request, _("No item is current now."))
    return redirect(f"{conference.get_absolute_url()}#current-item")
