"""The member admin: staff add members through the same service as the import."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from deliberation.models import Member

pytestmark = pytest.mark.django_db

ADD = reverse("admin:deliberation_member_add")


def new_member(**changes) -> dict[str, str]:
    data = {
        "email": "Neu@Example.org",
        "display_name": "Neu",
        "full_name": "Nina Neu",
        "district": "",
        "language": "en",
        "kind": "member",
        "affiliation": "",
    }
    data.update(changes)
    return data


def test_staff_add_a_member_who_is_invited_and_has_no_password(
    client, sam, django_capture_on_commit_callbacks
):
    client.force_login(sam)
    assert client.get(ADD).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, new_member())
    assert response.status_code == 302
    member = Member.objects.get(email="neu@example.org")
    assert (member.display_name, member.full_name, member.language) == ("Neu", "Nina Neu", "en")
    assert not member.has_usable_password()
    assert [message.to for message in mail.outbox] == [["neu@example.org"]]


def test_the_admin_refuses_a_taken_address_or_display_name(client, sam, alice):
    sam.language = "en"  # messages in English whatever the German catalogue says
    sam.save(update_fields=["language"])
    client.force_login(sam)
    response = client.post(ADD, new_member(email="ALICE@example.org", display_name="alice"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "A member with this e-mail address exists already." in body
    assert "This display name is already taken." in body
    assert Member.objects.filter(email__iexact="alice@example.org").count() == 1


def test_staff_can_send_a_fresh_link_to_selected_members(client, sam, alice, bob):
    client.force_login(sam)
    response = client.post(
        reverse("admin:deliberation_member_changelist"),
        {"action": "send_invitation", "_selected_action": [alice.pk, bob.pk]},
    )
    assert response.status_code == 302
    assert sorted(message.to[0] for message in mail.outbox) == [alice.email, bob.email]


def test_the_member_list_and_change_page_render(client, sam, alice, gina):
    client.force_login(sam)
    assert client.get(reverse("admin:deliberation_member_changelist")).status_code == 200
    change = reverse("admin:deliberation_member_change", args=[gina.pk])
    assert client.get(change).status_code == 200


def test_a_member_who_is_not_staff_cannot_open_the_admin(client, alice):
    client.force_login(alice)
    assert client.get(ADD).status_code == 302
