"""Helpers of the conference page tests: log in with the interface in English, so assertions
read the English source strings whatever the German catalogue says."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from deliberation.models import Member


def login(client: Any, member: Member | None) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if member is not None:
        Member.objects.filter(pk=member.pk).update(language="en")
        member.refresh_from_db()
        client.force_login(member)
    return client


def html_of(client: Any, member: Member | None, url: str) -> str:
    login(client, member)
    return client.get(url).content.decode()
