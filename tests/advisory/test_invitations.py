"""Invitation links and guest accounts, over HTTP and through the services.

The advisory fixture (tests/advisory/conftest.py): mo organises "Ratschlag Mieten" with the
organisation Kotti & Co; alice is a member, gina a guest of this forum (a direct grant), olga a
guest of another forum, sam staff. Each test makes the links it needs through the service.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consultations.advisory.invitations import services
from consultations.advisory.invitations.models import Invitation, InvitationUse
from deliberation.models import Member
from forums import permissions
from forums import services as forum_services
from forums.errors import ServiceError
from forums.models import Post, Thread
from tests.hostile import client_of

pytestmark = pytest.mark.django_db

STRONG = "Mietendeckel-jetzt-2026"


@pytest.fixture
def kotti(advisory):
    return advisory.organisations.get(name="Kotti & Co")


@pytest.fixture
def link(advisory, mo, kotti):
    return services.invitation_create(
        actor=mo, advisory=advisory, organisation=kotti, affiliation="initiative", max_uses=2
    )


@pytest.fixture(autouse=True)
def _mail_on_commit(django_capture_on_commit_callbacks):
    """Each test runs in a transaction that never commits: :func:`signup` runs what would run
    on commit (the mails) as the real request's commit would."""
    global _on_commit
    _on_commit = django_capture_on_commit_callbacks
    yield
    _on_commit = None


_on_commit = None


def signup(client: Client, invitation: Invitation, **fields: str):
    """Post the sign-up form (these fields over a valid default) and run what follows commit."""
    data = {
        "display_name": "Hatice",
        "email": "hatice@kotti.example.org",
        "password1": STRONG,
        "password2": STRONG,
        **fields,
    }
    with _on_commit(execute=True):
        return client.post(invitation.get_absolute_url(), data)


def confirmation_path(message) -> str:
    found = re.search(r"https?://[^/\s]+(/ratschlaege/einladung/bestaetigen/[^\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def state() -> tuple:
    """Everything an invitation may change: accounts, uses, counts, grants."""
    return (
        Member.objects.count(),
        InvitationUse.objects.count(),
        list(Invitation.objects.order_by("pk").values_list("use_count", flat=True)),
        list(Member.objects.filter(is_active=True).values_list("pk", flat=True).order_by("pk")),
        permissions.ForumUserObjectPermission.objects.count(),
    )


# --- making and withdrawing links ---------------------------------------------------------------


def test_a_link_carries_its_organisations_badge_and_a_long_random_key(link):
    assert link.badge_label == "Initiative: Kotti & Co"
    assert len(link.token) >= 40
    assert link.status() == "valid"


def test_without_an_organisation_badge_the_badge_names_kind_and_organisation(advisory, mo, kotti):
    kotti.badge_label = ""
    kotti.save()
    made = services.invitation_create(
        actor=mo, advisory=advisory, organisation=kotti, affiliation="fraktion"
    )
    assert made.badge_label == "Fraktion: Kotti & Co"


@pytest.mark.parametrize("who", ["alice", "gina", "olga"])
def test_only_organisers_and_staff_make_links(request, advisory, who):
    with pytest.raises(ServiceError) as refused:
        services.invitation_create(
            actor=request.getfixturevalue(who), advisory=advisory, affiliation="initiative"
        )
    assert refused.value.code == "forbidden"
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"affiliation": ""},
        {"affiliation": "nonsense"},
        {"max_uses": 0},
        {"max_uses": services.MAX_USES + 1},
        {"max_uses": "2" * 40},
        {"valid_days": 0},
        {"valid_days": services.MAX_VALID_DAYS + 1},
        {"label": "x" * (services.MAX_LABEL + 1)},
        {"label": "a\x00b"},
    ],
)
def test_bad_link_settings_are_refused_and_make_nothing(advisory, mo, fields):
    with pytest.raises(ServiceError):
        services.invitation_create(
            actor=mo, advisory=advisory, **{"affiliation": "initiative", **fields}
        )
    assert not Invitation.objects.exists()


