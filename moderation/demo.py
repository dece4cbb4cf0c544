"""Demo moderation for ``manage.py seed_demo`` (after forums' demo): the demo moderator moderates
the rents forum, two reported posts form cases, a guest's post waits for release, and a few
actions are in the log. Idempotent: a second run finds what the first made and adds nothing."""

from __future__ import annotations

from typing import Any

from forums import services as forum_services
from forums.models import Forum, Post
from moderation import services
from moderation.models import ModerationAction, Report


def seed(*, stdout: Any) -> None:
    from deliberation.demo import GUEST, MEMBER, MEMBER_2, MODERATOR, STAFF, demo_member

    mieten = Forum.objects.filter(slug="mieten").first()
    if mieten is None:
        stdout.write("moderation: the rents forum is missing, no demo moderation seeded")
        return
    people = {role: demo_member(role) for role in (MEMBER, MEMBER_2, MODERATOR, STAFF, GUEST)}
    staff, moderator = people[STAFF], people[MODERATOR]
    if not ModerationAction.objects.filter(
        action=ModerationAction.Kind.MODERATOR_GRANTED, forum_id=mieten.pk, member_id=moderator.pk
    ).exists():
        services.moderator_grant(actor=staff, forum=mieten, member=moderator)

    # Two reported posts (cases in the queue), reported by the other member.
    for client_id, reporter, reason, text in [
        ("demo-m1-2", MEMBER, "off_topic", "Das gehört eher in den Thread zur Vergesellschaftung."),
        ("demo-m3-2", MEMBER_2, "other", "Bitte prüfen, ob das hier richtig ist."),
    ]:
        post = Post.objects.filter(client_id=client_id, state=Post.State.PUBLISHED).first()
        actor = people[reporter]
        if post is None or post.author_id == actor.pk:
            continue
        if not Report.objects.filter(post=post, reporter=actor).exists():
            services.report_create(actor=actor, post=post, reason=reason, text=text)

    # A guest's post waiting for release (guests' posts are always held); forums' demo may
    # have made one already, which then is the queue's held post.
    thread = mieten.threads.order_by("pk").first()
    held = Post.objects.filter(thread__forum=mieten, state=Post.State.HELD).exists()
    if thread is not None and not held:
        forum_services.post_create(
            actor=people[GUEST],
            thread=thread,
            client_id="demo-held-1",
            body="Wir laden alle zu unserer Mieterversammlung am Donnerstag ein.",
        )

    # A few logged actions.
    if thread is not None and not thread.pinned:
        services.thread_pin(actor=moderator, thread=thread, reason="important")
    stdout.write(
        f"moderation: {moderator.display_name} moderates {mieten.title}; reports, a held post "
        "and a few logged actions ready"
    )
