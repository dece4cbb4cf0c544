"""Websocket routes of every app, gathered in one list for the ASGI router."""

from django.urls import path

from consultations.conferences.routing import (
    websocket_urlpatterns as conferences_websocket_urlpatterns,
)
from deliberation.consumers import EchoProbeConsumer
from forums.routing import websocket_urlpatterns as forums_websocket_urlpatterns
from moderation.routing import websocket_urlpatterns as moderation_websocket_urlpatterns

websocket_urlpatterns = [
    path("ws/probe/", EchoProbeConsumer.as_asgi()),
    *forums_websocket_urlpatterns,
    *moderation_websocket_urlpatterns,
    *conferences_websocket_urlpatterns,
]