def test_an_organisation_of_another_forum_is_refused(advisory, mo, sam):
    from consultations.advisory import services as advisory_services
    from tests.factories import make_forum

    other_forum = make_forum(actor=sam, kind="advisory")
    other = advisory_services.advisory_create(actor=sam, forum=other_forum)
    stranger = advisory_services.organisation_create(actor=sam, advisory=other, name="Fremd")
    with pytest.raises(ServiceError):
        services.invitation_create(
            actor=mo, advisory=advisory, organisation=stranger, affiliation="initiative"
        )


def test_the_organisers_page_makes_a_link_and_lists_it(advisory, mo, kotti):
    client = client_of(mo)
    url = reverse("advisory:invitations", args=[advisory.forum.slug])
    response = client.post(
        url,
        {"organisation": kotti.pk, "affiliation": "initiative", "max_uses": "5", "valid_days": "7"},
    )
    made = Invitation.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#invitation-{made.pk}")
    assert (made.max_uses, made.created_by, made.badge_label) == (5, mo, "Initiative: Kotti & Co")
    page = client.get(url).content.decode()
    assert made.get_absolute_url() in page
    assert "0 von 5 Nutzungen" in page


def test_the_organisers_page_costs_the_same_queries_for_one_link_or_ten(advisory, mo, alice):
    client = client_of(mo)
    url = reverse("advisory:invitations", args=[advisory.forum.slug])
    services.invitation_create(actor=mo, advisory=advisory, affiliation="initiative")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(9):
        made = services.invitation_create(
            actor=mo, advisory=advisory, affiliation="expert", max_uses=3
        )
        guest = Member.objects.create_user(
            email=f"g{n}@example.org", display_name=f"Gast {n}", kind="guest"
        )
        InvitationUse.objects.create(invitation=made, guest=guest)
    with CaptureQueriesContext(connection) as ten:
        client.get(url)
    assert len(ten) == len(one), [q["sql"] for q in ten.captured_queries]


def test_a_withdrawn_link_lets_nobody_in_but_keeps_who_came(link, mo):
    client = Client()
    signup(client, link)
    services.invitation_revoke(actor=mo, invitation=link)
    before = state()
    response = signup(Client(), link, display_name="Zweite", email="zwei@example.org")
    assert response.status_code == 410
    assert "zurückgezogen" in response.content.decode()
    assert state() == before


def test_withdrawing_is_for_organisers_and_only_by_post(link, advisory, alice, mo):
    url = reverse("advisory:invitation_revoke", args=[advisory.forum.slug, link.pk])
    assert client_of(alice).post(url).status_code == 403
    assert client_of(mo).get(url).status_code == 405
    link.refresh_from_db()
    assert link.revoked_at is None
    assert client_of(mo).post(url).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None


# --- opening a link -----------------------------------------------------------------------------


