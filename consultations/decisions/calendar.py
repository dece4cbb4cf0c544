"""The decisions as an iCalendar feed (RFC 5545), written by the ``icalendar`` package, like the
conferences' ``kalender.ics``. A decision without a time is an all-day event on its date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from consultations.decisions.models import Decision, Topic
from deliberation import clock

#: How long a timed decision's event lasts in a calendar (the session it falls in).
TIMED_EVENT_LENGTH = timedelta(hours=1)


def feed(decisions: Iterable[Decision], *, base_url: str, topic: Topic | None = None) -> bytes:
    """One VEVENT per decision; ``base_url`` makes its links and unique ids."""
    cal = Calendar()
    cal.add("prodid", "-//Mitmachen//Entscheidungskalender//DE")
    cal.add("version", "2.0")
    name = _("Decisions calendar")
    cal.add("x-wr-calname", f"{name}: {topic.name}" if topic is not None else name)
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "mitmachen"
    stamp = clock.now()
    for decision in decisions:
        event = Event()
        event.add("uid", f"decision-{decision.pk}@{host}")
        event.add("dtstamp", stamp)
        if decision.time is None:
            event.add("dtstart", decision.date)
            event.add("dtend", decision.date + timedelta(days=1))
        else:
            event.add("dtstart", decision.starts_at)
            event.add("dtend", decision.starts_at + TIMED_EVENT_LENGTH)
        prefix = _("Decided") if decision.is_decided else decision.get_institution_display()
        event.add("summary", f"{prefix}: {decision.title}")
        url = f"{base_url}{decision.get_absolute_url()}"
        event.add("url", url)
        lines = [decision.explanation]
        if decision.is_decided and decision.result:
            lines.append(f"{_('Result')}: {decision.result}")
        if decision.source_url:
            lines.append(f"{_('Source')}: {decision.source_url}")
        lines.append(url)
        event.add("description", "\n\n".join(lines))
        event.add("categories", [t.name for t in decision.topics.all()] or [_("Decision")])
        event.add("status", "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
