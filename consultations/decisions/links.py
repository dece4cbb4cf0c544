"""The discussion link of a decision, as organisers give it: the address of a thread or a
conference page, pasted from the browser. Only the targets of
:data:`consultations.decisions.models.DISCUSSION_TARGETS` are accepted."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from consultations.decisions.models import DISCUSSION_TARGETS

MAX_ADDRESS = 500


def discussion_from_address(address: str) -> Model | None:
    """The thread or conference ``address`` names (a path, or a whole URL of which only the path
    counts), None for an empty address; ValidationError for anything else."""
    address = (address or "").strip()
    if not address:
        return None
    invalid = ValidationError(
        _("Please paste the address of a thread or a conference of this platform."),
        code="invalid",
    )
    if len(address) > MAX_ADDRESS or "\x00" in address:
        raise invalid
    try:
        parts = urlsplit(address)
    except ValueError:
        raise invalid from None
    if parts.scheme not in ("", "http", "https") or not parts.path.startswith("/"):
        raise invalid
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise invalid from None
    for (app_label, model), (view_name, kwarg, field) in DISCUSSION_TARGETS.items():
        if match.view_name != view_name or kwarg not in match.kwargs:
            continue
        try:
            model_class = ContentType.objects.get_by_natural_key(app_label, model).model_class()
        except ContentType.DoesNotExist:
            break
        if model_class is None:
            break
        target = model_class._default_manager.filter(**{field: match.kwargs[kwarg]}).first()
        if target is None:
            break
        return target
    raise invalid
