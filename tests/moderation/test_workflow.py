"""The moderator's workflow (issue #10): actions in place over fetch, the same checks as the plain
form, destructive actions that ask once, no moderator on a case about their own post, the
navigation count, and pages whose ids are unique and whose controls are labelled.

Personas: bob writes the reported post, alice reports it; mo and hank moderate "mieten"; max
moderates only "gesundheit"; sam is staff.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from forums.errors import ServiceError
from forums.models import Post
from moderation import permissions, selectors, services
from moderation.models import Case, ForumBan, Reason
from tests import factories
from tests.html_checks import assert_ids_unique_and_controls_labelled, problems

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
QUEUE = "/moderation/mieten/"


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.POST_RATE_LIMIT = 10_000
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def hank(sam, forum):
    member = factories.make_member(email="hank@example.org", display_name="Hank")
    services.moderator_grant(actor=sam, forum=forum, member=member)
    return member


@pytest.fixture
def own_case(thread, moderator, alice):
    """A report about a post mo wrote himself."""
    own = factories.make_post(thread, author=moderator, body="Mos eigener Beitrag")
    services.report_create(actor=alice, post=own, reason=Reason.INSULT)
    return Case.objects.get(post=own, status=Case.Status.OPEN)


def client_for(member, **options) -> Client:
    client = Client(**options)
    client.force_login(member)
    return client


def hide_url(post) -> str:
    return reverse("moderation:post_action", args=[post.pk, "ausblenden"])


def hide_data(case, **more) -> dict:
    return {"reason": Reason.INSULT, "confirm": "on", "next": QUEUE, "case": case.pk, **more}


def case_in(html: str, pk: int) -> str:
    """The markup of one case on a queue page (it ends with the only line-leading ``</li>``)."""
    start = html.index(f'id="case-{pk}"')
    return html[start : html.index("\n</li>", start)]


def state_of(post) -> str:
    return Post.objects.get(pk=post.pk).state


# --- no moderator acts on a case about their own post ---------------------------------------------


def test_a_moderator_cannot_hide_a_reported_post_of_his_own(own_case, moderator):
    with pytest.raises(ServiceError) as refused:
        services.post_hide(actor=moderator, post=own_case.post, reason=Reason.INSULT)
    assert refused.value.code == "forbidden"
    assert "jemand anderes aus der Moderation" in refused.value.message
    assert state_of(own_case.post) == Post.State.PUBLISHED
    assert Case.objects.get(pk=own_case.pk).is_open


@pytest.mark.parametrize(
    "act",
    [
        lambda actor, case: services.case_claim(actor=actor, case=case),
        lambda actor, case: services.case_dismiss(actor=actor, case=case),
        lambda actor, case: services.post_hide(actor=actor, post=case.post, reason="insult"),
    ],
    ids=["claim", "dismiss", "hide"],
)
def test_no_action_on_a_case_about_ones_own_post_and_another_moderator_can(
    own_case, moderator, hank, act
):
    with pytest.raises(ServiceError) as refused:
        act(moderator, own_case)
    assert refused.value.code == "forbidden"
    row = Case.objects.get(pk=own_case.pk)
    assert row.is_open and row.claimed_by_id is None
    act(hank, own_case)  # a fellow moderator handles it


def test_staff_cannot_handle_a_case_about_their_own_post_either(thread, sam, alice, moderator):
    own = factories.make_post(thread, author=sam, body="Sams Beitrag")
    services.report_create(actor=alice, post=own, reason=Reason.SPAM)
    with pytest.raises(ServiceError):
        services.post_hide(actor=sam, post=own, reason=Reason.SPAM)
    services.post_hide(actor=moderator, post=own, reason=Reason.SPAM)
    assert state_of(own) == Post.State.HIDDEN


def test_the_author_moderator_cannot_restore_or_decide_an_appeal_on_his_post(
    thread, moderator, hank
):
    own = factories.make_post(thread, author=moderator, body="Mos Beitrag")
    services.post_hide(actor=hank, post=own, reason=Reason.INSULT)
    appeal = services.appeal_create(actor=moderator, post=own, text="Bitte nochmal ansehen")
    assert not permissions.can_decide_appeal(moderator, appeal)
    for act in (
        lambda: services.post_restore(actor=moderator, post=own, reason=Reason.CORRECTED),
        lambda: services.appeal_decide(
            actor=moderator, appeal=appeal, uphold=True, reason=Reason.CORRECTED
        ),
    ):
        with pytest.raises(ServiceError):
            act()
    assert state_of(own) == Post.State.HIDDEN


@pytest.mark.parametrize(
    "who,content,expected",
    [
        ("self", True, False),
        ("self", False, False),
        ("fellow moderator", True, True),
        ("fellow moderator", False, False),
        ("member", True, True),
        ("member", False, True),
    ],
)
def test_can_act_on_member_grid(forum, moderator, hank, bob, who, content, expected):
    member = {"self": moderator, "fellow moderator": hank, "member": bob}[who]
    assert permissions.can_act_on_member(moderator, forum, member, content=content) is expected


def test_the_queue_shows_a_case_about_ones_own_post_without_actions_and_says_why(
    own_case, moderator, hank
):
    html = client_for(moderator).get(QUEUE).content.decode()
    item = case_in(html, own_case.pk)
    assert "Du hast diesen Beitrag geschrieben" in item
    assert "<form" not in item
    other = client_for(hank).get(QUEUE).content.decode()
    assert hide_url(own_case.post) in case_in(other, own_case.pk)


def test_the_post_page_offers_no_action_on_ones_own_post(own_case, moderator):
    html = client_for(moderator).get(reverse("moderation:post", args=[own_case.post_id]))
    html = html.content.decode()
    assert "Du hast diesen Beitrag geschrieben" in html
    assert hide_url(own_case.post) not in html


# --- actions over fetch: same checks, JSON answers, the case's HTML -----------------------------


def test_a_claim_over_fetch_answers_the_case_as_rendered_now(case, moderator):
    response = client_for(moderator).post(
        reverse("moderation:case_action", args=[case.pk, "uebernehmen"]),
        {"next": QUEUE, "case": case.pk},
        **FETCH,
    )
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True and data["case"] == case.pk
    assert "Du hast diesen Fall übernommen" in data["message"]
    assert f'id="case-{case.pk}"' in data["html"]
    assert "Du bearbeitest das bis" in data["html"]
    # The fragment's forms return to the queue page (the anchor is added at redirect time).
    assert f'name="next" value="{QUEUE}"' in data["html"]
    assert Case.objects.get(pk=case.pk).claimed_by_id == moderator.pk
    # No flash message waits for the next page: the answer said it.
    assert not list(get_messages(response.wsgi_request))


def test_hiding_over_fetch_closes_the_case_and_answers_no_html(case, post, moderator):
    response = client_for(moderator).post(hide_url(post), hide_data(case), **FETCH)
    assert response.status_code == 200
    data = response.json()
    assert data == {
        "ok": True,
        "message": "Der Beitrag ist ausgeblendet.",
        "case": case.pk,
        "html": "",
    }
    assert state_of(post) == Post.State.HIDDEN


def test_a_destructive_action_without_confirmation_changes_nothing(case, post, moderator):
    data = hide_data(case)
    del data["confirm"]
    response = client_for(moderator).post(hide_url(post), data, **FETCH)
    assert response.status_code == 400
    assert "Ja, ich bin mir sicher" in response.json()["message"]
    assert state_of(post) == Post.State.PUBLISHED


def test_removing_a_member_without_js_needs_the_box_ticked(forum, moderator, bob, case):
    url = reverse("moderation:member_action", args=[forum.slug, bob.pk, "entfernen"])
    client = client_for(moderator)
    response = client.post(url, {"reason": Reason.THREAT, "next": QUEUE}, follow=True)
    assert "Ja, ich bin mir sicher" in response.content.decode()
    assert not ForumBan.objects.filter(member=bob).exists()
    client.post(url, {"reason": Reason.THREAT, "confirm": "on", "next": QUEUE})
    assert ForumBan.objects.filter(member=bob, lifted_at__isnull=True).exists()


def test_a_fetch_by_a_member_is_refused_in_german_and_changes_nothing(case, post, alice):
    response = client_for(alice).post(hide_url(post), hide_data(case), **FETCH)
    assert response.status_code in (403, 404)
    assert response["Content-Type"] == "application/json"
    assert response.json()["ok"] is False
    assert response.json()["message"] in (
        "Das dürfen nur die Moderator*innen dieses Forums.",
        "Diesen Fall gibt es nicht, oder du moderierst sein Forum nicht.",
    )
    assert state_of(post) == Post.State.PUBLISHED


def test_a_fetch_by_a_moderator_of_another_forum_is_refused_in_german_and_changes_nothing(
    case, post, max_
):
    for url, data in [
        (hide_url(post), hide_data(case)),
        (reverse("moderation:case_action", args=[case.pk, "uebernehmen"]), {"case": case.pk}),
    ]:
        response = client_for(max_).post(url, data, **FETCH)
        # Max may read the members' forum, so he learns only that he may not moderate it.
        assert response.status_code == 403
        assert response.json() == {
            "ok": False,
            "message": "Das dürfen nur die Moderator*innen dieses Forums.",
            "html": "",
        }
    assert state_of(post) == Post.State.PUBLISHED
    assert Case.objects.get(pk=case.pk).claimed_by_id is None


def test_a_fetch_on_a_case_handled_meanwhile_is_a_conflict_and_changes_nothing(
    case, post, moderator, hank
):
    services.case_dismiss(actor=hank, case=case)
    response = client_for(moderator).post(hide_url(post), hide_data(case), **FETCH)
    assert response.status_code == 409
    data = response.json()
    assert data["ok"] is False and data["html"] == ""  # the case left the queue
    assert data["message"]  # in German, from the service
    assert state_of(post) == Post.State.PUBLISHED


def test_a_fetch_on_a_case_another_moderator_holds_answers_its_current_state(
    case, post, moderator, hank
):
    services.case_claim(actor=hank, case=case)
    response = client_for(moderator).post(hide_url(post), hide_data(case), **FETCH)
    assert response.status_code == 409
    data = response.json()
    assert "Hank" in data["message"]
    assert "Hank bearbeitet das bis" in data["html"]
    assert state_of(post) == Post.State.PUBLISHED


def test_a_fetch_about_ones_own_post_is_forbidden_with_a_reason(own_case, moderator):
    response = client_for(moderator).post(hide_url(own_case.post), hide_data(own_case), **FETCH)
    assert response.status_code == 403
    assert (
        "anderer Moderator" in response.json()["message"]
        or "jemand anderes" in (response.json()["message"])
    )
    assert state_of(own_case.post) == Post.State.PUBLISHED


def test_a_fetch_without_the_csrf_token_is_refused(case, post, moderator):
    client = client_for(moderator, enforce_csrf_checks=True)
    response = client.post(hide_url(post), hide_data(case), **FETCH)
    assert response.status_code == 403
    assert state_of(post) == Post.State.PUBLISHED
    # With the token from the queue page (as the script sends it), the same request works.
    client.get(QUEUE)
    token = client.cookies["csrftoken"].value
    response = client.post(hide_url(post), hide_data(case), HTTP_X_CSRFTOKEN=token, **FETCH)
    assert response.status_code == 200, response.content
    assert state_of(post) == Post.State.HIDDEN


def test_a_fetch_for_a_case_that_does_not_exist_is_404_in_german(moderator):
    url = reverse("moderation:case_action", args=[999_999, "uebernehmen"])
    response = client_for(moderator).post(url, {}, **FETCH)
    assert response.status_code == 404
    assert response.json()["message"] == (
        "Diesen Fall gibt es nicht, oder du moderierst sein Forum nicht."
    )


def test_an_anonymous_fetch_gets_the_login_redirect_not_json(case, post):
    response = Client().post(hide_url(post), hide_data(case), **FETCH)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- without JavaScript: back to the case's anchor, with the message -----------------------------


def test_without_js_a_claim_returns_to_the_cases_anchor_with_the_message(case, moderator):
    client = client_for(moderator)
    response = client.post(
        reverse("moderation:case_action", args=[case.pk, "uebernehmen"]),
        {"next": QUEUE, "case": case.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}#case-{case.pk}"
    page = client.get(QUEUE).content.decode()
    assert "Du hast diesen Fall übernommen" in page
    assert f'id="case-{case.pk}"' in page


def test_without_js_hiding_from_the_queue_returns_to_the_cases_anchor(case, post, moderator):
    client = client_for(moderator)
    response = client.post(hide_url(post), hide_data(case))
    assert response["Location"] == f"{QUEUE}#case-{case.pk}"
    assert "Der Beitrag ist ausgeblendet." in client.get(QUEUE).content.decode()


def test_an_invalid_form_without_js_also_returns_to_the_case(case, moderator):
    response = client_for(moderator).post(
        reverse("moderation:case_action", args=[case.pk, "verwerfen"]),
        {"reason": "", "next": QUEUE, "case": case.pk},
    )
    assert response["Location"] == f"{QUEUE}#case-{case.pk}"
    assert Case.objects.get(pk=case.pk).is_open


# --- the queue page: compact, shortcuts documented, destructive buttons distinct -----------------


def test_the_queue_marks_destructive_actions_and_documents_the_shortcuts(case, moderator):
    html = client_for(moderator).get(QUEUE).content.decode()
    assert 'class="button button--danger">Ausblenden<' in html
    assert 'class="button button--quiet">Meldungen schließen<' in html
    assert 'data-confirm="Diesen Beitrag wirklich ausblenden?"' in html
    assert 'id="shortcut-help"' in html and "<kbd>j</kbd>" in html
    # The toggle is for script users only and starts off.
    assert 'id="shortcut-toggle" aria-pressed="false"' in html


def test_a_collapsed_case_has_three_tab_stops_besides_the_post(case, moderator):
    """The thread link, "take the case", and the one disclosure of every other action."""
    html = client_for(moderator).get(QUEUE).content.decode()
    item = case_in(html, case.pk)
    panel = item.index("data-case-panel")
    outside = item[:panel]
    post_body = outside[outside.index('class="queue-post') :]
    post_body = post_body[: post_body.index("</div>")]
    outside = outside.replace(post_body, "")
    stops = outside.count("<a ") + outside.count("<button") + 1  # + the panel's summary
    assert stops == 3


@pytest.mark.parametrize("url_name", ["queue", "post"])
def test_every_id_is_unique_and_every_control_labelled(url_name, case, post, moderator, hank):
    # The post page shows the hide and the mute form together (bob is not muted).
    url = QUEUE if url_name == "queue" else reverse("moderation:post", args=[post.pk])
    assert_ids_unique_and_controls_labelled(client_for(moderator).get(url).content.decode())


def test_the_label_check_finds_a_shared_id_and_an_unlabelled_control():
    html = (
        '<label for="id_text">Grund</label><textarea id="id_text"></textarea>'
        '<textarea name="text" id="id_text"></textarea><input name="q">'
        '<label>Wrapped <input name="w"></label><input type="hidden" name="h">'
    )
    found = problems(html)
    assert "duplicate id 'id_text' (2x)" in found
    assert "<input name='q' id=None> has no label" in found
    assert not any("'w'" in line or "'h'" in line for line in found)


# --- the navigation count -----------------------------------------------------------------------


def _open_cases(member) -> int | None:
    link = selectors.queue_link(user=member)
    return None if link is None else link.open_cases


def test_the_navigation_counts_the_cases_a_member_may_handle_in_one_query(
    case, moderator, max_, sam, alice, other_forum, django_assert_num_queries
):
    elsewhere_thread = factories.make_thread(other_forum, author=alice, title="Pflege")
    elsewhere = factories.make_post(elsewhere_thread, author=alice, body="Anderswo")
    services.report_create(actor=moderator, post=elsewhere, reason=Reason.SPAM)
    with django_assert_num_queries(1):
        assert _open_cases(moderator) == 1
    with django_assert_num_queries(1):
        assert _open_cases(max_) == 1  # through a group
    with django_assert_num_queries(1):
        assert _open_cases(sam) == 2  # staff: every forum
    assert _open_cases(alice) is None  # no queue link at all
    services.case_dismiss(actor=moderator, case=case)
    assert _open_cases(moderator) == 0


def test_the_navigation_asks_nothing_for_an_anonymous_visitor(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        assert _open_cases(AnonymousUser()) is None


@pytest.mark.parametrize("raw", ["²", "٣", "-1", "1.0", "9" * 12, "", " 7"])
def test_a_hostile_case_field_is_no_case_and_no_error(rf, raw):
    from moderation import answers

    assert answers.case_of(rf.post("/", {"case": raw})) is None


def test_a_case_field_of_ascii_digits_names_the_case(rf):
    from moderation import answers

    assert answers.case_of(rf.post("/", {"case": "42"})) == 42
