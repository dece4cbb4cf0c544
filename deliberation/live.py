"""The one place that broadcasts a live event.

Services call :func:`broadcast_on_commit` last: the event leaves only once the change it describes
is committed, and it is encoded to JSON exactly once here. Each process's hub
(:mod:`deliberation.hub`) receives it from the channel layer and writes the text to its local
sockets. The channel layer is at-most-once; clients close gaps from the database (resync).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

#: Audiences an event may be encoded for; a socket receives the text of its own audience.
MEMBER = "member"
MODERATOR = "moderator"

#: Server-internal control event on a member's group (``member.<id>``): the member's rights were
#: narrowed, so each of their open sockets re-authorises at once. Never sent to a browser.
ACCESS_CHANGED: dict[str, Any] = {"type": "access.changed"}


def encode(event: dict[str, Any]) -> str:
    """Encode one event as compact JSON; raises ``TypeError`` on anything not serialisable."""
    return json.dumps(event, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


#: ``ACCESS_CHANGED`` as the hub delivers it: consumers compare against this one text.
ACCESS_CHANGED_TEXT = encode(ACCESS_CHANGED)


#: The one layer group that carries every member group's (rare) control events. A member
#: group per signed-in member on the layer would cost two Redis round trips per connect and per
#: disconnect; instead every hub joins this group once and routes by the message's ``group``.
MEMBERS_LAYER_GROUP = "members"


def group_name(kind: str, pk: int | str) -> str:
    """The hub group of one live resource, e.g. ``thread.42`` or ``member.7``."""
    return f"{kind}.{pk}"


def layer_group(group: str) -> str:
    """The channel-layer group that carries ``group``'s events between processes."""
    return MEMBERS_LAYER_GROUP if group.startswith("member.") else group


def _send(group: str, texts: dict[str, str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "hub.event", "group": group, "texts": texts}
    for attempt in (1, 2):
        try:
            async_to_sync(layer.group_send)(layer_group(group), message)
            return
        except Exception:
            if attempt == 1:
                # A pooled connection may have gone stale (Redis restarted): once more.
                logger.warning("live broadcast to %s failed; retrying once", group)
                continue
            # At-most-once by design: the change is committed, and every client learns the
            # stream's head within one heartbeat and fetches what it missed (docs/PROTOCOL.md).
            logger.exception("live broadcast to %s failed", group)


def broadcast_on_commit(
    group: str, event: dict[str, Any], *, moderator_event: dict[str, Any] | None = None
) -> None:
    """Send ``event`` to ``group`` after the current transaction commits (at once outside one).

    ``moderator_event`` is what moderators see instead, where the audiences differ. Both are
    encoded now, inside the service, so an unserialisable event fails the service in tests.
    """
    texts = {MEMBER: encode(event)}
    if moderator_event is not None:
        texts[MODERATOR] = encode(moderator_event)
    transaction.on_commit(lambda: _send(group, texts))


def access_changed_on_commit(member_pk: int) -> None:
    """Tell ``member_pk``'s open sockets, after commit, to re-authorise now (rights narrowed)."""
    broadcast_on_commit(group_name("member", member_pk), ACCESS_CHANGED)


def thread_access_changed_on_commit(thread_pk: int) -> None:
    """Tell every open socket of a thread, after commit, to re-authorise now.

    For a change of who may read the thread at all, such as a move into another forum: each
    reader is checked against the thread as it is now, and whoever lost access is closed before
    the next event reaches them.
    """
    broadcast_on_commit(group_name("thread", thread_pk), ACCESS_CHANGED)
