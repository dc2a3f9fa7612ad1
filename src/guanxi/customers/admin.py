from django.contrib import admin

from .models import Account, Contact


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "classification", "lifecycle_stage", "owner", "updated_at")
    list_filter = ("classification", "lifecycle_stage")
    raw_id_fields = ("owner", "parent")
    readonly_fields = ("version", "search_text")
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "phone", "email", "owner")
    raw_id_fields = ("owner", "primary_account", "accounts")
    readonly_fields = ("version", "search_text")
    show_full_result_count = False
