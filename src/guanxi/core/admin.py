"""Back-office configuration: users, teams, roles, tags, tokens. Day-to-day work happens in the app."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, AuditEntry, CustomField, JobProgress, SavedView, Tag, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Guanxi"), {"fields": ("role", "team", "language", "time_zone")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("Guanxi"), {"fields": ("role", "team")}))
    actions = ["hand_over_accounts"]

    @admin.action(description=_("Hand over all accounts"))
    def hand_over_accounts(self, request, queryset):
        """To the hand-over form (activities) for the first user selected: its accounts, open tasks and deals."""
        return redirect(f"{reverse('activities:hand_over')}?from_user={queryset.order_by('pk').first().pk}")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "path")
    search_fields = ("name",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "color")
    search_fields = ("name",)


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("model", "key", "label_zh", "label_en", "field_type", "required", "active")
    list_filter = ("model", "field_type", "active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "content_type", "object_id", "object_repr")
    list_filter = ("action", "content_type")

    def has_change_permission(self, request, obj=None):  # the audit trail is append-only
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


admin.site.register(SavedView)
admin.site.register(JobProgress)
