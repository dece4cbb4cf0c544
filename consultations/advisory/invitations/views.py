"""The invitation pages: the link a guest opens, the e-mail confirmation, and the organisers'
list of links and of who came in through them."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consultations.advisory import permissions
from consultations.advisory.invitations import selectors, services
from consultations.advisory.invitations.forms import GuestSignupForm, InvitationForm
from consultations.advisory.invitations.models import Invitation, InvitationUse
from consultations.advisory.views import object_or_404
from deliberation import ratelimit
from deliberation.client_ip import client_ip
from forums.errors import ServiceError
from forums.views import login_if_anonymous

HOUR = 3600


def _unusable(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "advisory/invitation_unusable.html", {"message": message}, status=status)


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link a guest opens: sign up (anonymous), add the forum (a signed-in guest), or be told
    it is for guests (a member). An unknown, withdrawn, expired or used-up link says so."""
    found = services.invitation_by_token(token)
    if found is None:
        return _unusable(
            request,
            _(
                "This invitation link is not valid. Please check that you copied all of it, "
                "or ask the organisers for a new one."
            ),
            status=404,
        )
    user = request.user
    forum = found.advisory.forum
    context = {"invitation": found, "forum": forum, "advisory": found.advisory}
    if user.is_authenticated and not user.is_guest:
        return render(request, "advisory/invitation_member.html", context)
    if user.is_authenticated and selectors.takes_part(user, found.advisory):
        messages.info(request, _("You take part in this forum already."))
        return redirect(found.advisory)
    status = found.status()
    if status != "valid":
        return _unusable(request, str(services.UNUSABLE[status]()), status=410)
    if user.is_authenticated:
        return _join(request, found, context)
    return _signup(request, found, context)


def _join(request: HttpRequest, found: Invitation, context: dict) -> HttpResponse:
    if request.method == "POST":
        try:
            outcome = services.guest_join(actor=request.user, invitation=found)
        except ServiceError as error:
            ended = error.details.get("reason") == "ended"
            return _unusable(request, error.message, status=409 if ended else 410)
        if outcome == "joined":
            messages.success(
                request, _("Welcome! You now take part in “%(forum)s”.") % {"forum": found.advisory}
            )
        return redirect(found.advisory)
    return render(request, "advisory/invitation_join.html", context)


def _signup(request: HttpRequest, found: Invitation, context: dict) -> HttpResponse:
    if request.method != "POST":
        form = GuestSignupForm()
        return render(request, "advisory/invitation.html", {**context, "form": form})
    retry = ratelimit.hit(
        "guest-signup-ip", client_ip(request), limit=settings.GUEST_SIGNUP_LIMIT_IP, window=HOUR
    )
    if retry is not None:
        return render(request, "advisory/invitation_limited.html", context, status=429)
    form = GuestSignupForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        address = data["email"].strip().lower()
        limited = ratelimit.hit(
            "guest-signup-address",
            address,
            limit=settings.GUEST_SIGNUP_LIMIT_ADDRESS,
            window=HOUR,
        )
        if limited is not None:  # as if sent; nothing is
            return redirect("advisory:invitation_sent")
        try:
            services.guest_register(
                invitation=found,
                display_name=data["display_name"],
                email=address,
                password=data["password1"],
                language=get_language() or "de",
            )
        except ServiceError as error:
            if error.code != "conflict":
                return _unusable(request, error.message, status=410)
            form.add_error("display_name", error.message)
        else:
            return redirect("advisory:invitation_sent")
    return render(request, "advisory/invitation.html", {**context, "form": form})


def invitation_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "advisory/invitation_sent.html")


def guest_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation mail: a button (a mail scanner's GET confirms nothing); its
    POST activates the account, signs the guest in and opens the forum."""
    if request.method != "POST":
        return render(request, "advisory/guest_confirm.html", {"token": token})
    try:
        member, advisories = services.guest_confirm(token=token)
    except ServiceError as error:
        if error.code == "conflict":
            messages.info(request, error.message)
            return redirect("login")
        return _unusable(request, error.message, status=400)
    login(request, member, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(
        request,
        _("Your address is confirmed. Welcome, %(name)s!") % {"name": member.display_name},
    )
    return redirect(advisories[0] if advisories else "home")


# --- organisers ---------------------------------------------------------------------------------


@login_if_anonymous
def invitation_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisers' links and who came in through each; a new link below."""
    advisory = permissions.access_advisory(request.user, slug, organise=True)
    organisations = advisory.organisations.all()
    if request.method == "POST":
        form = InvitationForm(request.POST, organisations=organisations)
        if form.is_valid():
            try:
                made = services.invitation_create(
                    actor=request.user, advisory=advisory, **form.cleaned_data
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("The link has been made. Copy it from the list and pass it on.")
                )
                return redirect(f"{request.path}#invitation-{made.pk}")
    else:
        form = InvitationForm(organisations=organisations)
    return render(
        request,
        "advisory/invitations.html",
        {
            "advisory": advisory,
            "forum": advisory.forum,
            "form": form,
            "invitations": selectors.invitations_of(advisory),
            "site_url": settings.SITE_URL,
        },
    )


@login_if_anonymous
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    advisory = permissions.access_advisory(request.user, slug, organise=True)
    found = object_or_404(Invitation.objects.filter(advisory=advisory), pk)
    services.invitation_revoke(actor=request.user, invitation=found)
    messages.success(
        request, _("The link has been withdrawn. Guests who came in keep their access.")
    )
    return redirect(reverse("advisory:invitations", kwargs={"slug": slug}))


@login_if_anonymous
@require_POST
def guest_end(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    advisory = permissions.access_advisory(request.user, slug, organise=True)
    use = object_or_404(
        InvitationUse.objects.filter(invitation__advisory=advisory).select_related(
            "guest", "invitation__advisory__forum"
        ),
        pk,
    )
    services.guest_access_end(actor=request.user, use=use)
    messages.success(
        request,
        _("%(name)s no longer has access to this forum.") % {"name": use.guest.display_name},
    )
    return redirect(reverse("advisory:invitations", kwargs={"slug": slug}))
