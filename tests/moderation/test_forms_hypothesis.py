"""Every form and POST endpoint of moderation, with hostile input (properties: tests/hostile.py).

Personas (tests/hostile_world.py): alice reports and appeals; mo moderates the world's forum and
acts on its posts, threads, cases, appeals and members; sam (staff) appoints and removes
moderators. Path ids are the right object's, another forum's, or nobody's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from moderation.models import REPORT_REASONS, Reason
from tests.hostile import (
    FORM_SETTINGS,
    field_value,
    foreign_ids,
    form_data,
    rolled_back,
    submit,
)
from tests.hostile_world import FormWorld, form_world  # noqa: F401 (the fixture "fw")

pytestmark = pytest.mark.django_db

REASONS = [value for value, _label in Reason.choices]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def reason_form(**more) -> st.SearchStrategy[dict]:
    return form_data(
        reason=field_value(*REASONS[:3], "insult"),
        text=field_value("Bitte sachlich bleiben."),
        next=field_value("/moderation/", "https://evil.example/", "//evil.example"),
        confirm=field_value("on"),
        case=field_value("1", "99999999999999", "-1"),
        **more,
    )


def moderator_or_not(fw: FormWorld) -> st.SearchStrategy:
    """Mostly the forum's moderator; sometimes the moderator of the other forum, or a member."""
    return st.sampled_from([fw.mo, fw.mo, fw.mo, fw.otto, fw.alice])


def ids(right: int, *others: int) -> st.SearchStrategy[int]:
    return st.one_of(st.just(right), st.sampled_from(others or (right,)), foreign_ids)


def assert_next_stays_here(response_url: str | None) -> None:
    assert not response_url or "evil.example" not in response_url


# --- participants: report and appeal ------------------------------------------------------------


@FORM_SETTINGS
@given(data=st.data())
def test_a_report_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    values = data.draw(
        form_data(reason=field_value(*REPORT_REASONS), text=field_value("Beleidigend."))
    )
    pk = data.draw(ids(fw.base.post.pk, fw.other_post.pk, fw.own_post.pk, fw.own_hidden.pk))
    with rolled_back():
        url = reverse("moderation:report", kwargs={"pk": pk})
        submit(fw.client(fw.base.people["guest"]), url, values)


@FORM_SETTINGS
@given(data=st.data())
def test_an_appeal_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    values = data.draw(form_data(text=field_value("Das war sachlich.")))
    pk = data.draw(ids(fw.own_hidden.pk, fw.own_post.pk, fw.appeal.post_id, fw.other_post.pk))
    with rolled_back():
        submit(fw.client(fw.alice), reverse("moderation:appeal", kwargs={"pk": pk}), values)


# --- moderators: posts, cases, appeals ----------------------------------------------------------

POST_ACTIONS = ["ausblenden", "wiederherstellen", "freigeben", "ablehnen", "unbekannt"]


@FORM_SETTINGS
@given(data=st.data())
def test_a_post_action_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    values = data.draw(reason_form())
    action = data.draw(st.sampled_from(POST_ACTIONS))
    pk = data.draw(ids(fw.base.post.pk, fw.own_hidden.pk, fw.other_post.pk))
    actor = data.draw(moderator_or_not(fw))
    with rolled_back():
        url = reverse("moderation:post_action", kwargs={"pk": pk, "action": action})
        outcome = submit(fw.client(actor), url, values)
        assert not outcome.changed or (action != "unbekannt" and actor != fw.alice)


@FORM_SETTINGS
@given(data=st.data())
def test_a_case_action_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    values = data.draw(reason_form())
    action = data.draw(st.sampled_from(["uebernehmen", "verwerfen", "unbekannt"]))
    pk = data.draw(ids(fw.case.pk, fw.appeal.case_id))
    actor = data.draw(moderator_or_not(fw))
    with rolled_back():
        url = reverse("moderation:case_action", kwargs={"pk": pk, "action": action})
        outcome = submit(fw.client(actor), url, values)
        assert not outcome.changed or actor != fw.alice


@FORM_SETTINGS
@given(data=st.data())
def test_deciding_an_appeal_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(
    fw, data
):
    values = data.draw(reason_form(decision=field_value("restore", "keep")))
    pk = data.draw(ids(fw.appeal.pk))
    actor = data.draw(moderator_or_not(fw))
    with rolled_back():
        url = reverse("moderation:appeal_decide", kwargs={"pk": pk})
        outcome = submit(fw.client(actor), url, values)
        assert not outcome.changed or actor != fw.alice


# --- moderators: threads and members ------------------------------------------------------------


@FORM_SETTINGS
@given(data=st.data())
def test_a_thread_action_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    action = data.draw(
        st.sampled_from(["sperren", "entsperren", "anheften", "loesen", "verschieben", "x"])
    )
    forum_ids = [fw.base.other_forum.pk, fw.forum.pk]
    values = data.draw(reason_form(forum=field_value(*forum_ids)))
    pk = data.draw(ids(fw.thread.pk, fw.other_thread.pk))
    actor = data.draw(moderator_or_not(fw))
    with rolled_back():
        url = reverse("moderation:thread_action", kwargs={"pk": pk, "action": action})
        outcome = submit(fw.client(actor), url, values)
        assert not outcome.changed or actor != fw.alice


