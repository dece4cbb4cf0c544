from django.contrib import admin

from consultations.advisory.models import (
    AdvisoryForum,
    AdvisoryRole,
    Invitation,
    InvitationUse,
    Meeting,
    Organisation,
)


class OrganisationInline(admin.TabularInline):
    model = Organisation
    extra = 0


class RoleInline(admin.TabularInline):
    model = AdvisoryRole
    extra = 0
    raw_id_fields = ["member"]


@admin.register(AdvisoryForum)
class AdvisoryForumAdmin(admin.ModelAdmin):
    list_display = ["__str__", "topic"]
    raw_id_fields = ["forum"]
    inlines = [OrganisationInline, RoleInline]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "advisory", "starts_at"]
    raw_id_fields = ["advisory", "conference"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read and withdraw links (the organisers' page makes them; the key is never edited)."""

    list_display = ["__str__", "advisory", "use_count", "max_uses", "expires_at", "revoked_at"]
    list_filter = ["advisory"]
    readonly_fields = ["token", "use_count", "created_by", "created_at"]
    raw_id_fields = ["advisory", "organisation"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # made on the organisers' page, with a key


@admin.register(InvitationUse)
class InvitationUseAdmin(admin.ModelAdmin):
    """Who came in through which link: read only (ending access is the organisers' button,
    which also takes the grants and closes the sockets)."""

    list_display = ["guest", "invitation", "joined_at", "confirmed_at", "ended_at"]
    raw_id_fields = ["invitation", "guest", "ended_by"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
