from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConferencesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consultations.conferences"
    label = "conferences"
    verbose_name = _("Base conferences")

    def ready(self) -> None:
        from consultations.conferences import selectors
        from consultations.conferences.services import phase_guard
        from deliberation import dashboard
        from forums.services import register_participation_guard

        register_participation_guard(phase_guard)
        dashboard.register_live_now(selectors.dashboard_live_now)
        dashboard.register_upcoming(selectors.dashboard_upcoming)
