from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DecisionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consultations.decisions"
    label = "decisions"
    verbose_name = _("Decisions calendar")

    def ready(self) -> None:
        from consultations.decisions import notices, selectors
        from deliberation import dashboard

        notices.register()
        dashboard.register_upcoming(selectors.dashboard_upcoming)
