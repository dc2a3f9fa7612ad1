from django.contrib import admin

from .models import PortalUser


@admin.register(PortalUser)
class PortalUserAdmin(admin.ModelAdmin):
    """Administrators find a customer's portal account and switch it off (`is_active`); passwords are the
    customer's own (reset by e-mail from the portal)."""

    list_display = ("email", "name", "company", "contact", "is_active", "verified_at", "last_login")
    list_filter = ("is_active",)
    search_fields = ("email", "name", "company")
    raw_id_fields = ("contact",)
    readonly_fields = ("password", "verified_at", "last_login", "created_at")
