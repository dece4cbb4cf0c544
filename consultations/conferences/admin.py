"""The conferences in the admin: for looking things up. Changes go through the pages and their
services (a conference needs its forum, an assessment its history), so these are read-only;
registrations show no needs in lists (special personal data: only on a registration's own page,
which only staff reach)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from consultations.conferences.models import (
    AgendaItem,
    Commitment,
    CommitmentAssessment,
    Conference,
    ConferenceRole,
    Registration,
)


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RoleInline(_ReadOnlyInline):
    model = ConferenceRole
    fields = ["member", "role"]


class AgendaInline(_ReadOnlyInline):
    model = AgendaItem
    fields = ["position", "title", "planned_minutes", "started_at", "ended_at"]


@admin.register(Conference)
class ConferenceAdmin(_ReadOnlyAdmin):
    list_display = ["title", "phase", "starts_at", "venue_name"]
    list_filter = ["phase"]
    search_fields = ["title", "slug"]
    inlines = [RoleInline, AgendaInline]


@admin.register(Registration)
class RegistrationAdmin(_ReadOnlyAdmin):
    # The needs (childcare, ages, accessibility) are not list columns or filters.
    list_display = ["member", "conference", "attendance", "created_at"]
    list_filter = ["attendance", "conference"]
    list_select_related = ["member", "conference"]


class AssessmentInline(_ReadOnlyInline):
    model = CommitmentAssessment
    fields = ["assessed_at", "status", "assessed_by", "note"]


@admin.register(Commitment)
class CommitmentAdmin(_ReadOnlyAdmin):
    list_display = ["reference", "chapter", "status", "__str__"]
    list_filter = ["status", "chapter"]
    search_fields = ["text", "reference"]
    inlines = [AssessmentInline]
