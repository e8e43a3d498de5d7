"""Source health, told to the operator: failing, silent, drifting, recovered.

  rules.py     pure: a source's state from facts about it (thresholds, table-tested)
  facts.py     the archive's facts about a source, and what health learned from its history
  evaluate.py  one pass: judge every source, keep the verdicts, queue operator alerts in the outbox
"""

from monitor.health.evaluate import HealthSummary, evaluate_health
from monitor.health.rules import HealthState

__all__ = ["HealthState", "HealthSummary", "evaluate_health"]
