"""The tracker's pages: the overview by status and chapter (a no-JS GET filter), and a
commitment with its history, its thread and the assessment form for those who may assess."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consultations.conferences.forms import AssessmentForm, TrackerFilterForm
from consultations.conferences.tracker import selectors, services
from forums.errors import ServiceError


def _require_viewer(request: HttpRequest) -> None:
    if not selectors.can_view_tracker(request.user):
        raise PermissionDenied


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    everything = selectors.overview()
    form = TrackerFilterForm(request.GET or None, chapters=[c for c, _n in everything.chapters])
    status = chapter = ""
    if form.is_bound and form.is_valid():
        status, chapter = form.cleaned_data["status"], form.cleaned_data["chapter"]
    data = selectors.overview(status=status, chapter=chapter) if status or chapter else everything
    chapters: dict[str, list] = {}
    for commitment in data.commitments:
        chapters.setdefault(commitment.chapter, []).append(commitment)
    return render(
        request,
        "conferences/tracker/overview.html",
        {
            "form": form,
            "overview": everything,
            "by_chapter": list(chapters.items()),
            "shown": len(data.commitments),
            "filtered": bool(status or chapter),
        },
    )


@login_required
def commitment(request: HttpRequest, pk: int) -> HttpResponse:
    _require_viewer(request)
    found = selectors.commitment_detail(pk)
    if found is None:
        raise Http404
    may_assess = services.can_assess(request.user)
    return render(
        request,
        "conferences/tracker/commitment.html",
        {
            "commitment": found,
            "can_assess": may_assess,
            "form": AssessmentForm(initial={"status": found.status}) if may_assess else None,
        },
    )


@login_required
@require_POST
def assess(request: HttpRequest, pk: int) -> HttpResponse:
    _require_viewer(request)
    found = selectors.commitment_detail(pk)
    if found is None:
        raise Http404
    if not services.can_assess(request.user):
        raise PermissionDenied
    form = AssessmentForm(request.POST)
    if form.is_valid():
        try:
            services.commitment_assess(
                actor=request.user,
                commitment=found,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as error:
            messages.error(request, error.message)
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your assessment has been recorded."))
            return redirect("conferences:commitment", pk=found.pk)
    found = selectors.commitment_detail(pk)
    response = render(
        request,
        "conferences/tracker/commitment.html",
        {"commitment": found, "can_assess": True, "form": form},
    )
    return response
