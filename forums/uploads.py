"""Image upload and Markdown preview for the editor, replacing django-markdownx's own views.

markdownx's views check no login, trust the browser's content type and let SVG through. These
answer the same requests its JavaScript sends, with our rules:

* upload (``markdownx_upload``): signed in, allowed to take part in the forum named by the
  ``forum`` POST field (its slug or id) or, without one, in at least one forum; a PNG, JPEG,
  WebP or GIF as Pillow reads it (extension and content type are ignored), at most
  ``MARKDOWNX_UPLOAD_MAX_SIZE`` bytes, within the decoded-pixel and frame budget of
  ``forums.images``. The image is rebuilt from its pixels (no EXIF, XMP, ICC profile, comment or
  text chunk survives) and scaled down to ``IMAGE_UPLOAD_MAX_EDGE``; the decoding runs on this
  process's bounded image workers, not on the request's thread (503 when they are all busy).
  A refused upload writes no file. Success: ``{"image_code": "![](/media/...)"}`` as markdownx's
  JS expects. Refusal: status 400/403/503 with ``{"error": "<message in the user's language>"}``;
  markdownx's JS then fires ``markdownx.fileUploadError`` with that object, so a page can show
  ``error`` in a live region.
* preview (``markdownx_markdownify``): POST, signed in, at most ``PREVIEW_RATE_LIMIT`` per
  member per ``POST_RATE_WINDOW_SECONDS`` (over it: 429 with ``Retry-After`` and the reason as
  plain text in the user's language), rendered by ``deliberation.markup``.
"""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import slug_re
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from deliberation import ratelimit
from deliberation.markup import render_markdown
from deliberation.models import Member
from forums.images import (
    ImageLimits,
    ImageRefused,
    ImagesBusy,
    clean_image,
    image_jobs,
    limits_from_settings,
)
from forums.models import Forum
from forums.permissions import can_participate, can_view_forum, checker_for, visible_forums

PREVIEW_MAX_CHARS = 20_000


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _forum_from_post(request: HttpRequest) -> Forum | None:
    ref = (request.POST.get("forum") or "").strip()
    if not ref:
        return None
    # ASCII digits only: "²" or "١" pass isdigit() but int() refuses them.
    if ref.isascii() and ref.isdigit():
        return Forum.objects.filter(pk=int(ref)).first()
    # Anything else that is no slug names no forum; asking the database about it would fail on
    # PostgreSQL for a NUL byte.
    if not slug_re.match(ref):
        return None
    return Forum.objects.filter(slug=ref).first()


def _may_upload(request: HttpRequest, user: Member | AnonymousUser) -> bool:
    if "forum" in request.POST and request.POST["forum"].strip():
        forum = _forum_from_post(request)
        return (
            forum is not None
            and forum.state == Forum.State.OPEN
            and can_view_forum(user, forum)
            and can_participate(user, forum)
        )
    open_forums = list(visible_forums(user).filter(state=Forum.State.OPEN))
    checker = checker_for(user, open_forums)  # the grants on all of them in one go
    return any(can_participate(user, forum, checker=checker) for forum in open_forums)


def _store(data: bytes, limits: ImageLimits) -> str:
    """The cleaned image saved under a fresh name; runs on an image worker, never on the
    request's thread. Nothing is written unless the image passed every check."""
    clean = clean_image(data, limits=limits)
    folder = timezone.now().strftime(settings.MARKDOWNX_MEDIA_PATH)
    name = default_storage.save(
        f"{folder}{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.data)
    )
    return default_storage.url(name)


def _refusal(refused: ImageRefused) -> JsonResponse:
    limits = limits_from_settings()
    if refused.reason == "frames":
        return _error(
            _("The animation has too many frames: at most %(frames)d are allowed.")
            % {"frames": limits.max_frames},
            400,
        )
    if refused.reason == "pixels":
        return _error(
            _(
                "The image is too large when unpacked: at most %(megapixels)d megapixels "
                "are allowed, counting every frame of an animation."
            )
            % {"megapixels": limits.max_pixels // 1_000_000},
            400,
        )
    return _error(_("Only PNG, JPEG, WebP and GIF images can be uploaded."), 400)


@require_POST
async def image_upload(request: HttpRequest) -> HttpResponse:
    # Async so that decoding runs on an image worker (forums.images.ImageJobs) and only the
    # permission check takes the thread Django runs synchronous database code on.
    user = await request.auser()
    if not user.is_authenticated:
        return _error(_("Please sign in to upload images."), 403)
    if not await sync_to_async(_may_upload)(request, user):
        return _error(_("You may not upload images here."), 403)
    upload = request.FILES.get("image")
    if upload is None:
        return _error(_("Please choose an image."), 400)
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    if upload.size > limit:
        return _error(
            _("The image is too large: at most %(megabytes)d MB are allowed.")
            % {"megabytes": limit // (1024 * 1024)},
            400,
        )
    data = upload.read(limit + 1)
    try:
        url = await image_jobs().run(_store, data, limits_from_settings())
    except ImageRefused as refused:
        return _refusal(refused)
    except ImagesBusy:
        response = _error(_("Many images are being uploaded right now: please try again."), 503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"image_code": f"![]({url})"})


@require_POST
def markdownify(request: HttpRequest) -> HttpResponse:
    """The editor's preview: the same renderer and sanitiser as a saved post."""
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    wait = ratelimit.hit(
        "forums.preview",
        request.user.pk,
        limit=settings.PREVIEW_RATE_LIMIT,
        window=settings.POST_RATE_WINDOW_SECONDS,
    )
    if wait is not None:
        message = ngettext(
            "Too many previews at once. Please wait %(seconds)d second.",
            "Too many previews at once. Please wait %(seconds)d seconds.",
            wait,
        ) % {"seconds": wait}
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(wait)
        return response
    content = request.POST.get("content", "")[:PREVIEW_MAX_CHARS]
    return HttpResponse(render_markdown(content), content_type="text/html; charset=utf-8")
