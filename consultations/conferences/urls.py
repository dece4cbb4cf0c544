"""The conferences' addresses (namespace ``conferences``, mounted at ``/konferenzen/``).

Minimal version from the speaker queue's branch: the pages engineer's urls.py replaces the
conference page below; keep its ``include`` of the queue's urls.
"""

from django.urls import include, path

from consultations.conferences import views

app_name = "conferences"

urlpatterns = [
    path("", include("consultations.conferences.queue.urls")),
    path("<slug:slug>/", views.conference, name="conference"),
]
