"""The decisions calendar in the admin: topics are kept here (name and short name); decisions
are looked up here and changed on their pages, whose services notify the followers."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from consultations.decisions.models import Decision, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["title", "date", "institution", "status"]
    list_filter = ["status", "institution", "topics"]
    search_fields = ["title", "explanation"]
    date_hierarchy = "date"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_superuser)
