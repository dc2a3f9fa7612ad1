from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "guanxi.quality"
    label = "quality"
    verbose_name = _("Data quality")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (a new account or contact is checked for duplicates on entry)
