from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve

from deliberation import components, views
from deliberation.auth_views import (
    MemberLogoutView,
    MemberPasswordResetConfirmView,
    admin_password_change,
)
from deliberation.forms import MemberAuthenticationForm, MemberPasswordResetForm
from deliberation.login_guard import GuardedPasswordResetView
from deliberation.models import SitePage

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    # The footer's pages, at the German addresses people expect of a German site.
    *(
        path(f"{slug}/", views.site_page, {"slug": slug}, name=slug)
        for slug in SitePage.Slug.values
    ),
    # gettext() for scripts (the live thread client), in the language of the request.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("profil/", views.profile, name="profile"),
    path("benachrichtigungen/", views.notifications, name="notifications"),
    path("benachrichtigungen/gelesen/", views.notifications_read, name="notifications_read"),
    path("sprache/", views.set_language, name="set_language"),
    # The design system's components (staff only; linked from no public page).
    path("komponenten/", components.components, name="components"),
    path(
        "anmelden/",
        auth_views.LoginView.as_view(authentication_form=MemberAuthenticationForm),
        name="login",
    ),
    path("abmelden/", MemberLogoutView.as_view(), name="logout"),
    path(
        "passwort/vergessen/",
        GuardedPasswordResetView.as_view(
            form_class=MemberPasswordResetForm,
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "passwort/vergessen/gesendet/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "passwort/setzen/<uidb64>/<token>/",
        MemberPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "passwort/gesetzt/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("foren/", include("forums.urls")),
    path("moderation/", include("moderation.urls")),
    path("konferenzen/", include("consultations.conferences.urls")),
    path("entscheidungen/", include("consultations.decisions.urls")),
    path("ratschlaege/", include("consultations.advisory.urls")),
    # Before the admin's own: a staff member's new password also closes their live sockets.
    path(
        "admin/password_change/",
        admin.site.admin_view(admin_password_change),
        name="admin_password_change",
    ),
    path("admin/", admin.site.urls),
    # markdownx's editor URLs, answered by our guarded views (login, rights, verified images).
    path("markdownx/", include("forums.urls_markdownx")),
]

if not settings.PRODUCTION:
    # Uploaded images in development; in production the proxy serves MEDIA_ROOT.
    urlpatterns += [
        path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

# A request that found no free database connection in time gets 503 and Retry-After, not 500.
handler500 = "deliberation.overload.server_error"