@FORM_SETTINGS
@given(data=st.data())
def test_a_member_action_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    action = data.draw(
        st.sampled_from(["stummschalten", "stummschaltung-aufheben", "entfernen", "x"])
    )
    values = data.draw(
        reason_form(
            duration=field_value("1h", "24h", "7d", "custom"),
            until=field_value("2026-01-01 12:00", "2099-01-01T12:00", "01.01.2099 12:00"),
        )
    )
    people = fw.base.people
    member_pk = data.draw(
        ids(fw.bob.pk, people["muted member"].pk, fw.sam.pk, fw.mo.pk, people["guest"].pk)
    )
    slug = data.draw(st.sampled_from(["mieten-welt", "gesundheit-welt", "gibt-es-nicht"]))
    actor = data.draw(moderator_or_not(fw))
    with rolled_back():
        url = reverse(
            "moderation:member_action",
            kwargs={"slug": slug, "member_pk": member_pk, "action": action},
        )
        outcome = submit(fw.client(actor), url, values)
        assert not outcome.changed or actor != fw.alice


# --- staff: the forum's moderators --------------------------------------------------------------


@FORM_SETTINGS
@given(data=st.data())
def test_appointing_a_moderator_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(
    fw, data
):
    values = data.draw(
        form_data(email=field_value("bob@example.org", "BOB@example.org", "nobody@example.org"))
    )
    slug = data.draw(st.sampled_from(["mieten-welt", "gesundheit-welt", "gibt-es-nicht"]))
    with rolled_back():
        url = reverse("moderation:moderators", kwargs={"slug": slug})
        submit(fw.client(fw.sam), url, values)


@FORM_SETTINGS
@given(data=st.data())
def test_revoking_a_moderator_with_hostile_ids_never_crashes_and_a_refusal_changes_nothing(
    fw, data
):
    member_pk = data.draw(ids(fw.mo.pk, fw.otto.pk, fw.alice.pk))
    slug = data.draw(st.sampled_from(["mieten-welt", "gesundheit-welt", "gibt-es-nicht"]))
    values = data.draw(form_data(next=field_value("/")))
    with rolled_back():
        url = reverse("moderation:moderator_revoke", kwargs={"slug": slug, "member_pk": member_pk})
        submit(fw.client(fw.sam), url, values)


# --- and a valid submission still works ---------------------------------------------------------


def test_valid_submissions_of_every_moderation_form_still_change_what_they_should(fw):
    slug = fw.forum.slug
    reason = {"reason": "insult", "text": "Bitte sachlich."}
    in_a_month = timezone.localtime() + timedelta(days=30)
    cases = [
        (fw.base.people["guest"], reverse("moderation:report", args=[fw.own_post.pk]), reason),
        (fw.alice, reverse("moderation:appeal", args=[fw.own_hidden.pk]), {"text": "Sachlich."}),
        (
            fw.mo,
            reverse("moderation:post_action", args=[fw.base.post.pk, "ausblenden"]),
            {**reason, "confirm": "on"},  # a destructive action asks once
        ),
        (
            fw.mo,
            reverse("moderation:post_action", args=[fw.own_hidden.pk, "wiederherstellen"]),
            reason,
        ),
        (fw.mo, reverse("moderation:case_action", args=[fw.case.pk, "uebernehmen"]), {}),
        (fw.mo, reverse("moderation:case_action", args=[fw.case.pk, "verwerfen"]), reason),
        (
            fw.mo,
            reverse("moderation:appeal_decide", args=[fw.appeal.pk]),
            {**reason, "decision": "keep"},
        ),
        (fw.mo, reverse("moderation:thread_action", args=[fw.thread.pk, "sperren"]), reason),
        (fw.mo, reverse("moderation:thread_action", args=[fw.thread.pk, "anheften"]), reason),
        (
            fw.mo,
            reverse("moderation:member_action", args=[slug, fw.bob.pk, "stummschalten"]),
            {**reason, "duration": "custom", "until": f"{in_a_month:%Y-%m-%d %H:%M}"},
        ),
        (
            fw.mo,
            reverse(
                "moderation:member_action",
                args=[slug, fw.base.people["muted member"].pk, "stummschaltung-aufheben"],
            ),
            reason,
        ),
        (fw.sam, reverse("moderation:moderators", args=[slug]), {"email": "BOB@example.org"}),
        (fw.sam, reverse("moderation:moderator_revoke", args=[slug, fw.mo.pk]), {}),
    ]
    for member, url, data in cases:
        with rolled_back():
            outcome = submit(fw.client(member), url, data)
            assert outcome.changed, (url, outcome)
            assert outcome.successes and not outcome.errors, (url, outcome)
