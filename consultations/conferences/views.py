"""The conference page (minimal stand-in from the speaker queue's branch; the pages engineer's
view replaces it). It shows the current item and includes the queue's panel."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from consultations.conferences.permissions import access_conference, can_chair


def conference(request: HttpRequest, slug: str) -> HttpResponse:
    conference = access_conference(request.user, slug)
    return render(
        request,
        "conferences/conference.html",
        {"conference": conference, "is_chair": can_chair(request.user, conference)},
    )
