"""The speaker queue's addresses, below ``/konferenzen/`` (included by the conferences' urls)."""

from django.urls import path

from consultations.conferences.queue import views

urlpatterns = [
    path("<slug:slug>/redeliste/<int:item_pk>/melden/", views.ask, name="queue_ask"),
    path("<slug:slug>/redeliste/<int:item_pk>/saal/", views.hall_speaker, name="queue_hall"),
    path("<slug:slug>/redeliste/<int:item_pk>/listen/", views.sublists, name="queue_sublists"),
    path("<slug:slug>/redeliste/<int:item_pk>/", views.list_action, name="queue_list"),
    path("<slug:slug>/redeliste/<int:item_pk>/stand/", views.snapshot, name="queue_snapshot"),
    path("<slug:slug>/redeliste/eintrag/", views.entry_action, name="queue_entry"),
    path("<slug:slug>/redeliste/", views.panel, name="queue_panel"),
    path("<slug:slug>/beamer/", views.projector, name="projector"),
]
