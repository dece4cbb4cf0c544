"""Conference URLs (German paths), mounted at ``/konferenzen/``, namespace ``conferences``.

Fixed paths come before ``<slug>/``; their names are reserved for conferences
(``services.RESERVED_SLUGS``). The speaker queue's and the polls' own ``urls.py`` (in their
folders, with paths ``<slug>/redeliste/...`` and ``<slug>/abstimmungen/...``) are included
at the end.
"""

from django.urls import include, path

from consultations.conferences import views

app_name = "conferences"

urlpatterns = [
    path("", views.conference_list, name="index"),
    path("kalender.ics", views.conference_calendar, name="calendar"),
    path("koalitionsvertrag/", include("consultations.conferences.tracker.urls")),
    path("<slug:slug>/", views.conference_detail, name="conference"),
    path("<slug:slug>/anmeldung/", views.registration, name="registration"),
    path("<slug:slug>/anmeldung/zurueckziehen/", views.registration_cancel, name="unregister"),
    path("<slug:slug>/anmeldungen/", views.registrations, name="registrations"),
    path("<slug:slug>/phase/", views.phase, name="phase"),
    path("<slug:slug>/tagesordnung/neu/", views.agenda_item_form, name="agenda_item_create"),
    path("<slug:slug>/tagesordnung/aktuell/", views.agenda_current, name="agenda_current"),
    path("<slug:slug>/tagesordnung/<int:pk>/", views.agenda_item_form, name="agenda_item_edit"),
    path(
        "<slug:slug>/tagesordnung/<int:pk>/verschieben/",
        views.agenda_item_move,
        name="agenda_item_move",
    ),
    # The feature folders' own pages, paths "<slug>/redeliste/..." and "<slug>/abstimmungen/...".
    path("", include("consultations.conferences.polls.urls")),
    path("", include("consultations.conferences.queue.urls")),
]
