"""The calendar's forms with hostile input (properties: tests/hostile.py): sizes, NUL, lone
surrogates, javascript: and data: links, impossible dates and times, unknown topics, repeated
keys. Every answer is a 4xx or a form error in German changing nothing, or one decision written
with a success message; never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import example, given

from consultations.decisions.models import Decision
from tests.hostile import FORM_SETTINGS, client_of, field_value, form_data, rolled_back, submit

pytestmark = pytest.mark.django_db

LINKS = [
    "https://www.parlament-berlin.de/",
    "http://example.org/a?b=c",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:x",
    "ftp://example.org/",
    "//evil.example/",
    "https://",
    "http://[::1",
]


#: A form that must be accepted (the explicit example, so a success is always tried).
VALID = {
    "title": "Mietenschutzgesetz",
    "explanation": "Zweite Lesung.",
    "date": "24.03.2027",
    "time": "10:00",
    "institution": "parliament",
    "topics": "TOPIC",
    "source_url": "https://www.parlament-berlin.de/",
}


@pytest.fixture
def organiser_client(organiser):
    return client_of(organiser)


@FORM_SETTINGS
@given(
    data=form_data(
        title=field_value("Mietenschutzgesetz", "x" * 200),
        explanation=field_value("Zweite Lesung."),
        body=field_value("**Text**", ""),
        date=field_value("2027-03-24", "24.03.2027", "1999-12-31", "2101-01-01", "2027-02-30"),
        time=field_value("10:00", "", "24:00", "10:61"),
        institution=field_value("parliament", "government", "party", "bundestag"),
        topics=field_value("TOPIC", "0", "999999", str(2**63)),
        source_url=field_value(*LINKS, ""),
        discussion_address=field_value(
            "", "/entscheidungen/", "/foren/thema/999999/", "javascript:1"
        ),
    )
)
@example(data=VALID)
def test_the_create_form_with_hostile_fields_never_crashes_and_a_refusal_writes_nothing(
    organiser_client, topics, data
):
    topic_pk = str(topics["mieten"].pk)
    values = {
        key: (
            [topic_pk if v == "TOPIC" else v for v in value]
            if isinstance(value, list)
            else (topic_pk if value == "TOPIC" else value)
        )
        for key, value in data.items()
    }
    with rolled_back():
        before = Decision.objects.count()
        outcome = submit(organiser_client, reverse("decisions:create"), values)
        after = list(Decision.objects.all())
        if data == VALID:
            assert outcome.changed
        if outcome.changed:
            assert len(after) == before + 1
            decision = after[-1]
            assert decision.source_url == "" or decision.source_url.startswith(
                ("http://", "https://")
            )
            assert "\x00" not in decision.title and decision.topics.exists()
        else:
            assert len(after) == before


@FORM_SETTINGS
@given(
    data=form_data(
        result=field_value("Angenommen.", "x" * 20_000), result_url=field_value(*LINKS, "")
    )
)
def test_the_result_form_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(
    organiser_client, decision, data
):
    with rolled_back():
        outcome = submit(organiser_client, reverse("decisions:decide", args=[decision.pk]), data)
        decision.refresh_from_db()
        if outcome.changed:
            assert decision.status == Decision.Status.DECIDED
            assert decision.result_url == "" or decision.result_url.startswith(
                ("http://", "https://")
            )
        else:
            assert decision.status == Decision.Status.UPCOMING


@FORM_SETTINGS
@given(
    data=form_data(
        follow=field_value("1", "0"),
        next=field_value("/entscheidungen/", "https://evil.example/", "//evil.example/"),
    )
)
def test_the_follow_button_with_hostile_fields_never_crashes_or_leaves_the_site(
    alice, topics, data
):
    client = client_of(alice)
    with rolled_back():
        submit(client, reverse("decisions:follow", args=["mieten"]), data)
