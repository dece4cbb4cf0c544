"""The polls' addresses, under the conference: ``/konferenzen/<slug>/abstimmungen/...``.
Included by ``consultations/conferences/urls.py`` (namespace ``conferences``)."""

from django.urls import path

from consultations.conferences.polls import views

urlpatterns = [
    path("<slug:slug>/abstimmungen/", views.poll_list, name="polls"),
    path("<slug:slug>/abstimmungen/neu/", views.poll_create, name="poll_create"),
    path("<slug:slug>/abstimmungen/<int:pk>/", views.poll_detail, name="poll"),
    path("<slug:slug>/abstimmungen/<int:pk>/abstimmen/", views.poll_vote, name="poll_vote"),
    path("<slug:slug>/abstimmungen/<int:pk>/schliessen/", views.poll_close, name="poll_close"),
    path(
        "<slug:slug>/abstimmungen/<int:pk>/saalzaehlung/",
        views.poll_hall_count,
        name="poll_hall_count",
    ),
]