def test_an_anonymous_visitor_sees_forum_badge_and_the_sign_up_form(link):
    response = Client().get(link.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ratschlag Mieten" in page
    assert "Initiative: Kotti &amp; Co" in page
    assert 'name="password1"' in page


@pytest.mark.parametrize("token", ["x", "a" * 43, "a" * 200, "%3Cscript%3E" * 5, "%00" * 30])
def test_an_unknown_link_is_a_clear_404(token, link):
    response = Client().get(f"/ratschlaege/einladung/{token}/")
    assert response.status_code == 404
    assert "Einladungslink ist nicht gültig" in response.content.decode()


def test_an_expired_link_says_so_and_changes_nothing(link):
    Invitation.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = state()
    for response in (Client().get(link.get_absolute_url()), signup(Client(), link)):
        assert response.status_code == 410
        assert "abgelaufen" in response.content.decode()
    assert state() == before


def test_a_used_up_link_says_so_and_changes_nothing(link):
    signup(Client(), link, display_name="Eins", email="eins@example.org")
    signup(Client(), link, display_name="Zwei", email="zwei@example.org")
    link.refresh_from_db()
    assert link.use_count == 2
    before = state()
    response = signup(Client(), link, display_name="Drei", email="drei@example.org")
    assert response.status_code == 410
    assert "so oft genutzt" in response.content.decode()
    assert state() == before


def test_a_member_who_opens_a_guests_link_is_told_it_is_for_guests_and_nothing_changes(link, alice):
    client = client_of(alice)
    before = state()
    for response in (client.get(link.get_absolute_url()), signup(client, link)):
        assert response.status_code == 200
        assert "für Gäste" in response.content.decode()
    assert state() == before
    alice.refresh_from_db()
    assert (alice.kind, alice.badge) == ("member", "")


# --- signing up and confirming ------------------------------------------------------------------


def test_a_new_guest_signs_up_confirms_and_takes_part_under_the_badge(link, advisory):
    client = Client()
    response = signup(client, link)
    assert response.status_code == 302
    assert response["Location"] == reverse("advisory:invitation_sent")
    guest = Member.objects.get(email="hatice@kotti.example.org")
    assert (guest.kind, guest.is_active, guest.badge) == ("guest", False, "Initiative: Kotti & Co")
    assert not permissions.can_view_forum(guest, advisory.forum)
    assert client.get(advisory.get_absolute_url()).status_code == 302  # not signed in
    (message,) = mail.outbox
    assert message.to == ["hatice@kotti.example.org"]
    assert "Ratschlag Mieten" in message.subject
    path = confirmation_path(message)

    # Opening the link (or a mail scanner doing so) confirms nothing.
    assert client.get(path).status_code == 200
    guest.refresh_from_db()
    assert guest.is_active is False

    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == advisory.get_absolute_url()
    guest.refresh_from_db()
    assert guest.is_active is True
    assert int(client.session[SESSION_KEY]) == guest.pk
    assert permissions.can_participate(guest, advisory.forum)
    use = InvitationUse.objects.get(guest=guest)
    assert use.confirmed_at is not None and use.invitation == link
    assert client.get(advisory.get_absolute_url()).status_code == 200


def test_a_confirmation_link_works_once(link):
    client = Client()
    signup(client, link)
    path = confirmation_path(mail.outbox[0])
    client.post(path)
    again = Client().post(path)
    assert again.status_code == 302
    assert again["Location"] == reverse("login")


@pytest.mark.parametrize(
    "mangle", [lambda p: p[:-3] + "xx/", lambda p: p.replace("bestaetigen/", "bestaetigen/a")]
)
def test_a_tampered_confirmation_link_is_refused(link, mangle):
    client = Client()
    signup(client, link)
    response = Client().post(mangle(confirmation_path(mail.outbox[0])))
    assert response.status_code in {400, 404}
    assert not Member.objects.get(email="hatice@kotti.example.org").is_active


def test_an_expired_confirmation_link_says_how_to_get_a_new_one(link, settings, monkeypatch):
    signup(Client(), link)
    path = confirmation_path(mail.outbox[0])
    later = time.time() + settings.GUEST_CONFIRM_TIMEOUT + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = Client().post(path)
    assert response.status_code == 400
    assert "abgelaufen" in response.content.decode()
    assert not Member.objects.get(email="hatice@kotti.example.org").is_active


def test_a_link_for_another_purpose_does_not_confirm(link):
    signup(Client(), link)
    guest = Member.objects.get(email="hatice@kotti.example.org")
    forged = signing.dumps({"m": guest.pk, "e": guest.email}, salt="something else")
    response = Client().post(reverse("advisory:guest_confirm", args=[forged]))
    assert response.status_code == 400
    guest.refresh_from_db()
    assert not guest.is_active


def test_signing_up_again_before_confirming_sends_the_link_again_and_counts_no_use(link):
    signup(Client(), link)
    before = state()
    response = signup(Client(), link, display_name="Anderer Name")
    assert response.status_code == 302
    assert state() == before
    assert len(mail.outbox) == 2
    assert "/bestaetigen/" in mail.outbox[1].body


@pytest.mark.parametrize("who,words", [("alice", "Mitglieds"), ("gina", "bereits ein Gastkonto")])
def test_an_address_with_an_account_is_mailed_what_to_do_and_the_page_says_the_same(
    request, link, who, words
):
    person = request.getfixturevalue(who)
    before = state()
    response = signup(Client(), link, email=person.email.upper())
    assert response.status_code == 302
    assert response["Location"] == reverse("advisory:invitation_sent")
    assert state() == before
    (message,) = mail.outbox
    assert message.to == [person.email]
    assert words in message.body


def test_a_taken_display_name_is_a_clear_error_beside_the_field(link, alice):
    before = state()
    response = signup(Client(), link, display_name=alice.display_name.upper())
    assert response.status_code == 200
    assert "Anzeigename ist vergeben" in response.content.decode()
    assert state() == before
    assert not mail.outbox


@pytest.mark.parametrize(
    "fields,field_error",
    [
        ({"password2": "Anders-2026-xyz"}, "unterscheiden sich"),
        ({"password1": "1234567890", "password2": "1234567890"}, "password1"),
        ({"email": "keine-adresse"}, "email"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 61}, "display_name"),
        ({"display_name": "a\x00b"}, "display_name"),
    ],
)
def test_bad_sign_up_fields_are_refused_beside_the_field_and_change_nothing(
    link, fields, field_error
):
    before = state()
    response = signup(Client(), link, **fields)
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    assert field_error in response.content.decode()
    assert state() == before
    assert not mail.outbox


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.sampled_from(["display_name", "email", "password1", "password2", "csrfmiddlewaretoken"]),
        st.text(max_size=300) | st.binary(max_size=50).map(lambda b: b.decode("latin-1")),
        max_size=5,
    )
)
def test_any_sign_up_post_is_answered_and_makes_at_most_one_pending_guest(link, settings, data):
    settings.GUEST_SIGNUP_LIMIT_IP = 10_000  # the limit has its own test
    before = Member.objects.count()
    response = Client().post(link.get_absolute_url(), data)
    assert response.status_code in {200, 302}
    made = Member.objects.count() - before
    assert made in {0, 1}
    if made:
        Member.objects.filter(kind="guest", is_active=False).delete()
        Invitation.objects.filter(pk=link.pk).update(use_count=0)
    mail.outbox.clear()


