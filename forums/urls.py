"""Forum URLs (German paths, like the rest of the site). Mounted at ``/foren/``.

A forum whose short name is ``suche`` would be shadowed by the search page; the other fixed
paths have two segments and cannot clash with a forum's short name.
"""

from django.urls import path

from forums import views

app_name = "forums"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("suche/", views.search, name="search"),
    path("thema/<int:pk>/", views.thread_detail, name="thread"),
    path("thema/<int:pk>/antworten/", views.thread_reply, name="thread_reply"),
    path("beitrag/<int:pk>/", views.post_permalink, name="post"),
    path("beitrag/<int:pk>/zustimmen/", views.post_agree, name="post_agree"),
    path("beitrag/<int:pk>/bearbeiten/", views.post_edit, name="post_edit"),
    path("beitrag/<int:pk>/loeschen/", views.post_delete, name="post_delete"),
    path("<slug:slug>/", views.forum_detail, name="forum"),
    path("<slug:slug>/neues-thema/", views.thread_create, name="thread_create"),
]
