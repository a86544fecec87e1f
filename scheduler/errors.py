"""Exception hierarchy shared by every homecare package.

Every error that concerns one record carries ``record_kind``, ``record_id`` and
``field`` and reads like ``visit 'v0931': window end 07:00 is before start 08:30``.
Validators gather every problem first and raise one :class:`PlanError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one record of a plan.

    Parameters
    ----------
    record_kind
        Kind of record: ``plan``, ``provider``, ``worker``, ``client`` or ``visit``.
    record_id
        The record's ``id``, or ``None`` for plan-level fields or records with no id.
    field
        Name of the offending field, dotted for nested fields (``window.end``).
    message
        What is wrong, in words a coordinator can act on.
    """

    record_kind: str
    record_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        """Return ``kind 'id': message``."""
        who = self.record_kind if self.record_id is None else f"{self.record_kind} {self.record_id!r}"
        return f"{who}: {self.message}"


class SchedulerError(Exception):
    """Base class of every error homecare raises on purpose."""


class PlanError(SchedulerError, ValueError):
    """A plan is invalid; ``problems`` lists every problem found, not only the first.

    Parameters
    ----------
    problems
        Every problem found. Must not be empty.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("PlanError needs at least one problem")
        first = self.problems[0]
        self.record_kind = first.record_kind
        self.record_id = first.record_id
        self.field = first.field
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems in the plan:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class SchemaError(PlanError):
    """A record is missing a field or has a field of the wrong type or shape."""


class UnknownReferenceError(PlanError):
    """A record refers to an id that no record of that kind has."""


class NetworkError(SchedulerError):
    """A road network could not be loaded or routed on."""


class SolverError(SchedulerError):
    """The optimiser failed in a way that is not the plan's fault."""


class ConfigError(SchedulerError, ValueError):
    """A parameter or setting is out of range or inconsistent."""


class SchedulerWarning(UserWarning):
    """Base class of homecare warnings."""
