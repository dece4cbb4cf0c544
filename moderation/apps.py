from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        # Mutes and removals refuse participation; held posts open a case in the queue.
        from forums.selectors import register_post_presenter
        from forums.services import register_held_post_listener, register_participation_guard
        from moderation import selectors, services

        register_participation_guard(services.participation_guard)
        register_held_post_listener(services.on_held_post)
        register_post_presenter(selectors.present_post_links)
