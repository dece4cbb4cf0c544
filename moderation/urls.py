"""Moderation URLs (German paths, like the rest of the site). Mounted at ``/moderation/``.

Fixed first segments (``beitrag``, ``fall``, ``einspruch``, ``thema``, ``eintrag``) come before
the forum's short name, so a forum cannot shadow them; a forum named like one of them would lose
its queue URL, which forum_create's slug check is the place to prevent.
"""

from django.urls import path

from moderation import views, views_forum

app_name = "moderation"

urlpatterns = [
    path("", views.staff_queue, name="staff_queue"),
    # One queue item as an HTML fragment (the live queue page fetches it).
    path("eintrag/<str:kind>/<int:pk>/", views.queue_item, name="item"),
    # Posts: a participant reports or appeals, a moderator acts.
    path("beitrag/<int:pk>/", views.post_moderate, name="post"),
    path("beitrag/<int:pk>/melden/", views.post_report, name="report"),
    path("beitrag/<int:pk>/einspruch/", views.post_appeal, name="appeal"),
    path("beitrag/<int:pk>/<slug:action>/", views.post_action, name="post_action"),
    path("fall/<int:pk>/<slug:action>/", views.case_action, name="case_action"),
    path("einspruch/<int:pk>/entscheiden/", views.appeal_decide, name="appeal_decide"),
    # Threads: lock, pin, move.
    path("thema/<int:pk>/", views_forum.thread_moderate, name="thread"),
    path("thema/<int:pk>/<slug:action>/", views_forum.thread_action, name="thread_action"),
    # Per forum: the queue, the public log, members (mute, remove) and its moderators.
    path("<slug:slug>/", views.forum_queue, name="queue"),
    path("<slug:slug>/protokoll/", views_forum.public_log, name="log"),
    path("<slug:slug>/moderatoren/", views_forum.forum_moderators, name="moderators"),
    path(
        "<slug:slug>/moderatoren/<int:member_pk>/entziehen/",
        views_forum.moderator_revoke,
        name="moderator_revoke",
    ),
    path(
        "<slug:slug>/mitglied/<int:member_pk>/<slug:action>/",
        views_forum.member_action,
        name="member_action",
    ),
]
