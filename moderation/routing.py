"""Websocket routes of the moderation queue (gathered by ``deliberation.routing``)."""

from django.urls import path

from moderation.consumers import QueueConsumer

websocket_urlpatterns = [
    path("ws/moderation/staff/", QueueConsumer.as_asgi()),
    path("ws/moderation/<int:forum_id>/", QueueConsumer.as_asgi()),
]
