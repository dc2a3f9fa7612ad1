"""The pipeline a new installation starts with. Names are translated once, when the pipeline is created
(in the installation's language); afterwards they are the administrator's data."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext_lazy

DEFAULT_PIPELINE = gettext_noop("Sales pipeline")
DEFAULT_STAGES = [
    (pgettext_lazy("sales stage", "Qualification"), 10, "open"),
    (pgettext_lazy("sales stage", "Needs analysis"), 25, "open"),
    (pgettext_lazy("sales stage", "Proposal / quote"), 50, "open"),
    (pgettext_lazy("sales stage", "Negotiation"), 75, "open"),
    (pgettext_lazy("sales stage", "Won"), 100, "won"),
    (pgettext_lazy("sales stage", "Lost"), 0, "lost"),
]


def create_default_pipeline(pipeline_model, stage_model, language: str | None = None):
    """Create the default pipeline with its stages (works with migration-state models too)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        pipeline = pipeline_model.objects.create(name=_(DEFAULT_PIPELINE), currency="CNY", is_default=True)
        stage_model.objects.bulk_create([
            stage_model(pipeline=pipeline, name=str(name), position=i, probability=probability,
                        kind=kind)
            for i, (name, probability, kind) in enumerate(DEFAULT_STAGES)
        ])
    return pipeline
