"""Admin: the moderation log is read-only (no add, change or delete, not even for superusers);
cases and reports can be looked at; every change goes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from moderation.models import Case, ModerationAction, Report


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        return {}


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "target_label", "reason")
    list_filter = ("action", "reason")
    search_fields = ("target_label", "reason_text")
    date_hierarchy = "created_at"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "forum", "report_count", "top_reason", "opened_at")
    list_filter = ("kind", "status")


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "post", "reporter", "reason", "created_at")
    list_filter = ("reason",)
