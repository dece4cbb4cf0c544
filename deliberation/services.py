"""Writes of the core: members, their profiles and invitations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from deliberation.live import access_changed_on_commit
from deliberation.markup import render_page_markdown
from deliberation.models import COMMITTEE_GROUP, District, Member, SitePage

#: Fields :func:`member_update` may change (rights and passwords have their own services).
UPDATABLE_FIELDS = frozenset(
    {"display_name", "full_name", "district", "language", "kind", "affiliation"}
)


def password_link(member: Member) -> str:
    """A signed link that lets ``member`` set a password once, until PASSWORD_RESET_TIMEOUT."""
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = default_token_generator.make_token(member)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return f"{settings.SITE_URL}{path}"


def member_send_invitation(*, member: Member) -> None:
    """Mail a new member the link to set their password, in their preferred language."""
    with translation.override(member.language):
        context = {"member": member, "link": password_link(member), "site_url": settings.SITE_URL}
        subject = render_to_string("registration/invitation_subject.txt", context).strip()
        body = render_to_string("registration/invitation_email.txt", context)
    send_mail(subject, body, None, [member.email])


def member_create(
    *,
    email: str,
    display_name: str,
    full_name: str = "",
    district: District | None = None,
    language: str = "de",
    kind: str = Member.Kind.MEMBER,
    affiliation: str = "",
    badge_label: str = "",
    invite: bool = True,
) -> Member:
    """Create a member without a usable password; with ``invite``, mail the set-password link."""
    with transaction.atomic():
        member = Member.objects.create_user(
            email=email,
            display_name=display_name,
            full_name=full_name,
            district=district,
            language=language,
            kind=kind,
            affiliation=affiliation,
            badge_label=badge_label,
        )
        if invite:
            transaction.on_commit(lambda: member_send_invitation(member=member))
    return member


def member_update(*, member: Member, changes: Mapping[str, Any]) -> list[str]:
    """Set the given fields (see UPDATABLE_FIELDS); save only those that differ.

    Returns the names of the changed fields (empty: nothing was written). The caller has
    validated the values; a display name taken meanwhile raises ``IntegrityError``.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"member_update cannot change {sorted(unknown)}")
    changed = [name for name, value in changes.items() if getattr(member, name) != value]
    if changed:
        for name in changed:
            setattr(member, name, changes[name])
        with transaction.atomic():
            member.save(update_fields=changed)
    return changed


def member_update_profile(
    *, member: Member, display_name: str, language: str, district: District | None
) -> Member:
    """A member's own profile edit; a display name taken meanwhile raises ``IntegrityError``."""
    member_update(
        member=member,
        changes={"display_name": display_name, "language": language, "district": district},
    )
    return member


def member_set_password(*, member: Member, password: str) -> None:
    """Set a password without the strength validators (demo data and tests only).

    Like any password change it ends the member's sessions: their open sockets close now.
    """
    member.set_password(password)
    with transaction.atomic():
        member.save(update_fields=["password"])
        member_sessions_ended(member=member)


def member_sessions_ended(*, member: Member) -> None:
    """Call after some of ``member``'s sessions ended: a logout, a password change or reset.

    Each of the member's open live sockets re-checks its own session now (``access.changed``
    after commit): a socket whose session is gone or no longer verifies closes (4403); those of
    the member's other, still valid sessions stay open. Expiry needs no call: each socket waits
    for its session's expiry itself (``deliberation.session_watch``).
    """
    access_changed_on_commit(member.pk)


def member_set_committee(*, member: Member, on: bool) -> None:
    """Add ``member`` to the programme committee (Programmkommission), or remove them."""
    group = Group.objects.get(name=COMMITTEE_GROUP)
    if on:
        member.groups.add(group)
    else:
        member.groups.remove(group)


def member_set_staff(*, member: Member, on: bool) -> None:
    """Make ``member`` staff with every right in the admin (superuser), or take that away.

    Taking it away reaches the member's open live sockets at once (``access.changed``).
    """
    member.is_staff = on
    member.is_superuser = on
    with transaction.atomic():
        member.save(update_fields=["is_staff", "is_superuser"])
        if not on:
            access_changed_on_commit(member.pk)


def member_set_active(*, member: Member, active: bool) -> bool:
    """Allow or end an account's use of the platform; returns whether anything changed.

    Ending it takes effect everywhere at once: Django refuses an inactive account on its next
    request, and its open live sockets re-check their access now (``access.changed``) and close,
    rather than at their next frame or heartbeat.
    """
    if member.is_active == active:
        return False
    member.is_active = active
    with transaction.atomic():
        member.save(update_fields=["is_active"])
        if not active:
            access_changed_on_commit(member.pk)
    return True


def member_set_language(*, member: Member, language: str) -> None:
    if language not in {code for code, _ in settings.LANGUAGES}:
        raise ValueError(language)
    member.language = language
    member.save(update_fields=["language"])


def site_page_update(
    *, page: SitePage, title_de: str, body_de: str, title_en: str, body_en: str
) -> SitePage:
    """Save a site page's texts, with each language's Markdown rendered and sanitised once."""
    page.title_de = title_de.strip()
    page.body_de = body_de
    page.body_de_html = render_page_markdown(body_de) if body_de.strip() else ""
    page.title_en = title_en.strip()
    page.body_en = body_en
    page.body_en_html = render_page_markdown(body_en) if body_en.strip() else ""
    page.updated_at = timezone.now()
    page.save()
    return page
