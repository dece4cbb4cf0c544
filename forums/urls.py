"""Forum URLs (German paths, like the rest of the site). Mounted at ``/foren/``.

``suche`` would shadow a forum of that short name, so the short names the paths here use are
refused for forums (``forums.models.RESERVED_SLUGS``); the other fixed paths have two segments.
"""

from django.urls import path

from forums import views

app_name = "forums"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("suche/", views.search, name="search"),
    path("thema/<int:pk>/", views.thread_detail, name="thread"),
    path("thema/<int:pk>/antworten/", views.thread_reply, name="thread_reply"),
    path("thema/<int:pk>/zustimmen/", views.thread_agree, name="thread_agree"),
    path("beitrag/<int:pk>/", views.post_permalink, name="post"),
    path("beitrag/<int:pk>/zustimmen/", views.post_agree, name="post_agree"),
    path("beitrag/<int:pk>/bearbeiten/", views.post_edit, name="post_edit"),
    path("beitrag/<int:pk>/loeschen/", views.post_delete, name="post_delete"),
    path("<slug:slug>/", views.forum_detail, name="forum"),
    path("<slug:slug>/neues-thema/", views.thread_create, name="thread_create"),
]
