"""Advisory forum URLs (German paths), mounted at ``/ratschlaege/``, namespace ``advisory``."""

from django.urls import include, path

from consultations.advisory import views

app_name = "advisory"

urlpatterns = [
    path("", views.advisory_index, name="index"),
    # Before "<slug>/": a forum called "einladung" must not swallow the links.
    path("", include("consultations.advisory.invitations.urls")),
    path("<slug:slug>/", views.advisory_detail, name="detail"),
    path("<slug:slug>/beteiligung/", views.advisory_figures, name="figures"),
    path("<slug:slug>/bearbeiten/", views.advisory_edit, name="edit"),
    path("<slug:slug>/treffen/neu/", views.meeting_form, name="meeting_create"),
    path("<slug:slug>/treffen/<int:pk>/", views.meeting_form, name="meeting_edit"),
    path("<slug:slug>/organisationen/neu/", views.organisation_form, name="organisation_create"),
    path("<slug:slug>/organisationen/<int:pk>/", views.organisation_form, name="organisation_edit"),
]
