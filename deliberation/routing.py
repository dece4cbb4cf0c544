"""Websocket routes of every app, gathered in one list for the ASGI router."""

from django.urls import path

from deliberation.consumers import EchoProbeConsumer

websocket_urlpatterns = [
    path("ws/probe/", EchoProbeConsumer.as_asgi()),
]
