"""Invitation links and the guests who come in through them.

How an outside person gets in:

1. An organiser makes a link (:func:`invitation_create`): single or multiple use, valid until a
   date, carrying the organisation and badge its guests will wear. She can withdraw it
   (:func:`invitation_revoke`); guests who came in keep their access.
2. A person without an account opens it and registers (:func:`guest_register`): display name,
   e-mail address, password. The account is inactive until the address is confirmed through a
   signed link mailed to it (:func:`guest_confirm`); only then may the guest take part, and only in
   that forum. A person whose address has an account already is mailed what to do instead, and
   the page says the same to everyone, so the form reveals no address.
3. A guest who is signed in adds the forum to the account (:func:`guest_join`). A member who opens
   a guest's link is told it is for guests, and nothing changes.
4. An organiser ends a guest's access (:func:`guest_access_end`): the grants go, the guest's open
   sockets close at once, and no later link lets the guest back into that forum.

Each link counts its uses under a row lock, and the database refuses more uses than allowed.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consultations.advisory.invitations.models import Invitation, InvitationUse
from consultations.advisory.models import AdvisoryForum, Organisation
from consultations.advisory.permissions import can_organise
from consultations.inputs import clean_text
from deliberation.models import Member
from forums import services as forum_services
from forums.errors import ServiceError

logger = logging.getLogger(__name__)

MAX_USES = 500
MAX_VALID_DAYS = 90
MAX_LABEL = 120
MAX_BADGE = 60
TOKEN_BYTES = 32
#: The characters of a key (``secrets.token_urlsafe``: URL-safe base64).
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")
#: What :func:`guest_confirm`'s signature is bound to (a link for another purpose never fits).
CONFIRM_SALT = "consultations.advisory.invitations.confirm"

#: The words for a link that cannot be used, by :meth:`Invitation.status`.
UNUSABLE = {
    "revoked": lambda: _("The organisers have withdrawn this invitation link."),
    "expired": lambda: _("This invitation link has expired."),
    "used_up": lambda: _("This invitation link has been used as often as it may be."),
}


def _require_organiser(actor: Any, advisory: AdvisoryForum) -> None:
    if not can_organise(actor, advisory):
        raise ServiceError("forbidden", _("Only the forum's organisers may change this."))


def _whole(value: Any, *, low: int, high: int, label: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = low - 1
    if not low <= number <= high:
        raise ServiceError(
            "invalid",
            _("%(field)s: please give a whole number from %(low)d to %(high)d.")
            % {"field": label, "low": low, "high": high},
        )
    return number


def badge_for(affiliation: str, organisation: Organisation | None) -> str:
    """The words of the badge a link's guests carry: the organisation's own, else "Kind: Name";
    without an organisation '' (the kind's name then shows, in each reader's language)."""
    if organisation is None:
        return ""
    if organisation.badge_label:
        return organisation.badge_label
    kind = str(Member.Affiliation(affiliation).label)
    return f"{kind}: {organisation.name}"[:MAX_BADGE]


def invitation_create(
    *,
    actor: Member,
    advisory: AdvisoryForum,
    affiliation: Any,
    organisation: Organisation | None = None,
    label: Any = "",
    max_uses: Any = 1,
    valid_days: Any = 14,
) -> Invitation:
    """A new link (organisers and staff)."""
    _require_organiser(actor, advisory)
    if affiliation not in Member.Affiliation.values or not affiliation:
        raise ServiceError("invalid", _("Please choose the kind of badge."))
    if organisation is not None and organisation.advisory_id != advisory.pk:
        raise ServiceError("invalid", _("That organisation does not take part in this forum."))
    uses = _whole(max_uses, low=1, high=MAX_USES, label=_("Maximum uses"))
    days = _whole(valid_days, low=1, high=MAX_VALID_DAYS, label=_("Valid for (days)"))
    return Invitation.objects.create(
        advisory=advisory,
        token=secrets.token_urlsafe(TOKEN_BYTES),
        label=clean_text(label, limit=MAX_LABEL, label=_("Note for the organisers")),
        organisation=organisation,
        affiliation=affiliation,
        badge_label=badge_for(affiliation, organisation),
        max_uses=uses,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor,
    )


def invitation_revoke(*, actor: Member, invitation: Invitation) -> Invitation:
    """Withdraw a link: nobody new comes in through it; who came in stays. Idempotent."""
    _require_organiser(actor, invitation.advisory)
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_by_token(token: Any) -> Invitation | None:
    """The link with this key (its forum and organisation along), or None."""
    token = str(token or "")
    if not 20 <= len(token) <= 64 or not _TOKEN_CHARS.fullmatch(token):
        return None  # never a query with what no key holds (PostgreSQL refuses NUL, for one)
    return (
        Invitation.objects.select_related("advisory__forum", "organisation")
        .filter(token=token)
        .first()
    )


def _lock_usable(invitation: Invitation) -> Invitation:
    """The link's row, locked, if it may be used now; else ServiceError with the reason."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    status = locked.status()
    if status != "valid":
        raise ServiceError("closed", UNUSABLE[status](), details={"reason": status})
    return locked


