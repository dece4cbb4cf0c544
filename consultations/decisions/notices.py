"""The decisions calendar's notifications (``deliberation.notifications``): worded when shown,
in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from deliberation import notifications

#: A new decision in a topic the member follows. Params: ``title``, ``date`` (ISO day).
DECISION_NEW = "decisions.new"
#: A decision in a followed topic was taken and its result entered. Params: ``title``.
DECISION_DECIDED = "decisions.decided"


def register() -> None:
    notifications.register(
        DECISION_NEW, _("New in the decisions calendar, in a topic you follow: “%(title)s”.")
    )
    notifications.register(
        DECISION_DECIDED, _("A decision in a topic you follow was taken: “%(title)s”.")
    )
