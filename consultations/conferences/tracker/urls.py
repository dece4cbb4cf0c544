"""The tracker's addresses, included by ``consultations.conferences.urls`` (namespace
``conferences``) at ``/konferenzen/koalitionsvertrag/``."""

from django.urls import path

from consultations.conferences.tracker import views

urlpatterns = [
    path("", views.overview, name="tracker"),
    path("<int:pk>/", views.commitment, name="commitment"),
    path("<int:pk>/bewerten/", views.assess, name="commitment_assess"),
]