def _count_use(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(use_count=F("use_count") + 1)


# --- registration and confirmation --------------------------------------------------------------


def confirmation_link(member: Member) -> str:
    """A signed link confirming ``member``'s address, valid for ``GUEST_CONFIRM_TIMEOUT``."""
    token = signing.dumps({"m": member.pk, "e": member.email}, salt=CONFIRM_SALT)
    path = reverse("advisory:guest_confirm", kwargs={"token": token})
    return f"{settings.SITE_URL}{path}"


def _mail(member_or_address: Member | str, template: str, context: dict[str, Any]) -> None:
    """Send ``registration/<template>_subject.txt`` and ``_email.txt`` after commit, in the
    recipient's language (or the request's, for an address without an account)."""
    if isinstance(member_or_address, Member):
        language, address = member_or_address.language, member_or_address.email
    else:
        language, address = translation.get_language() or "de", member_or_address
    context = {**context, "site_url": settings.SITE_URL}

    def send() -> None:
        with translation.override(language):
            subject = render_to_string(f"registration/{template}_subject.txt", context).strip()
            body = render_to_string(f"registration/{template}_email.txt", context)
        send_mail(subject, body, None, [address])

    transaction.on_commit(send)


@dataclass(frozen=True)
class Registered:
    """What :func:`guest_register` did; the page says the same in every case."""

    outcome: str  # "created", "resent", "has_account", "is_member"
    member: Member | None


def _pending_uses(member: Member) -> Any:
    return InvitationUse.objects.filter(guest=member, confirmed_at=None, ended_at=None)


def guest_register(
    *,
    invitation: Invitation,
    display_name: str,
    email: str,
    password: str,
    language: str = "de",
) -> Registered:
    """A guest account for the person who opened ``invitation`` (inactive until confirmed).

    The caller has validated the fields' shape and the password's strength. A display name
    taken by anyone raises ServiceError ``conflict``; an unusable link ``closed`` with its
    reason in ``details``.
    """
    email = Member.objects.normalize_email(email).strip().lower()
    forum = invitation.advisory.forum
    link = f"{settings.SITE_URL}{invitation.get_absolute_url()}"
    context = {"forum": forum, "invitation_link": link}
    with transaction.atomic():
        locked = _lock_usable(invitation)
        existing = Member.objects.filter(email__iexact=email).first()
        if existing is not None:
            if existing.is_guest and not existing.is_active and _pending_uses(existing).exists():
                _mail(existing, "guest_confirm", {**context, "link": confirmation_link(existing)})
                return Registered("resent", existing)
            if existing.is_guest:
                _mail(existing, "guest_has_account", {**context, "member": existing})
                return Registered("has_account", existing)
            _mail(existing, "guest_is_member", {**context, "member": existing})
            return Registered("is_member", existing)
        if Member.objects.filter(display_name__iexact=display_name.strip()).exists():
            raise ServiceError("conflict", _("This display name is taken. Please choose another."))
        try:
            with transaction.atomic():
                member = Member.objects.create_user(
                    email=email,
                    password=password,
                    display_name=display_name.strip(),
                    language=language if language in dict(settings.LANGUAGES) else "de",
                    kind=Member.Kind.GUEST,
                    affiliation=locked.affiliation,
                    badge_label=locked.badge_label,
                    is_active=False,
                )
        except IntegrityError:  # the same name or address, registered a moment ago
            raise ServiceError(
                "conflict", _("This display name is taken. Please choose another.")
            ) from None
        InvitationUse.objects.create(invitation=locked, guest=member)
        _count_use(locked)
        _mail(member, "guest_confirm", {**context, "link": confirmation_link(member)})
    logger.info("guest %s registered through invitation %s", member.pk, locked.pk)
    return Registered("created", member)


def guest_confirm(*, token: Any) -> tuple[Member, list[AdvisoryForum]]:
    """Confirm the address a signed link was mailed to: the account becomes active and takes part
    in the forums it was invited to. Returns the guest and those forums.

    ServiceError ``closed`` (too old: the invitation link again mails a new one), ``invalid``
    (not ours, or the address changed since), ``conflict`` (confirmed before).
    """
    try:
        data = signing.loads(
            str(token or "")[:400], salt=CONFIRM_SALT, max_age=settings.GUEST_CONFIRM_TIMEOUT
        )
        member_pk, email = int(data["m"]), str(data["e"])
    except signing.SignatureExpired:
        raise ServiceError(
            "closed",
            _(
                "This confirmation link has expired. "
                "Open the invitation link again to get a new one."
            ),
        ) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        raise ServiceError("invalid", _("This confirmation link is not valid.")) from None
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(pk=member_pk, kind="guest").first()
        if member is None or member.email != email:
            raise ServiceError("invalid", _("This confirmation link is not valid."))
        uses = list(_pending_uses(member).select_related("invitation__advisory__forum"))
        if not uses:
            if member.is_active:
                raise ServiceError(
                    "conflict", _("Your address is confirmed already. Please sign in.")
                )
            raise ServiceError("invalid", _("This confirmation link is not valid."))
        now = timezone.now()
        member.is_active = True
        member.save(update_fields=["is_active"])
        InvitationUse.objects.filter(pk__in=[use.pk for use in uses]).update(confirmed_at=now)
        advisories = []
        for use in uses:
            advisory = use.invitation.advisory
            forum_services.guest_participation_grant(forum=advisory.forum, member=member)
            advisories.append(advisory)
    return member, advisories


def guest_join(*, actor: Member, invitation: Invitation) -> str:
    """A signed-in guest takes up another forum's link: ``joined``, or ``already`` (nothing
    changes). A member, or a guest whose access to this forum an organiser ended, gets
    ServiceError."""
    if not actor.is_authenticated or not actor.is_active:
        raise ServiceError("forbidden", _("Please sign in first."))
    if not actor.is_guest:
        raise ServiceError(
            "forbidden",
            _("This invitation is for guests. As a member you need none, so nothing changed."),
        )
    advisory = invitation.advisory
    with transaction.atomic():
        locked = _lock_usable(invitation)
        uses = InvitationUse.objects.filter(guest=actor, invitation__advisory=advisory)
        if uses.filter(ended_at__isnull=False).exists():
            raise ServiceError(
                "forbidden",
                _("The organisers have ended your access to this forum."),
                details={"reason": "ended"},
            )
        if uses.exists():
            return "already"
        InvitationUse.objects.create(invitation=locked, guest=actor, confirmed_at=timezone.now())
        _count_use(locked)
        forum_services.guest_participation_grant(forum=advisory.forum, member=actor)
    return "joined"


def guest_access_end(*, actor: Member, use: InvitationUse) -> None:
    """End a guest's access to the forum of ``use`` (organisers and staff): every use of the
    guest's in this forum ends, the grants go, the guest's open sockets close. Idempotent."""
    advisory = use.invitation.advisory
    _require_organiser(actor, advisory)
    with transaction.atomic():
        InvitationUse.objects.filter(
            guest_id=use.guest_id, invitation__advisory=advisory, ended_at=None
        ).update(ended_at=timezone.now(), ended_by=actor)
        forum_services.guest_participation_end(forum=advisory.forum, member=use.guest)
