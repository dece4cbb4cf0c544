"""The live moderation queue: ``ws/moderation/<forum_id>/`` and ``ws/moderation/staff/``.

Only the forum's moderators (and staff) may connect; staff alone may open the staff queue. Events
(``queue.changed``, ``queue.removed``, built in ``moderation.events`` and sent by the services after
commit) reach the socket through this process's hub with the moderator audience; the socket has no
channel-layer channel of its own.

Every frame from the client re-authorises: the session must still exist, the account be active and
the right still held. A moderator whose right was revoked gets ``error``/``forbidden`` and the
socket is closed: on the next frame, and at once when the revoking service announces it on the
member's hub group (``access.changed`` on ``member.<id>``, server-internal and never forwarded;
queue events are held back until the re-check has decided). The socket carries no writes: the
moderator acts through the page's plain forms.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from django.utils.translation import gettext as _

from deliberation.frames import TokenBucket, answer_ping, error_frame
from deliberation.hub import get_hub
from deliberation.live import ACCESS_CHANGED_TEXT, MODERATOR, encode, group_name
from deliberation.livework import DirectDispatch, reads
from deliberation.session_watch import SessionWatchMixin
from deliberation.socket_auth import member_behind
from deliberation.stream_consumer import (
    CLOSE_DROPPED,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    RATE_BURST,
    RATE_PER_SECOND,
)
from forums import permissions
from forums.models import Forum
from moderation.permissions import can_view_queue

logger = logging.getLogger(__name__)

#: The staff queue's group key (``modqueue.staff``); forum queues use the forum's id.
STAFF = "staff"


def _of_members_only_thread(text: str) -> bool:
    """Whether a queue frame is about a case in a members-only thread (read only for the rare
    subscriber who may not see those: a guest moderating the forum)."""
    if '"members_only":true' not in text.replace(" ", ""):
        return False
    try:
        item = json.loads(text).get("item") or {}
    except ValueError:
        return False
    return bool((item.get("thread") or {}).get("members_only"))


class Refused(Exception):
    """The socket's user may not (or no longer) see this queue."""


