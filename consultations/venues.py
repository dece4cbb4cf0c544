"""Where a format meets, and what a person needs to know to get there and take part.

The base conference and the advisory forum's meetings share these fields (one definition, one
form vocabulary, one page snippet: ``templates/consultations/_access.html``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

#: The yes/no access and childcare features, in the order pages list them.
ACCESS_FEATURES = (
    "step_free",
    "hearing_loop",
    "sign_language",
    "childcare",
    "childcare_under_three",
    "nursing_room",
    "quiet_room",
)


class VenueAccess(models.Model):
    """Venue, video room, access and childcare: abstract, no table of its own."""

    venue_name = models.CharField(_("venue"), max_length=200, blank=True)
    venue_address = models.TextField(_("address"), blank=True)
    step_free = models.BooleanField(_("step-free access"), default=False)
    hearing_loop = models.BooleanField(_("hearing loop"), default=False)
    sign_language = models.BooleanField(_("sign-language interpretation"), default=False)
    childcare = models.BooleanField(_("childcare"), default=False)
    childcare_under_three = models.BooleanField(
        _("childcare for children under three"), default=False
    )
    nursing_room = models.BooleanField(_("room for nursing and changing"), default=False)
    quiet_room = models.BooleanField(_("quiet room"), default=False)
    access_notes = models.TextField(_("further notes on access"), blank=True)
    video_url = models.URLField(_("video room"), max_length=500, blank=True)

    class Meta:
        abstract = True
