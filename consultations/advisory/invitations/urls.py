"""Invitation URLs, included by ``consultations.advisory.urls`` (namespace ``advisory``)."""

from django.urls import path

from consultations.advisory.invitations import views

urlpatterns = [
    path("einladung/gesendet/", views.invitation_sent, name="invitation_sent"),
    path("einladung/bestaetigen/<str:token>/", views.guest_confirm, name="guest_confirm"),
    path("einladung/<str:token>/", views.invitation, name="invitation"),
    path("<slug:slug>/einladungen/", views.invitation_list, name="invitations"),
    path(
        "<slug:slug>/einladungen/<int:pk>/zurueckziehen/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<slug:slug>/gaeste/<int:pk>/beenden/", views.guest_end, name="guest_end"),
]
