"""Model instances from hand-written SQL (deliberation.rawrows): the same as the ORM's."""

from __future__ import annotations

import pytest
from django.db import connection

from deliberation import rawrows
from deliberation.models import Member

pytestmark = pytest.mark.django_db


def _row(reader: rawrows.RowReader, pk: int) -> tuple:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {reader.columns('m')} FROM {quote(reader.table)} m WHERE m.id = %s",
            [pk],
        )
        return cursor.fetchone()


def test_a_row_becomes_the_instance_the_orm_builds(alice):
    reader = rawrows.reader(Member, connection)
    built = reader.build(_row(reader, alice.pk))
    fetched = Member.objects.get(pk=alice.pk)
    for field in Member._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(fetched, field.attname), field.name
    assert built.date_joined.tzinfo is not None  # converted (SQLite stores text)
    assert built._state.adding is False and built._state.db == "default"


def test_a_subset_defers_the_rest_whatever_order_it_is_asked_in(alice, django_assert_num_queries):
    reader = rawrows.reader(Member, connection, ["is_active", "display_name"])
    with django_assert_num_queries(1):
        built = reader.build(_row(reader, alice.pk))
        assert (built.pk, built.display_name, built.is_active) == (
            alice.pk,
            alice.display_name,
            True,
        )
    with django_assert_num_queries(1):  # a deferred field loads on first use, as with only()
        assert built.email == alice.email
    assert rawrows.reader(Member, connection, ["is_active", "display_name"]) is reader
