from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deliberation"
    verbose_name = _("Members and districts")
