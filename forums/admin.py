"""Forum administration: forums and their grants are edited here; posts are only looked at.

Posts, threads' counters and the event log are written by ``forums.services`` alone, so the
admin shows them read-only (a post changed here would bypass sanitising, the event log and the
live update). Grants are made with guardian's object-permission pages on a forum.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from guardian.admin import GuardedModelAdmin

from deliberation.live import thread_access_changed_on_commit
from deliberation.markup import render_markdown
from forums.models import Forum, Post, Thread


@admin.register(Forum)
class ForumAdmin(GuardedModelAdmin):
    list_display = ["title", "slug", "kind", "visibility", "state", "premoderated"]
    list_filter = ["kind", "visibility", "state", "premoderated", "hold_guest_posts"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}

    def save_model(self, request: HttpRequest, obj: Forum, form, change: bool) -> None:
        # The description is shown as HTML: sanitise it once here, as services do for posts.
        obj.description_html = render_markdown(obj.description)
        super().save_model(request, obj, form, change)
        if change and "visibility" in form.changed_data:
            # Who may read changed: every open socket of the forum re-checks after commit.
            for thread_pk in obj.threads.values_list("pk", flat=True):
                thread_access_changed_on_commit(thread_pk)


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Thread)
class ThreadAdmin(_ReadOnlyAdmin):
    list_display = ["title", "forum", "post_count", "last_seq", "locked", "pinned"]
    list_filter = ["forum", "locked", "pinned"]
    search_fields = ["title"]
    list_select_related = ["forum"]


@admin.register(Post)
class PostAdmin(_ReadOnlyAdmin):
    list_display = ["id", "thread", "author", "state", "created_at", "deleted_at"]
    list_filter = ["state"]
    list_select_related = ["thread", "author"]
    raw_id_fields = ["thread", "author", "reply_to"]
