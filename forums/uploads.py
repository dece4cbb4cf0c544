"""Image upload and Markdown preview for the editor, replacing django-markdownx's own views.

markdownx's views check no login, trust the browser's content type and let SVG through. These
answer the same requests its JavaScript sends, with our rules:

* upload (``markdownx_upload``): signed in, allowed to take part in the forum named by the
  ``forum`` POST field (its slug or id) or, without one, in at least one forum; a PNG, JPEG,
  WebP or GIF as Pillow reads it (extension and content type are ignored), at most
  ``MARKDOWNX_UPLOAD_MAX_SIZE`` bytes. The image is decoded and encoded again, which drops
  metadata such as a photo's GPS position, and scaled down to ``MARKDOWNX_IMAGE_MAX_SIZE``.
  A refused upload writes no file. Success: ``{"image_code": "![](/media/...)"}`` as markdownx's
  JS expects. Refusal: status 400/403 with ``{"error": "<message in the user's language>"}``;
  markdownx's JS then fires ``markdownx.fileUploadError`` with that object, so a page can show
  ``error`` in a live region.
* preview (``markdownx_markdownify``): POST, signed in, rendered by ``deliberation.markup``.
"""

from __future__ import annotations

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import slug_re
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from PIL import Image, UnidentifiedImageError

from deliberation.markup import render_markdown
from forums.models import Forum
from forums.permissions import can_participate, can_view_forum, checker_for, visible_forums

#: Pillow format name -> (file extension, save options)
FORMATS: dict[str, tuple[str, dict]] = {
    "PNG": ("png", {"optimize": True}),
    "JPEG": ("jpg", {"quality": 85}),
    "WEBP": ("webp", {"quality": 85}),
    "GIF": ("gif", {}),
}
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
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


def _may_upload(request: HttpRequest) -> bool:
    user = request.user
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


def _reencode(data: bytes) -> tuple[bytes, str] | None:
    """The image encoded again by Pillow, and its extension; None if it is no allowed image."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in FORMATS:
                return None
            width, height = probe.size
            if width * height > MAX_PIXELS:
                return None
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format
            image.load()
            extension, options = FORMATS[image_format]
            size = settings.MARKDOWNX_IMAGE_MAX_SIZE.get("size", (2000, 2000))
            if image_format == "GIF" and getattr(image, "n_frames", 1) > 1:
                out = io.BytesIO()
                image.save(out, format="GIF", save_all=True)  # keep the animation as it is
                return out.getvalue(), extension
            if image_format == "JPEG" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            image.thumbnail(size)
            out = io.BytesIO()
            image.save(out, format=image_format, **options)
            return out.getvalue(), extension
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


@require_POST
def image_upload(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _error(_("Please sign in to upload images."), 403)
    if not _may_upload(request):
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
    encoded = _reencode(upload.read(limit + 1))
    if encoded is None:
        return _error(_("Only PNG, JPEG, WebP and GIF images can be uploaded."), 400)
    data, extension = encoded
    folder = timezone.now().strftime(settings.MARKDOWNX_MEDIA_PATH)
    name = default_storage.save(f"{folder}{uuid.uuid4().hex}.{extension}", ContentFile(data))
    return JsonResponse({"image_code": f"![]({default_storage.url(name)})"})


@require_POST
def markdownify(request: HttpRequest) -> HttpResponse:
    """The editor's preview: the same renderer and sanitiser as a saved post."""
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    content = request.POST.get("content", "")[:PREVIEW_MAX_CHARS]
    return HttpResponse(render_markdown(content), content_type="text/html; charset=utf-8")
