"""django-markdownx's URL names, answered by our guarded views (see ``forums.uploads``).

Included by ``deliberation.urls`` under ``markdownx/``; the names are markdownx's own, so its
widget finds them with ``reverse()``.
"""

from django.urls import path

from forums import uploads

urlpatterns = [
    path("upload/", uploads.image_upload, name="markdownx_upload"),
    path("markdownify/", uploads.markdownify, name="markdownx_markdownify"),
]