def test_too_many_sign_ups_from_one_address_get_429(link, settings):
    settings.GUEST_SIGNUP_LIMIT_IP = 2
    Invitation.objects.filter(pk=link.pk).update(max_uses=10)
    client = Client()
    for n in range(2):
        assert (
            signup(client, link, display_name=f"N{n}", email=f"n{n}@example.org").status_code == 302
        )
    before = state()
    response = signup(client, link, display_name="N3", email="n3@example.org")
    assert response.status_code == 429
    assert state() == before


def test_mail_to_one_address_is_limited_silently(link, settings):
    settings.GUEST_SIGNUP_LIMIT_ADDRESS = 1
    signup(Client(), link)
    response = signup(Client(), link)  # the resend
    assert response.status_code == 302
    assert len(mail.outbox) == 1


# --- a guest of another forum, and ending access ------------------------------------------------


def test_a_guest_of_another_forum_adds_this_forum_with_one_button(link, advisory, olga):
    client = client_of(olga)
    page = client.get(link.get_absolute_url())
    assert page.status_code == 200
    assert "In diesem Forum mitmachen" in page.content.decode()
    assert not permissions.can_view_forum(olga, advisory.forum)  # GET changes nothing
    response = client.post(link.get_absolute_url())
    assert response.status_code == 302
    assert permissions.can_participate(olga, advisory.forum)
    link.refresh_from_db()
    assert link.use_count == 1
    # Again: taken part already, nothing counted.
    assert client.post(link.get_absolute_url())["Location"] == advisory.get_absolute_url()
    link.refresh_from_db()
    assert link.use_count == 1


