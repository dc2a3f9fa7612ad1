from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.customers.import_kinds import register

        from . import (
            lead_import,
            timeline,  # noqa: F401  (registers opportunities on the 360° timeline)
        )

        register("lead", lead_import.KIND)  # leads in the customers app's import pipeline
