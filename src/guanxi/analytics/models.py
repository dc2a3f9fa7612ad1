"""The analytics app's tables: scores per customer, the scoring runs, affinity rules and playbooks.

The algorithms are plain modules beside this one (rfm, clv, churn, affinity) that never import Django.
"""

from .kpi_models import KpiTarget
from .playbook_models import Playbook, PlaybookAction, PlaybookActionKind
from .score_models import AffinityRule, Band, CustomerScore, ScoringRun, ScoringStatus

__all__ = ["AffinityRule", "Band", "CustomerScore", "KpiTarget", "Playbook", "PlaybookAction", "PlaybookActionKind",
           "ScoringRun", "ScoringStatus"]