def test_a_guest_already_in_the_forum_is_sent_there_even_by_a_used_up_link(link, advisory, gina):
    Invitation.objects.filter(pk=link.pk).update(use_count=2)
    response = client_of(gina).get(link.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == advisory.get_absolute_url()


def test_ending_a_guests_access_takes_the_forum_away_and_no_later_link_brings_it_back(
    link, advisory, mo, olga
):
    client = client_of(olga)
    client.post(link.get_absolute_url())
    use = InvitationUse.objects.get(guest=olga)
    url = reverse("advisory:guest_end", args=[advisory.forum.slug, use.pk])
    assert client.post(url).status_code == 403  # a guest of the forum, not its organiser
    assert client_of(mo).post(url).status_code == 302
    use.refresh_from_db()
    assert (use.ended_at is not None, use.ended_by) == (True, mo)
    assert not permissions.can_view_forum(olga, advisory.forum)
    assert client.get(advisory.get_absolute_url()).status_code == 404

    second = services.invitation_create(actor=mo, advisory=advisory, affiliation="initiative")
    response = client.post(second.get_absolute_url())
    assert response.status_code == 409
    assert "beendet" in response.content.decode()
    assert not permissions.can_view_forum(olga, advisory.forum)


def test_ending_a_pending_guests_access_means_the_confirmation_grants_nothing(link, advisory, mo):
    signup(Client(), link)
    use = InvitationUse.objects.get()
    services.guest_access_end(actor=mo, use=use)
    response = Client().post(confirmation_path(mail.outbox[0]))
    assert response.status_code == 400
    assert not permissions.can_view_forum(use.guest, advisory.forum)


def test_only_organisers_end_access(link, advisory, alice, olga):
    client_of(olga).post(link.get_absolute_url())
    use = InvitationUse.objects.get()
    with pytest.raises(ServiceError):
        services.guest_access_end(actor=alice, use=use)
    assert permissions.can_participate(olga, advisory.forum)


# --- what guests write --------------------------------------------------------------------------


def test_a_guests_post_waits_for_a_moderator_unless_the_forum_says_otherwise(advisory, gina, mo):
    thread = forum_services.thread_create(actor=mo, forum=advisory.forum, title="T", body="B")
    held, _ = forum_services.post_create(actor=gina, thread=thread, body="Von der Initiative")
    assert held.state == Post.State.HELD
    from consultations.advisory import services as advisory_services

    advisory_services.advisory_update(
        actor=mo, advisory=advisory, topic=advisory.topic, hold_guest_posts=False
    )
    thread = Thread.objects.select_related("forum").get(
        pk=thread.pk
    )  # as the next request reads it
    shown, _ = forum_services.post_create(actor=gina, thread=thread, body="Jetzt sofort")
    assert shown.state == Post.State.PUBLISHED


def test_the_settings_page_sets_whether_guests_posts_wait(advisory, mo):
    url = reverse("advisory:edit", args=[advisory.forum.slug])
    assert client_of(mo).post(url, {"topic": ""}).status_code == 302
    advisory.forum.refresh_from_db()
    assert advisory.forum.hold_guest_posts is False
    client_of(mo).post(url, {"topic": "", "hold_guest_posts": "on"})
    advisory.forum.refresh_from_db()
    assert advisory.forum.hold_guest_posts is True


def test_staff_read_links_and_uses_in_the_admin_but_make_and_change_them_only_on_the_page(
    link, sam, olga
):
    services.guest_join(actor=olga, invitation=link)
    client = client_of(sam)
    for name in ("invitation", "invitationuse"):
        assert client.get(reverse(f"admin:advisory_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:advisory_{name}_add")).status_code == 403
    use = InvitationUse.objects.get()
    page = client.get(reverse("admin:advisory_invitationuse_change", args=[use.pk]))
    assert page.status_code == 200 and b'name="ended_at"' not in page.content
