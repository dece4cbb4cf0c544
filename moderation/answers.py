"""How a moderation action answers: a redirect with a message (plain form), or JSON (fetch).

The queue page's script (moderation/static/moderation/js/queue.js) submits the same forms with
``fetch`` and the header ``X-Requested-With: fetch``. It gets the same checks (CSRF, login,
access, the services' rules) and, instead of a redirect and a flash message, JSON:
``{"ok", "message", "case", "html"}`` where ``html`` is the case as the queue shows it now
(``moderation/_queue_item.html``, the one template of a case) or ``""`` once it left the queue.
Refusals keep their meaning in the status: 400 bad input, 403 not allowed, 404 not found or not
yours to moderate (existence stays secret), 409 the case changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from deliberation.fetch import wants_json as is_fetch
from forums.errors import ServiceError

#: ServiceError codes -> HTTP status of the fetch answer.
STATUS = {"forbidden": 403, "not_found": 404, "conflict": 409}


def fetch_aware(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a refused fetch with JSON in the user's language, not an HTML error page.

    Put it inside ``login_required`` and ``require_POST``; the plain form path is unchanged.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_fetch(request):
            return view(request, *args, **kwargs)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            message = _("This case does not exist, or you do not moderate its forum.")
            return JsonResponse({"ok": False, "message": message, "html": ""}, status=404)
        except PermissionDenied:
            message = _("Only moderators of this forum may do this.")
            return JsonResponse({"ok": False, "message": message, "html": ""}, status=403)

    return wrapper


def case_of(request: HttpRequest) -> int | None:
    """The queue case a form was sent from (its hidden ``case`` field), if any."""
    raw = request.POST.get("case", "")
    # isascii: str.isdigit() also accepts "²" and "٣", which int() refuses or reads as digits.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: the ``next`` the form carried if it is ours, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def back_to(request: HttpRequest, default: str, *, case_pk: int | None = None) -> str:
    """Where the plain form returns (:func:`next_url`); from the queue, at the case's anchor
    (``#case-<id>``)."""
    back = next_url(request, default)
    if case_pk is not None and "#" not in back:
        back += f"#case-{case_pk}"
    return back


def _queue_url_of(request: HttpRequest) -> str:
    """The queue page the fetch came from (its ``next`` without the anchor), for the forms of
    the case fragment."""
    return back_to(request, "").split("#", 1)[0]


def case_html(request: HttpRequest, case_pk: int | None) -> str:
    """The case as the queue shows it now to this moderator, or "" once it left the queue."""
    from moderation import selectors
    from moderation.views import decorate

    if case_pk is None:
        return ""
    item = selectors.queue_item(user=request.user, kind="case", pk=case_pk)
    if item is None:
        return ""
    context = {
        "item": decorate([item], user=request.user)[0],
        "next_url": _queue_url_of(request),
    }
    return render_to_string("moderation/_queue_item.html", context, request=request)


def answer(
    request: HttpRequest,
    *,
    ok: bool,
    message: str,
    back: str,
    case_pk: int | None = None,
    status: int = 200,
) -> HttpResponse:
    """The one answer of an action: JSON for a fetch, else a flash message and a redirect."""
    if is_fetch(request):
        return JsonResponse(
            {"ok": ok, "message": message, "case": case_pk, "html": case_html(request, case_pk)},
            status=status if not ok else 200,
        )
    (messages.success if ok else messages.error)(request, message)
    return HttpResponseRedirect(back)


def run(
    request: HttpRequest,
    action: Callable[[], Any],
    success: str,
    *,
    back: str,
    case_pk: int | None = None,
) -> HttpResponse:
    """Call ``action`` (a service); answer its success or its refusal (which changed nothing)."""
    try:
        action()
    except ServiceError as error:
        return answer(
            request,
            ok=False,
            message=error.message,
            back=back,
            case_pk=case_pk,
            status=STATUS.get(error.code, 400),
        )
    return answer(request, ok=True, message=success, back=back, case_pk=case_pk)


def invalid(request: HttpRequest, form: Any, *, back: str, case_pk: int | None = None) -> Any:
    """Answer a form whose input is malformed: each error with its field's label."""
    texts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        texts.extend(f"{label}: {error}" if label else str(error) for error in errors)
    if is_fetch(request):
        return JsonResponse(
            {
                "ok": False,
                "message": " ".join(texts),
                "errors": {field: list(errors) for field, errors in form.errors.items()},
                "case": case_pk,
                "html": "",
            },
            status=400,
        )
    for text in texts:
        messages.error(request, text)
    return HttpResponseRedirect(back)
