from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdvisoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consultations.advisory"
    label = "advisory"
    verbose_name = _("Advisory forums")
