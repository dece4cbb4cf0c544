"""The conferences' addresses (namespace ``conferences``, mounted at ``/konferenzen/``).

Minimal in the polls branch: the integrator merges it with the pages' and the queue's.
"""

from django.urls import include, path

app_name = "conferences"

urlpatterns = [
    path("", include("consultations.conferences.polls.urls")),
]
