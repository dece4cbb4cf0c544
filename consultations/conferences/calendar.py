"""The conferences as an iCalendar feed (RFC 5545), written by the ``icalendar`` package."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from consultations.conferences.models import Conference
from deliberation import clock


def feed(conferences: Iterable[Conference], *, base_url: str) -> bytes:
    """One VEVENT per conference's live day; ``base_url`` makes its links and unique ids."""
    cal = Calendar()
    cal.add("prodid", "-//Mitmachen//Konferenzen//DE")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("Base conferences"))
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "mitmachen"
    stamp = clock.now()
    for conference in conferences:
        event = Event()
        event.add("uid", f"conference-{conference.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", conference.starts_at)
        event.add("dtend", conference.ends_at)
        event.add("summary", conference.title)
        address = " ".join(conference.venue_address.split())
        location = ", ".join(part for part in (conference.venue_name, address) if part)
        if location:
            event.add("location", location)
        url = f"{base_url}{conference.get_absolute_url()}"
        event.add("url", url)
        description = conference.description.strip()
        event.add("description", f"{description}\n\n{url}" if description else url)
        event.add("status", "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
