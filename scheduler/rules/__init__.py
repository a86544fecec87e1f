"""The care rules, one module each (see :mod:`scheduler.rules.base` for what a rule is)."""

from scheduler.rules.base import Refusal, Rule, Violation, WorkerRule

__all__ = ["Refusal", "Rule", "Violation", "WorkerRule"]
