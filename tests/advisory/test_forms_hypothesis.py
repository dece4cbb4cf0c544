"""The organisers' forms with hostile input (properties: tests/hostile.py): sizes, NUL,
javascript: and data: links, impossible dates and times, ids beyond 64 bits. Every answer is a
form error changing nothing, or one row written with a success message; never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import example, given

from consultations.advisory.models import Meeting, Organisation
from tests.hostile import FORM_SETTINGS, client_of, field_value, form_data, rolled_back, submit

pytestmark = pytest.mark.django_db

LINKS = [
    "https://kottiundco.net/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://example.org/",
    "//evil.example/",
    "https://",
    "http://[::1",
]

ORGANISATION = {"name": "Kotti & Co", "url": "https://kottiundco.net/", "badge_label": "Initiative"}
MEETING = {
    "title": "Treffen",
    "date": "2027-03-24",
    "starts": "18:00",
    "ends": "21:00",
    "venue_name": "Nachbarschaftshaus",
}


@FORM_SETTINGS
@given(
    data=form_data(
        name=field_value("Kotti & Co", "x" * 200),
        description=field_value("Initiative", ""),
        url=field_value(*LINKS, ""),
        badge_label=field_value("Initiative: Kotti & Co", ""),
    )
)
@example(data=ORGANISATION)
def test_the_organisation_form_never_crashes_and_a_refusal_writes_nothing(advisory, mo, data):
    client = client_of(mo)
    with rolled_back():
        before = Organisation.objects.count()
        outcome = submit(
            client, reverse("advisory:organisation_create", args=[advisory.forum.slug]), data
        )
        after = list(Organisation.objects.order_by("pk"))
        if data == ORGANISATION:
            assert outcome.changed
        if outcome.changed:
            assert len(after) == before + 1
            organisation = after[-1]
            assert organisation.url == "" or organisation.url.startswith(("http://", "https://"))
            assert "\x00" not in organisation.name + organisation.description
        else:
            assert len(after) == before


@FORM_SETTINGS
@given(
    data=form_data(
        title=field_value("Treffen", "x" * 200),
        date=field_value("2027-03-24", "24.03.2027", "1999-12-31", "2101-01-01", "2027-02-30"),
        starts=field_value("18:00", "24:00", "10:61"),
        ends=field_value("21:00", "17:00", ""),
        venue_name=field_value("Nachbarschaftshaus", ""),
        video_url=field_value(*LINKS, ""),
        step_free=field_value("on", ""),
        conference=field_value("", "0", "-1", "²", str(2**63), str(2**64)),
    )
)
@example(data=MEETING)
def test_the_meeting_form_never_crashes_and_a_refusal_writes_nothing(advisory, mo, data):
    client = client_of(mo)
    with rolled_back():
        before = Meeting.objects.count()
        outcome = submit(
            client, reverse("advisory:meeting_create", args=[advisory.forum.slug]), data
        )
        after = list(Meeting.objects.order_by("pk"))
        if data == MEETING:
            assert outcome.changed
        if outcome.changed:
            assert len(after) == before + 1
            meeting = after[-1]
            assert meeting.ends_at > meeting.starts_at
            assert meeting.video_url == "" or meeting.video_url.startswith(("http://", "https://"))
        else:
            assert len(after) == before


@FORM_SETTINGS
@given(data=form_data(topic=field_value("", "0", "-1", "²", str(2**63), str(2**64), "abc")))
def test_the_topic_form_never_crashes(advisory, mo, data):
    client = client_of(mo)
    with rolled_back():
        submit(client, reverse("advisory:edit", args=[advisory.forum.slug]), data)
