"""Factories for tests: small functions that build valid objects with sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import Group

from deliberation.models import COMMITTEE_GROUP, District, Member

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-7"


def make_member(**fields: Any) -> Member:
    n = next(_counter)
    fields.setdefault("email", f"member{n}@example.org")
    fields.setdefault("display_name", f"Mitglied {n}")
    fields.setdefault("district", District.objects.order_by("pk").first())
    password = fields.pop("password", PASSWORD)
    return Member.objects.create_user(password=password, **fields)


def make_guest(**fields: Any) -> Member:
    fields.setdefault("kind", Member.Kind.GUEST)
    fields.setdefault("affiliation", Member.Affiliation.INITIATIVE)
    fields.setdefault("district", None)
    return make_member(**fields)


def make_committee_member(**fields: Any) -> Member:
    member = make_member(**fields)
    member.groups.add(Group.objects.get(name=COMMITTEE_GROUP))
    return member


def make_staff(**fields: Any) -> Member:
    fields.setdefault("is_staff", True)
    fields.setdefault("is_superuser", True)
    return make_member(**fields)
