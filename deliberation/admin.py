from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from deliberation.models import District, Member


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Member)
class MemberAdmin(UserAdmin):
    ordering = ["display_name"]
    list_display = ["display_name", "email", "district", "kind", "affiliation", "is_active"]
    list_filter = ["kind", "affiliation", "district", "is_active", "is_staff", "groups"]
    search_fields = ["display_name", "email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Person"),
            {
                "fields": (
                    "display_name",
                    "full_name",
                    "district",
                    "language",
                    "kind",
                    "affiliation",
                )
            },
        ),
        (
            _("Rights"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "district", "language", "kind", "affiliation"),
            },
        ),
    )
