from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "guanxi.service"
    label = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from . import privacy, timeline  # noqa: F401  (register tickets on the 360° timeline and in privacy requests)
