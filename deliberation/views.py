from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from pathlib import Path

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from deliberation import notifications as notices
from deliberation import selectors, services
from deliberation.forms import ProfileForm, row_id
from deliberation.models import Member, Notification

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "deliberation/home.html", selectors.dashboard(user=request.user))


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    member = request.user
    if request.method == "POST":
        # The form validates a copy: a rejected display name must not show up in the page header.
        form = ProfileForm(request.POST, instance=Member.objects.get(pk=member.pk))
        if form.is_valid():
            try:
                services.member_update_profile(
                    member=member,
                    display_name=form.cleaned_data["display_name"],
                    language=form.cleaned_data["language"],
                    district=form.cleaned_data["district"],
                )
            except IntegrityError:
                # Someone took the name between the form's check and the save.
                member.refresh_from_db()
                form.add_error("display_name", _("This display name is already taken."))
            else:
                translation.activate(member.language)
                messages.success(request, _("Your profile has been saved."))
                response = redirect("profile")
                _set_language_cookie(response, member.language)
                return response
    else:
        form = ProfileForm(instance=member)
    return render(request, "deliberation/profile.html", {"form": form})


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 86400,
        samesite="Lax",
        secure=settings.PRODUCTION,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language; a signed-in member's choice is kept in their profile."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in {code for code, _name in settings.LANGUAGES}:
        messages.error(request, _("This language is not available."))
        return response
    if request.user.is_authenticated:
        services.member_set_language(member=request.user, language=language)
    _set_language_cookie(response, language)
    return response


async def _channel_layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    return message.get("type") == "healthz.ping"


def _database_ok() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


@never_cache
async def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database and the channel layer answer, 503 otherwise (for the proxy)."""
    checks: dict[str, bool] = {}
    try:
        checks["database"] = await sync_to_async(_database_ok)()
    except Exception:
        logger.exception("healthz: database")
        checks["database"] = False
    try:
        checks["channel_layer"] = await _channel_layer_ok()
    except Exception:
        logger.exception("healthz: channel layer")
        checks["channel_layer"] = False
    status = 200 if all(checks.values()) else 503
    return JsonResponse({"status": "ok" if status == 200 else "failing", **checks}, status=status)


NOTIFICATIONS_PER_PAGE = 30


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The member's notifications, newest first, worded in the language of the page."""
    rows = Notification.objects.filter(member=request.user).order_by("-created_at", "-id")
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    language = translation.get_language()
    entries = [
        {"notification": row, "text": notices.render(row, language=language)}
        for row in page.object_list
    ]
    return render(
        request,
        "deliberation/notifications.html",
        {
            "page_obj": page,
            "entries": entries,
            "unread_count": notices.unread_for(member=request.user).count(),
        },
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of them as read."""
    raw = request.POST.get("id")
    ids = None
    if raw is not None:
        pk = row_id(raw)
        if pk is None:
            messages.error(request, _("This notification does not exist."))
            return redirect("notifications")
        ids = [pk]
    notices.mark_read(member=request.user, ids=ids)
    if ids is None:
        messages.success(request, _("All notifications are marked as read."))
    else:
        messages.success(request, _("The notification is marked as read."))
    return redirect("notifications")


def site_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Impressum, privacy, accessibility or contact: the text staff wrote in the admin."""
    page = selectors.site_page(slug=slug, language=translation.get_language() or "de")
    return render(request, "deliberation/site_page.html", {"page": page})


#: The favicon browsers and feed readers ask for at /favicon.ico, read once per process.
_FAVICON = Path(__file__).resolve().parent / "static" / "deliberation" / "img" / "favicon.ico"


@lru_cache(maxsize=1)
def _favicon_bytes() -> bytes:
    return _FAVICON.read_bytes()


@require_GET
@cache_control(max_age=7 * 86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers fetch whatever the page's <link rel=icon> says."""
    return HttpResponse(_favicon_bytes(), content_type="image/vnd.microsoft.icon")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (an expired or missing CSRF token): our 403 page, saying what to do."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
