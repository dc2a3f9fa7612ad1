from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "guanxi.portal"
    label = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from guanxi.service.signals import reply_added

        from .notices import on_reply_added

        reply_added.connect(on_reply_added, dispatch_uid="portal.reply_notice")
