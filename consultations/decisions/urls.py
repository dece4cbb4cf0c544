"""Decisions calendar URLs (German paths), mounted at ``/entscheidungen/``, namespace
``decisions``."""

from django.urls import path

from consultations.decisions import views

app_name = "decisions"

urlpatterns = [
    path("", views.decision_list, name="index"),
    path("kalender/", views.decision_month, name="month_now"),
    path("kalender/<int:year>/<int:month>/", views.decision_month, name="month"),
    path("kalender.ics", views.decision_feed, name="feed"),
    path("themen/<slug:slug>/kalender.ics", views.topic_feed, name="topic_feed"),
    path("themen/<slug:slug>/folgen/", views.topic_follow, name="follow"),
    path("neu/", views.decision_form, name="create"),
    path("<int:pk>/", views.decision_detail, name="detail"),
    path("<int:pk>/bearbeiten/", views.decision_form, name="edit"),
    path("<int:pk>/ergebnis/", views.decision_decide, name="decide"),
]
