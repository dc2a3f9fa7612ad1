"""`{% portal_chat_widget %}`: the chat widget on the customer portal's pages, when an administrator put a chat
website on the portal (Settings → Chat websites). The widget then knows a signed-in customer (chat_consumers)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from ..chat_models import ChatSite

register = template.Library()


@register.simple_tag
def portal_chat_widget() -> str:
    site = ChatSite.objects.filter(on_portal=True, active=True).values_list("public_key", flat=True).first()
    if site is None:
        return ""
    return format_html('<script src="{}" data-site="{}" async></script>', reverse("contact_center:widget_js"), site)
