"""Websocket routes of the conferences (gathered by ``deliberation.routing``)."""

from django.urls import path

from consultations.conferences.consumers import ConferenceConsumer

websocket_urlpatterns = [
    path("ws/conferences/<int:conference_id>/", ConferenceConsumer.as_asgi()),
]
