from django.contrib import admin

from .models import AgentProfile, BusinessCalendar, NpsInvitation, QuestionGroup, Queue, SlaPolicy, SurveyMail, Ticket


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "is_default", "updated_at")


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "strategy", "is_senior", "reroute_after_minutes", "supervisor")
    raw_id_fields = ("supervisor",)


@admin.register(QuestionGroup)
class QuestionGroupAdmin(admin.ModelAdmin):
    list_display = ("__str__", "queue", "active", "public")


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "availability", "capacity")
    raw_id_fields = ("user",)
    filter_horizontal = ("queues",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "priority", "classification", "first_response_minutes", "resolution_minutes")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("number", "subject", "status", "priority", "queue", "owner", "updated_at")
    list_filter = ("status", "priority", "queue")
    raw_id_fields = ("owner", "account", "contact", "order", "product", "requester", "merged_into")
    readonly_fields = ("version",)
    show_full_result_count = False


@admin.register(SurveyMail)
class SurveyMailAdmin(admin.ModelAdmin):
    list_display = ("ticket", "created_at", "sent_at", "attempts", "error")
    list_filter = ("sent_at",)
    readonly_fields = ("ticket", "created_at", "sent_at", "attempts", "tried_at", "error")


@admin.register(NpsInvitation)
class NpsInvitationAdmin(admin.ModelAdmin):
    """The NPS survey e-mails, to see why one did not leave (sent, refused, given up, skipped)."""

    list_display = ("survey", "contact", "email", "skip_reason", "sent_at", "attempts", "error")
    list_filter = ("skip_reason", "sent_at")
    readonly_fields = ("survey", "contact", "account", "email", "skip_reason", "created_at", "sent_at", "attempts",
                       "tried_at", "error")
    show_full_result_count = False