class QueueConsumer(DirectDispatch, SessionWatchMixin, AsyncWebsocketConsumer):
    """One moderator's view of one queue; receives the queue's events, sends only ``pong``."""

    channel_layer_alias = "__hub_only__"

    forum_id: int | None
    group: str
    _subscribed = False
    _closing = False
    member_id: int | None = None
    #: ``member.<id>`` of the moderator, where access.changed arrives.
    _member_group: str | None = None
    #: Whether the member may see members-only threads (a guest who moderates may not).
    _sees_members_only = False
    #: Queue events held back while an access.changed re-check runs (None: deliver at once).
    _held: list[dict[str, Any]] | None = None
    _recheck_pending = False
    _recheck_task: asyncio.Task[None] | None = None
    #: The frame budget's clock (seconds); tests replace it with one they move by hand.
    clock: Callable[[], float] = time.monotonic

    async def connect(self) -> None:
        raw = self.scope["url_route"]["kwargs"].get("forum_id")
        self.forum_id = None if raw is None else int(raw)
        self.group = group_name("modqueue", STAFF if self.forum_id is None else self.forum_id)
        self.language = settings.LANGUAGE_CODE
        self.bucket = TokenBucket(RATE_BURST, RATE_PER_SECOND, clock=self.clock)
        self.hub = get_hub()
        try:
            await self._authorise()
        except Refused:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        except Forum.DoesNotExist:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except Exception:
            logger.exception("moderation queue %s: connect failed", self.group)
            await self.close(code=1011)
            return
        await self.accept()
        if self.member_id is not None:
            self._member_group = group_name("member", self.member_id)
            await self.hub.subscribe(self._member_group, self)
            # The session's expiry has no event: the socket re-checks at that time itself.
            await self._watch_session(self._access_changed)
            # A revocation committed since the check above was not announced to this socket.
            try:
                await self._authorise()
            except Exception:
                await self._close(CLOSE_FORBIDDEN)
                return
        self._subscribed = True
        await self.hub.subscribe(self.group, self, audience=MODERATOR)
        await self._send_frame({"type": "hello", "queue": self.forum_id or STAFF})

    # --- authorisation (the live read pool: reads only) -----------------------------------------

    @reads
    def _authorise(self) -> None:
        user = self._current_user()
        self._sees_members_only = permissions.sees_members_only(user)
        if user.is_authenticated and user.language:
            self.language = user.language
        if user.is_authenticated and self.member_id is None:
            self.member_id = user.pk
        if self.forum_id is None:
            if not can_view_queue(user, None):
                raise Refused
            return
        forum = Forum.objects.filter(pk=self.forum_id).first()
        if forum is None:
            # Moderators of nothing learn nothing: unknown forums are refused like foreign ones.
            if not permissions.is_staff(user):
                raise Refused
            raise Forum.DoesNotExist
        if not can_view_queue(user, forum):
            raise Refused

    def _current_user(self) -> Any:
        """The member behind the socket now; anonymous when the session ended or changed."""
        return member_behind(self.scope) or AnonymousUser()

    # --- the hub --------------------------------------------------------------------------------

    async def hub_send(self, message: dict[str, Any]) -> None:
        if self._closing:
            return
        if message["text"] == ACCESS_CHANGED_TEXT:
            # Control event of the member group: re-authorise, never forward it.
            self._access_changed()
        elif not self._sees_members_only and _of_members_only_thread(message["text"]):
            return  # a guest who moderates the forum never learns of members-only threads
        elif self._held is not None:
            self._held.append(message)
        else:
            await self.base_send(message)

    async def hub_dropped(self) -> None:
        # Dropped from one group (queue or member): _close leaves whichever groups remain.
        await self._close(CLOSE_DROPPED)

    def _access_changed(self) -> None:
        """Hold queue events back and re-authorise soon, as on a frame (hub side, no await)."""
        if self._held is None:
            self._held = []
        self._recheck_pending = True
        if self._recheck_task is not None and not self._recheck_task.done():
            return  # the running re-check sees the flag and checks once more
        self._recheck_task = asyncio.get_running_loop().create_task(
            self._recheck(), name=f"recheck-{self.group}"
        )

    async def _recheck(self) -> None:
        while self._recheck_pending and not self._closing:
            self._recheck_pending = False
            try:
                await self._authorise()
            except (Refused, Forum.DoesNotExist):
                self._held = None
                await self._refuse()
                return
            except Exception:
                # Fail closed: the page reconnects, and the connect checks the right.
                logger.exception("moderation queue %s: re-checking access failed", self.group)
                self._held = None
                await self._close(1011)
                return
            held = self._held or []
            while held and not self._recheck_pending and not self._closing:
                await self.base_send(held.pop(0))
            if not self._recheck_pending:
                # No await since the last check: nothing delivered meanwhile is lost.
                self._held = None

    async def _refuse(self) -> None:
        with translation.override(self.language):
            message = _("You no longer have access to this moderation queue.")
        await self._send_frame(error_frame("forbidden", message, None))
        await self._close(CLOSE_FORBIDDEN)

    # --- frames from the client -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self._closing:
            return
        try:
            await self._authorise()
        except (Refused, Forum.DoesNotExist):
            await self._refuse()
            return
        except Exception:
            logger.exception("moderation queue %s: a frame failed", self.group)
            return
        with translation.override(self.language):
            answer = answer_ping(text_data, bytes_data, self.bucket)
        await self._send_frame(answer)

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        if not self._closing:
            await self.send(text_data=encode(frame))

    async def _close(self, code: int) -> None:
        if self._closing:
            return
        self._closing = True
        await self._unsubscribe()
        await self.close(code=code)

    async def _unsubscribe(self) -> None:
        self._unwatch_session()
        if self._member_group is not None:
            group, self._member_group = self._member_group, None
            await self.hub.unsubscribe(group, self)
        if self._subscribed:
            self._subscribed = False
            await self.hub.unsubscribe(self.group, self)

    async def disconnect(self, code: int) -> None:
        self._closing = True
        await self._unsubscribe()
