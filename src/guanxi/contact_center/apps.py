from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactCenterConfig(AppConfig):
    name = "guanxi.contact_center"
    label = "contact_center"
    verbose_name = _("Contact centre")

    def ready(self) -> None:
        from . import chat_timeline  # noqa: F401  (registers chats and page views on the 360° timeline)
