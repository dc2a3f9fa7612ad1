from django.contrib import admin

from .models import PortalUser, ReplyNotice


@admin.register(PortalUser)
class PortalUserAdmin(admin.ModelAdmin):
    """Administrators find a customer's portal account and switch it off (`is_active`); passwords are the
    customer's own (reset by e-mail from the portal)."""

    list_display = ("email", "name", "company", "contact", "is_active", "verified_at", "last_login")
    list_filter = ("is_active",)
    search_fields = ("email", "name", "company")
    raw_id_fields = ("contact",)
    readonly_fields = ("password", "verified_at", "last_login", "created_at")


@admin.register(ReplyNotice)
class ReplyNoticeAdmin(admin.ModelAdmin):
    """The e-mails telling portal customers of an agent's reply, to see why one did not leave."""

    list_display = ("message", "created_at", "sent_at", "attempts", "error")
    list_filter = ("sent_at",)
    readonly_fields = ("message", "created_at", "sent_at", "attempts", "tried_at", "error")
    show_full_result_count = False
