"""``{% polls_panel conference %}`` and ``{% polls_projector conference %}``: the polls' partials
read what they need themselves, so the conference page and the projector only include them."""

from __future__ import annotations

from typing import Any

from django import template

from consultations.conferences.polls import selectors
from consultations.conferences.polls.forms import HallCountForm, VoteForm

register = template.Library()


@register.inclusion_tag("conferences/polls/_panel_body.html", takes_context=True)
def polls_panel(context: template.Context, conference: Any) -> dict[str, Any]:
    request = context["request"]
    user = context.get("user") or request.user
    views = selectors.poll_views(user, conference, selectors.panel_polls(conference))
    for view in views:
        view.vote_form = VoteForm(poll=view.poll, options=view.options) if view.may_vote else None
        view.hall_form = HallCountForm(poll=view.poll, options=view.options) if view.chair else None
    from consultations.conferences.permissions import can_chair

    return {
        "conference": conference,
        "polls": views,
        "chair": can_chair(user, conference),
        "request": request,
        "user": user,
        "next_url": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("conferences/polls/_projector_body.html", takes_context=True)
def polls_projector(context: template.Context, conference: Any) -> dict[str, Any]:
    request = context["request"]
    poll = selectors.latest_closed_poll(conference)
    view = None
    if poll is not None:
        view = selectors.poll_views(request.user, conference, [poll])[0]
    return {"conference": conference, "pv": view, "request": request}
