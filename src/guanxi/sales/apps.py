from django.apps import AppConfig
from django.db.models.signals import post_migrate
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
        post_migrate.connect(_summary_for_the_zone, sender=self)


def _summary_for_the_zone(using: str = "default", **kwargs) -> None:
    """After `migrate` (and a test database's flush): the monthly summary's company months follow TIME_ZONE; when
    they do not (a changed GUANXI_TIME_ZONE, a flushed table), make them and the summary again."""
    from django.db import connections

    from . import summary

    if summary.MONTHS not in connections[using].introspection.table_names():
        return  # migrated back before the summary
    if not summary.zone_ready(using):
        summary.rebuild(using, (summary.OPPORTUNITIES,))  # the orders' months have no zone
