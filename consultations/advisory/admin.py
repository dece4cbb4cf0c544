from django.contrib import admin

from consultations.advisory.models import AdvisoryForum, AdvisoryRole, Meeting, Organisation


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
