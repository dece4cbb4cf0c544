"""Advisory forum pages: the index, a forum's page, and the organisers' forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from consultations.advisory import figures, permissions, selectors, services
from consultations.advisory.forms import AdvisoryForm, MeetingForm, OrganisationForm, PeriodForm
from consultations.advisory.models import Meeting, Organisation
from consultations.venues import ACCESS_FEATURES
from forums import permissions as forum_permissions
from forums import selectors as forum_selectors
from forums.errors import ServiceError
from forums.models import Forum
from forums.views import login_if_anonymous


@login_if_anonymous
def advisory_index(request: HttpRequest) -> HttpResponse:
    advisories = selectors.advisory_index(user=request.user)
    return render(request, "advisory/index.html", {"advisories": advisories})


@login_if_anonymous
def advisory_detail(request: HttpRequest, slug: str) -> HttpResponse:
    advisory = permissions.access_advisory(request.user, slug)
    forum = advisory.forum
    threads = forum_selectors.forum_threads(user=request.user, forum=forum)
    page = Paginator(threads, forum_selectors.THREADS_PER_PAGE).get_page(request.GET.get("page"))
    can_start = forum.state == Forum.State.OPEN and forum_permissions.can_participate(
        request.user, forum
    )
    return render(
        request,
        "advisory/detail.html",
        {
            "advisory": advisory,
            "forum": forum,
            "meetings": selectors.advisory_page(advisory=advisory),
            "show_video": permissions.can_enter_video(request.user, advisory),
            "can_organise": permissions.can_organise(request.user, advisory),
            "page_obj": page,
            "threads": page.object_list,
            "can_start": can_start,
        },
    )


@login_if_anonymous
def advisory_edit(request: HttpRequest, slug: str) -> HttpResponse:
    advisory = permissions.access_advisory(request.user, slug, organise=True)
    topics = apps.get_model("decisions", "Topic").objects.all()
    if request.method == "POST":
        form = AdvisoryForm(request.POST, topics=topics)
        if form.is_valid():
            try:
                services.advisory_update(
                    actor=request.user,
                    advisory=advisory,
                    topic=form.cleaned_data["topic"],
                    hold_guest_posts=form.cleaned_data["hold_guest_posts"],
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The advisory forum has been changed."))
                return redirect(advisory)
    else:
        form = AdvisoryForm(
            initial={"topic": advisory.topic, "hold_guest_posts": advisory.forum.hold_guest_posts},
            topics=topics,
        )
    return render(request, "advisory/edit.html", {"advisory": advisory, "form": form})


@login_if_anonymous
def advisory_figures(request: HttpRequest, slug: str) -> HttpResponse:
    """Participation figures (organisers and staff only; see ``figures.figures_shown`` for what
    is never shown). A guest of the forum, like a member, gets 403: they may see the forum, so
    the answer tells them nothing new."""
    advisory = permissions.access_advisory(request.user, slug, organise=True)
    period = figures.period_of(request.GET.get("zeitraum"))
    since = figures.period_start(period)
    return render(
        request,
        "advisory/figures.html",
        {
            "advisory": advisory,
            "forum": advisory.forum,
            "form": PeriodForm(initial={"zeitraum": period}),
            "period_label": figures.PERIODS[period][1],
            "since": since,
            "figures": figures.advisory_figures(advisory=advisory, since=since),
        },
    )


def object_or_404(queryset: Any, pk: int) -> Any:
    """The row ``pk`` of ``queryset`` (the forum's own meetings, organisations, links, uses), or
    Http404: one of another forum is as missing as one that never was."""
    found = queryset.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if found is None:
        raise Http404
    return found


def _aware(day: Any, time: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time))


@login_if_anonymous
def meeting_form(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Add a meeting (``pk`` None) or change one; organisers and staff only."""
    advisory = permissions.access_advisory(request.user, slug, organise=True)
    meeting: Meeting | None = None if pk is None else object_or_404(advisory.meetings, pk)
    conferences = services.organised_conferences(
        request.user, keep=meeting.conference_id if meeting else None
    )
    if request.method == "POST":
        form = MeetingForm(request.POST, conferences=conferences)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                data["starts_at"] = _aware(data.pop("date"), data.pop("starts"))
                data["ends_at"] = _aware(form.cleaned_data["date"], data.pop("ends"))
            except (OverflowError, ValueError):
                form.add_error("date", _("Please give a date between 2000 and 2100."))
            else:
                try:
                    if meeting is None:
                        services.meeting_create(actor=request.user, advisory=advisory, **data)
                        messages.success(request, _("The meeting has been added."))
                    else:
                        services.meeting_update(actor=request.user, meeting=meeting, **data)
                        messages.success(request, _("The meeting has been changed."))
                except ServiceError as error:
                    form.add_error(None, error.message)
                else:
                    return redirect(advisory)
    elif meeting is not None:
        starts = timezone.localtime(meeting.starts_at)
        initial = {name: getattr(meeting, name) for name in ACCESS_FEATURES}
        initial.update(
            title=meeting.title,
            date=starts.date(),
            starts=starts.time(),
            ends=timezone.localtime(meeting.ends_at).time(),
            venue_name=meeting.venue_name,
            venue_address=meeting.venue_address,
            video_url=meeting.video_url,
            access_notes=meeting.access_notes,
            conference=meeting.conference_id,
        )
        form = MeetingForm(initial=initial, conferences=conferences)
    else:
        form = MeetingForm(conferences=conferences)
    return render(
        request,
        "advisory/meeting_form.html",
        {"advisory": advisory, "meeting": meeting, "form": form},
    )


@login_if_anonymous
def organisation_form(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Add an organisation (``pk`` None) or change one; organisers and staff only."""
    advisory = permissions.access_advisory(request.user, slug, organise=True)
    organisation: Organisation | None = (
        None if pk is None else object_or_404(advisory.organisations, pk)
    )
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                if organisation is None:
                    services.organisation_create(
                        actor=request.user, advisory=advisory, **form.cleaned_data
                    )
                    messages.success(request, _("The organisation has been added."))
                else:
                    services.organisation_update(
                        actor=request.user, organisation=organisation, **form.cleaned_data
                    )
                    messages.success(request, _("The organisation has been changed."))
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                return redirect(advisory)
    elif organisation is not None:
        form = OrganisationForm(
            initial={
                "name": organisation.name,
                "description": organisation.description,
                "url": organisation.url,
                "badge_label": organisation.badge_label,
            }
        )
    else:
        form = OrganisationForm()
    return render(
        request,
        "advisory/organisation_form.html",
        {"advisory": advisory, "organisation": organisation, "form": form},
    )
