"""Moderation pages through the test client, without JavaScript.

Personas: alice and bob are members of the members' forum "mieten"; mo moderates "mieten"; max
moderates only "gesundheit" (a moderator of another forum); sam is staff. Every page and every
POST is checked for each of them: anonymous visitors are sent to log in, those without the right
get 403 or 404 and change nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deliberation import notifications
from deliberation.models import Notification
from forums.models import Forum, Post, Thread
from moderation import services
from moderation.models import Appeal, Case, ModerationAction, Mute, Reason, Report
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """The fixtures post more than a member may per minute; the rate limit is not tested here."""
    settings.POST_RATE_LIMIT = 10_000
    cache.clear()
    yield
    cache.clear()


def client_for(member) -> Client:
    client = Client()
    if member is not None:
        client.force_login(member)
    return client


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- who may see which page -----------------------------------------------------------------------

PAGES = {
    "queue": lambda f, t, p, c: reverse("moderation:queue", args=[f.slug]),
    "post": lambda f, t, p, c: reverse("moderation:post", args=[p.pk]),
    "thread": lambda f, t, p, c: reverse("moderation:thread", args=[t.pk]),
    "item": lambda f, t, p, c: reverse("moderation:item", args=["case", c.pk]),
}


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize(
    "role,expected",
    [
        ("anonymous", "login"),
        ("member", {403, 404}),
        ("other_moderator", {403, 404}),
        ("moderator", {200}),
        ("staff", {200}),
    ],
)
def test_moderator_pages_admit_only_the_forums_moderators_and_staff(
    page, role, expected, forum, thread, post, case, alice, moderator, max_, sam
):
    member = {
        "anonymous": None,
        "member": alice,
        "other_moderator": max_,
        "moderator": moderator,
        "staff": sam,
    }[role]
    response = client_for(member).get(PAGES[page](forum, thread, post, case))
    if expected == "login":
        assert is_login_redirect(response)
    else:
        assert response.status_code in expected


@pytest.mark.parametrize(
    "role,status", [("member", 403), ("other_moderator", 403), ("moderator", 403), ("staff", 200)]
)
def test_the_staff_queue_and_moderators_page_are_for_staff_only(
    role, status, forum, alice, moderator, max_, sam
):
    member = {"member": alice, "other_moderator": max_, "moderator": moderator, "staff": sam}[role]
    client = client_for(member)
    assert client.get(reverse("moderation:staff_queue")).status_code == status
    assert client.get(reverse("moderation:moderators", args=[forum.slug])).status_code == status


def test_anonymous_visitors_are_sent_to_log_in_for_the_staff_queue():
    assert is_login_redirect(Client().get(reverse("moderation:staff_queue")))


@pytest.mark.parametrize("role", ["anonymous", "member", "other_moderator"])
def test_hiding_is_refused_to_everyone_but_moderators_and_changes_nothing(
    role, post, case, alice, max_
):
    member = {"anonymous": None, "member": alice, "other_moderator": max_}[role]
    response = client_for(member).post(
        reverse("moderation:post_action", args=[post.pk, "ausblenden"]),
        {"reason": Reason.INSULT, "text": "x"},
    )
    if member is None:
        assert is_login_redirect(response)
    else:
        assert response.status_code in {403, 404}
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED
    assert not ModerationAction.objects.filter(action=ModerationAction.Kind.POST_HIDDEN).exists()


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_shows_the_case_with_its_reasons_text_and_actions(case, moderator, post):
    response = client_for(moderator).get(reverse("moderation:queue", args=["mieten"]))
    html = response.content.decode()
    assert f'id="case-{case.pk}"' in html
    assert "Ihr seid alle doof" in html
    assert "beleidigend" in html
    assert 'data-ws-path="/ws/moderation/' in html
    assert reverse("moderation:post_action", args=[post.pk, "ausblenden"]) in html


def test_a_case_claimed_by_another_moderator_shows_who_and_until_when(case, moderator, sam):
    services.case_claim(actor=sam, case=case)
    html = client_for(moderator).get(reverse("moderation:queue", args=["mieten"])).content
    assert "is-claimed" in html.decode()
    assert "Sam" in html.decode()


def test_the_item_fragment_is_404_once_the_case_is_closed(case, moderator, post):
    url = reverse("moderation:item", args=["case", case.pk])
    assert client_for(moderator).get(url).status_code == 200
    services.post_hide(actor=moderator, post=post, reason=Reason.INSULT)
    assert client_for(moderator).get(url).status_code == 404


def test_claiming_a_case_through_the_form(case, moderator):
    response = client_for(moderator).post(
        reverse("moderation:case_action", args=[case.pk, "uebernehmen"]), follow=True
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.claimed_by_id == moderator.pk


# --- no-JS flows ----------------------------------------------------------------------------------


def test_a_member_reports_a_post_and_is_thanked(post, alice):
    client = client_for(alice)
    page = client.get(reverse("moderation:report", args=[post.pk]))
    assert 'type="radio"' in page.content.decode()
    response = client.post(
        reverse("moderation:report", args=[post.pk]),
        {"reason": Reason.SPAM, "text": "Werbung"},
        follow=True,
    )
    assert Report.objects.filter(post=post, reporter=alice, reason=Reason.SPAM).exists()
    assert "Danke. Die Moderation sieht sich den Beitrag an" in response.content.decode()


def test_the_author_is_not_offered_a_report_form_for_their_own_post(post, bob):
    response = client_for(bob).get(reverse("moderation:report", args=[post.pk]), follow=True)
    assert "Du kannst diesen Beitrag nicht melden." in response.content.decode()
    assert 'name="reason"' not in response.content.decode()


@pytest.mark.parametrize("data", [{}, {"reason": "nonsense"}, {"reason": Reason.HEATED}])
def test_a_report_with_a_bad_reason_is_refused_with_an_error(post, alice, data):
    response = client_for(alice).post(reverse("moderation:report", args=[post.pk]), data)
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    assert not Report.objects.exists()


def test_the_thread_page_links_report_for_members_and_moderate_for_moderators(
    post, alice, moderator
):
    url = post.thread.get_absolute_url()
    member_html = client_for(alice).get(url).content.decode()
    assert reverse("moderation:report", args=[post.pk]) in member_html
    moderate_link = f'href="{reverse("moderation:post", args=[post.pk])}"'
    assert moderate_link not in member_html
    mod_html = client_for(moderator).get(url).content.decode()
    assert moderate_link in mod_html
    assert reverse("moderation:thread", args=[post.thread.pk]) in mod_html


def test_a_moderator_hides_a_post_with_a_reason_and_the_reporter_is_told(
    case, post, moderator, alice
):
    response = client_for(moderator).post(
        reverse("moderation:post_action", args=[post.pk, "ausblenden"]),
        {
            "reason": Reason.INSULT,
            "text": "Bitte sachlich bleiben.",
            "confirm": "on",
            "next": "/moderation/mieten/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/moderation/mieten/"
    post.refresh_from_db()
    assert post.state == Post.State.HIDDEN
    assert notifications.unread_for(member=alice).count() == 1
    page = client_for(alice).get(reverse("notifications"))
    assert "Benachrichtigungen (1)" in page.content.decode()


def test_hiding_without_a_reason_category_changes_nothing(case, post, moderator):
    response = client_for(moderator).post(
        reverse("moderation:post_action", args=[post.pk, "ausblenden"]), {"text": "x"}, follow=True
    )
    assert "Bitte wähle eine Kategorie." in response.content.decode()
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED


def test_an_unsafe_next_url_is_ignored(case, post, moderator):
    response = client_for(moderator).post(
        reverse("moderation:post_action", args=[post.pk, "ausblenden"]),
        {"reason": Reason.INSULT, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/moderation/mieten/"


def test_the_author_sees_the_reason_and_appeals_once(post, bob, moderator, max_):
    services.post_hide(actor=moderator, post=post, reason=Reason.INSULT, text="Ton")
    client = client_for(bob)
    thread_html = client.get(post.thread.get_absolute_url()).content.decode()
    assert "Beleidigung" in thread_html
    assert reverse("moderation:appeal", args=[post.pk]) in thread_html
    response = client.post(
        reverse("moderation:appeal", args=[post.pk]), {"text": "Das war Satire."}, follow=True
    )
    assert Appeal.objects.filter(post=post).count() == 1
    again = client.post(reverse("moderation:appeal", args=[post.pk]), {"text": "Nochmal"})
    assert Appeal.objects.filter(post=post).count() == 1
    assert again.status_code == 200
    assert response.status_code == 200


def test_an_empty_appeal_is_refused(post, bob, moderator):
    services.post_hide(actor=moderator, post=post, reason=Reason.INSULT)
    response = client_for(bob).post(reverse("moderation:appeal", args=[post.pk]), {"text": " "})
    assert "Bitte begründe deinen Einspruch." in response.content.decode()
    assert not Appeal.objects.exists()


def test_only_the_author_may_appeal(post, alice, moderator):
    services.post_hide(actor=moderator, post=post, reason=Reason.INSULT)
    response = client_for(alice).post(reverse("moderation:appeal", args=[post.pk]), {"text": "x"})
    assert response.status_code in {403, 404}


def test_the_moderator_who_hid_cannot_decide_the_appeal_but_another_can(
    post, bob, moderator, sam, forum
):
    services.post_hide(actor=moderator, post=post, reason=Reason.INSULT)
    appeal = services.appeal_create(actor=bob, post=post, text="Bitte prüfen")
    queue = client_for(moderator).get(reverse("moderation:queue", args=[forum.slug]))
    html = queue.content.decode()
    assert "entscheidet jemand anderes aus der Moderation" in html
    assert reverse("moderation:appeal_decide", args=[appeal.pk]) not in html
    client_for(moderator).post(
        reverse("moderation:appeal_decide", args=[appeal.pk]),
        {"decision": "restore", "reason": Reason.CORRECTED},
    )
    post.refresh_from_db()
    assert post.state == Post.State.HIDDEN
    staff_html = client_for(sam).get(reverse("moderation:queue", args=[forum.slug])).content
    assert reverse("moderation:appeal_decide", args=[appeal.pk]) in staff_html.decode()
    client_for(sam).post(
        reverse("moderation:appeal_decide", args=[appeal.pk]),
        {"decision": "restore", "reason": Reason.CORRECTED, "text": "Satire erkannt"},
    )
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED


def test_a_moderator_approves_a_held_post(sam, mo, alice):
    forum = factories.make_forum(actor=sam, slug="vorab", premoderated=True)
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    moderator = mo
    thread = factories.make_thread(forum, author=moderator)
    held = factories.make_post(thread, author=alice, body="Wartet")
    assert held.state == Post.State.HELD
    queue = client_for(moderator).get(reverse("moderation:queue", args=[forum.slug]))
    assert "Wartet" in queue.content.decode()
    client_for(moderator).post(
        reverse("moderation:post_action", args=[held.pk, "freigeben"]),
        {"reason": Reason.NO_VIOLATION},
    )
    held.refresh_from_db()
    assert held.state == Post.State.PUBLISHED


def test_a_moderator_mutes_the_author_for_a_day(forum, bob, moderator):
    client_for(moderator).post(
        reverse("moderation:member_action", args=[forum.slug, bob.pk, "stummschalten"]),
        {"duration": "24h", "reason": Reason.INSULT},
    )
    mute = Mute.objects.get(forum=forum, member=bob)
    assert timedelta(hours=23) < mute.until - timezone.now() <= timedelta(hours=24)


@pytest.mark.parametrize(
    "data",
    [
        {"duration": "custom", "reason": Reason.INSULT},
        {"duration": "custom", "until": "2001-01-01T10:00", "reason": Reason.INSULT},
        {"duration": "forever", "reason": Reason.INSULT},
        {"duration": "1h"},
    ],
)
def test_a_mute_with_bad_input_is_refused_and_changes_nothing(forum, bob, moderator, data):
    response = client_for(moderator).post(
        reverse("moderation:member_action", args=[forum.slug, bob.pk, "stummschalten"]),
        data,
        follow=True,
    )
    assert 'class="notice notice--error"' in response.content.decode()
    assert not Mute.objects.exists()


def test_a_moderator_of_another_forum_cannot_mute_here(forum, bob, max_):
    response = client_for(max_).post(
        reverse("moderation:member_action", args=[forum.slug, bob.pk, "stummschalten"]),
        {"duration": "1h", "reason": Reason.INSULT},
    )
    assert response.status_code == 403
    assert not Mute.objects.exists()


def test_a_moderator_locks_and_pins_a_thread(thread, moderator):
    client = client_for(moderator)
    client.post(
        reverse("moderation:thread_action", args=[thread.pk, "sperren"]),
        {"reason": Reason.HEATED},
    )
    client.post(
        reverse("moderation:thread_action", args=[thread.pk, "anheften"]),
        {"reason": Reason.IMPORTANT},
    )
    thread.refresh_from_db()
    assert thread.locked and thread.pinned


def test_moving_a_thread_to_a_forum_one_does_not_moderate_is_refused(
    thread, moderator, other_forum
):
    response = client_for(moderator).post(
        reverse("moderation:thread_action", args=[thread.pk, "verschieben"]),
        {"forum": other_forum.pk, "reason": Reason.WRONG_FORUM},
        follow=True,
    )
    assert "Bitte wähle eines der aufgeführten Foren." in response.content.decode()
    thread.refresh_from_db()
    assert thread.forum.slug == "mieten"


def test_staff_move_a_thread_with_a_reason(thread, sam, other_forum):
    client_for(sam).post(
        reverse("moderation:thread_action", args=[thread.pk, "verschieben"]),
        {"forum": other_forum.pk, "reason": Reason.WRONG_FORUM},
    )
    assert Thread.objects.get(pk=thread.pk).forum_id == other_forum.pk


# --- the public log -------------------------------------------------------------------------------


def test_the_public_log_hides_moderator_names_unless_the_forum_shows_them(
    forum, post, moderator, alice
):
    services.post_hide(actor=moderator, post=post, reason=Reason.INSULT, text="geheim")
    url = reverse("moderation:log", args=[forum.slug])
    html = client_for(alice).get(url).content.decode()
    assert "Beitrag ausgeblendet" in html and "Beleidigung" in html
    assert ">Mo<" not in html
    assert "geheim" not in html
    Forum.objects.filter(pk=forum.pk).update(show_moderator_names=True)
    html = client_for(alice).get(url).content.decode()
    assert ">Mo<" in html


def test_the_public_log_of_an_invited_forum_is_hidden_from_outsiders(sam, alice):
    secret = factories.make_forum(actor=sam, slug="geheim", visibility=Forum.Visibility.INVITED)
    assert client_for(alice).get(reverse("moderation:log", args=[secret.slug])).status_code == 404
    assert is_login_redirect(Client().get(reverse("moderation:log", args=[secret.slug])))


# --- moderators and notifications -----------------------------------------------------------------


def test_staff_appoint_and_revoke_a_moderator(forum, sam, alice):
    client = client_for(sam)
    url = reverse("moderation:moderators", args=[forum.slug])
    bad = client.post(url, {"email": "nobody@example.org"})
    assert "Kein Mitglied hat diese E-Mail-Adresse." in bad.content.decode()
    client.post(url, {"email": "ALICE@example.org"})
    assert client_for(alice).get(reverse("moderation:queue", args=[forum.slug])).status_code == 200
    client.post(reverse("moderation:moderator_revoke", args=[forum.slug, alice.pk]))
    assert client_for(alice).get(reverse("moderation:queue", args=[forum.slug])).status_code == 403
    kinds = set(ModerationAction.objects.values_list("action", flat=True))
    assert {"moderator_granted", "moderator_revoked"} <= kinds


def test_notifications_are_listed_and_marked_read(case, post, moderator, alice):
    services.case_dismiss(actor=moderator, case=case)
    client = client_for(alice)
    page = client.get(reverse("notifications"))
    assert page.status_code == 200
    assert "Benachrichtigungen (1)" in page.content.decode()
    note = Notification.objects.get(member=alice)
    client.post(reverse("notifications_read"), {"id": "abc"})
    assert Notification.objects.get(pk=note.pk).read_at is None
    client.post(reverse("notifications_read"), {"id": note.pk})
    assert Notification.objects.get(pk=note.pk).read_at is not None
    assert "Benachrichtigungen (1)" not in client.get(reverse("notifications")).content.decode()


def test_notifications_need_a_login():
    assert is_login_redirect(Client().get(reverse("notifications")))


def test_closing_reports_without_action_tells_the_reporter(case, moderator, alice):
    response = client_for(moderator).post(
        reverse("moderation:case_action", args=[case.pk, "verwerfen"]),
        {"reason": Reason.NO_VIOLATION},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.DISMISSED
    assert notifications.unread_for(member=alice).count() == 1


def test_a_case_claimed_by_another_moderator_cannot_be_closed_by_me(case, moderator, sam):
    services.case_claim(actor=sam, case=case)
    response = client_for(moderator).post(
        reverse("moderation:case_action", args=[case.pk, "verwerfen"]),
        {"reason": Reason.NO_VIOLATION},
        follow=True,
    )
    assert 'class="notice notice--error"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_a_moderator_removes_a_member_from_the_forum_and_lifts_a_mute(forum, bob, moderator):
    from moderation.models import ForumBan

    client = client_for(moderator)
    url = reverse("moderation:member_action", args=[forum.slug, bob.pk, "stummschalten"])
    client.post(url, {"duration": "7d", "reason": Reason.SPAM})
    client.post(
        reverse("moderation:member_action", args=[forum.slug, bob.pk, "stummschaltung-aufheben"]),
        {"reason": Reason.CORRECTED},
    )
    assert Mute.objects.get(member=bob).lifted_at is not None
    client.post(
        reverse("moderation:member_action", args=[forum.slug, bob.pk, "entfernen"]),
        {"reason": Reason.THREAT, "confirm": "on"},
    )
    assert ForumBan.objects.filter(forum=forum, member=bob, lifted_at__isnull=True).exists()


def test_an_unknown_action_is_404(post, moderator, thread, forum, bob):
    client = client_for(moderator)
    assert client.post(reverse("moderation:post_action", args=[post.pk, "x"])).status_code == 404
    assert (
        client.post(reverse("moderation:thread_action", args=[thread.pk, "x"])).status_code == 404
    )
    url = reverse("moderation:member_action", args=[forum.slug, bob.pk, "x"])
    assert client.post(url).status_code == 404


def test_the_staff_queue_lists_cases_of_every_forum_and_serves_its_list_alone(case, sam):
    client = client_for(sam)
    page = client.get(reverse("moderation:staff_queue")).content.decode()
    assert f'id="case-{case.pk}"' in page
    assert 'data-ws-path="/ws/moderation/staff/"' in page
    part = client.get(reverse("moderation:staff_queue") + "?teil=liste").content.decode()
    assert f'id="case-{case.pk}"' in part
    assert "<html" not in part
