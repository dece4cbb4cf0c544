"""Websocket routes of the forums (gathered by ``deliberation.routing``)."""

from django.urls import path

from forums.consumers import ThreadConsumer

websocket_urlpatterns = [
    path("ws/threads/<int:thread_id>/", ThreadConsumer.as_asgi()),
]
