"""The moderation log is append-only: no service, model method, queryset, admin page or (on
the database) statement changes or deletes an entry."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from moderation import services
from moderation.models import AppendOnlyError, ModerationAction
from tests import factories
from tests.moderation.world import fast_hashing_and_fresh_rate_limits  # noqa: F401


@pytest.fixture
def entry(sam, mo):
    forum = factories.make_forum(actor=sam)
    services.moderator_grant(actor=sam, forum=forum, member=mo)
    return ModerationAction.objects.get(action="moderator_granted")


def test_no_service_changes_or_deletes_a_log_entry():
    public = [name for name in dir(services) if not name.startswith("_")]
    assert not [n for n in public if "log" in n and any(v in n for v in ("edit", "delete"))]


def test_saving_an_existing_entry_is_refused(entry):
    entry.reason_text = "geändert"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.save(update_fields=["reason_text"])


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert ModerationAction.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_are_refused(entry):
    with pytest.raises(AppendOnlyError):
        ModerationAction.objects.filter(pk=entry.pk).update(reason_text="x")
    with pytest.raises(AppendOnlyError):
        ModerationAction.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ModerationAction.objects.bulk_update([entry], ["reason_text"])
    assert ModerationAction.objects.get(pk=entry.pk).reason_text == ""


def test_the_database_refuses_an_update_behind_the_models_back(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE moderation_moderationaction SET reason_text = 'x' WHERE id = %s", [entry.pk]
        )
    assert ModerationAction.objects.get(pk=entry.pk).reason_text == ""


def test_the_admin_shows_the_log_but_refuses_to_change_or_delete_it(entry, sam):
    client = Client()
    client.force_login(sam)
    change = reverse("admin:moderation_moderationaction_change", args=[entry.pk])
    delete = reverse("admin:moderation_moderationaction_delete", args=[entry.pk])
    add = reverse("admin:moderation_moderationaction_add")
    assert client.get(change).status_code == 200  # read-only view
    response = client.post(change, {"reason_text": "geändert", "action": "post_hidden"})
    assert response.status_code == 403
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(add).status_code == 403
    assert ModerationAction.objects.get(pk=entry.pk).reason_text == ""
