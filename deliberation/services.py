"""Writes of the core: members, their profiles and invitations."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from deliberation.models import District, Member


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
        )
        if invite:
            transaction.on_commit(lambda: member_send_invitation(member=member))
    return member


def member_update_profile(
    *, member: Member, display_name: str, language: str, district: District | None
) -> Member:
    member.display_name = display_name
    member.language = language
    member.district = district
    member.save(update_fields=["display_name", "language", "district"])
    return member


def member_set_language(*, member: Member, language: str) -> None:
    if language not in {code for code, _ in settings.LANGUAGES}:
        raise ValueError(language)
    member.language = language
    member.save(update_fields=["language"])
