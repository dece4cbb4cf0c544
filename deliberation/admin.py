from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deliberation import services
from deliberation.live import access_changed_on_commit
from deliberation.models import District, Member, SitePage


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class MemberAddForm(forms.ModelForm):
    """Adding a member in the admin: no password here; they get the invitation mail."""

    class Meta:
        model = Member
        fields = [
            "email",
            "display_name",
            "full_name",
            "district",
            "language",
            "kind",
            "affiliation",
        ]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Member.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A member with this e-mail address exists already."))
        return email

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if Member.objects.filter(display_name__iexact=name).exists():
            raise forms.ValidationError(_("This display name is already taken."))
        return name


@admin.register(Member)
class MemberAdmin(UserAdmin):
    add_form = MemberAddForm
    ordering = ["display_name"]
    list_display = ["display_name", "email", "district", "kind", "affiliation", "is_active"]
    list_filter = ["kind", "affiliation", "district", "is_active", "is_staff", "groups"]
    search_fields = ["display_name", "email", "full_name"]
    actions = ["send_invitation", "deactivate"]
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
                    "badge_label",
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
                "fields": (
                    "email",
                    "display_name",
                    "full_name",
                    "district",
                    "language",
                    "kind",
                    "affiliation",
                ),
                "description": _("The new member is mailed a link to choose a password."),
            },
        ),
    )

    #: Fields of the change form that decide what a member may do.
    RIGHTS_FIELDS = frozenset(
        {"is_active", "is_staff", "is_superuser", "groups", "user_permissions"}
    )

    def save_model(self, request: HttpRequest, obj: Member, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            if self.RIGHTS_FIELDS & set(form.changed_data):
                # After the admin's transaction (groups are saved after this): the member's
                # open live sockets re-check their access now, not at their next frame.
                access_changed_on_commit(obj.pk)
            return
        # New members go through the service, like the CSV import: no password, invitation mail.
        member = services.member_create(
            **{name: form.cleaned_data[name] for name in MemberAddForm.Meta.fields}
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved member.
        obj.pk = member.pk
        obj.email = member.email
        obj.password = member.password
        obj._state.adding = False
        obj._state.db = member._state.db

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's form for setting a member's password; a new password ends the member's
        sessions, so their open live sockets close now rather than at their next frame."""
        member = self.get_object(request, unquote(id))
        before = member.password if member is not None else None
        response = super().user_change_password(request, id, form_url)
        if member is not None:
            member.refresh_from_db(fields=["password"])
            if member.password != before:
                services.member_sessions_ended(member=member)
        return response

    @admin.action(description=_("Deactivate (ends their sessions and live connections)"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Member]) -> None:
        count = sum(
            services.member_set_active(member=member, active=False)
            for member in queryset.exclude(pk=request.user.pk)
        )
        self.message_user(
            request,
            ngettext("%(count)d member deactivated.", "%(count)d members deactivated.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Send a link to set a password"))
    def send_invitation(self, request: HttpRequest, queryset: QuerySet[Member]) -> None:
        count = 0
        for member in queryset.filter(is_active=True):
            services.member_send_invitation(member=member)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d link sent.", "%(count)d links sent.", count) % {"count": count},
            messages.SUCCESS,
        )


#: Characters a site page's text (per language) may have.
SITE_PAGE_MAX_LENGTH = 100_000


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    """The footer's pages: a fixed set (made by a migration), so staff edit but never add."""

    list_display = ["__str__", "title_de", "title_en", "updated_at"]
    fields = ["title_de", "body_de", "title_en", "body_en"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        help_text = _(
            "Markdown: a blank line starts a paragraph, ## a heading, - a list item, "
            "[text](https://…) a link. An empty English text shows the German one."
        )
        for name in ("body_de", "body_en"):
            form.base_fields[name].help_text = help_text
            # Bounded like a post's text, ten times over: rendered on save, never on read.
            form.base_fields[name].max_length = SITE_PAGE_MAX_LENGTH
            form.base_fields[name].validators.append(MaxLengthValidator(SITE_PAGE_MAX_LENGTH))
            form.base_fields[name].widget.attrs["maxlength"] = str(SITE_PAGE_MAX_LENGTH)
        return form

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SitePage, form: Any, change: bool) -> None:
        services.site_page_update(
            page=obj,
            title_de=form.cleaned_data["title_de"],
            body_de=form.cleaned_data["body_de"],
            title_en=form.cleaned_data["title_en"],
            body_en=form.cleaned_data["body_en"],
        )
