"""What a care rule is: the one small protocol every module of :mod:`scheduler.rules` implements.

A rule has one home. Its module says, for the rule and nothing else:

* what it checks on a finished roster (:meth:`Rule.check`): every
  :class:`Violation`, naming the record and, in the message, what is wrong;
* what it says about one candidate placement of a visit in a worker's day:
  a rule that depends only on the worker and the visit answers
  :meth:`WorkerRule.refuse` (``None``: allowed; else a :class:`Refusal` with
  the rule's reason code); a rule that depends on the day as it stands (times,
  load, working time) gives the worker-day engine (:mod:`scheduler.day`) its
  parameters, and the engine does the arithmetic in one place.

Reason codes are one set: a rule's ``code`` is both the ``rule`` of its
violations and the ``code`` of an unassigned visit it explains (the public codes
of ``docs/CONTRACT.md`` and the README's roster table).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - types only
    from scheduler.model import Plan, Visit, Worker


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule of a roster: the rule's code, the record (kind and id) and what is wrong."""

    rule: str
    record_kind: str
    record_id: str | None
    message: str

    def __str__(self) -> str:
        """Return ``[rule] kind 'id': message``."""
        who = self.record_kind if self.record_id is None else f"{self.record_kind} {self.record_id!r}"
        return f"[{self.rule}] {who}: {self.message}"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a worker may not take a visit (or a place in their day): the rule's code and a sentence."""

    code: str
    message: str


@runtime_checkable
class Rule(Protocol):
    """A care rule: its code and what it checks on a finished roster."""

    code: str

    def check(self, view: object) -> Iterable[Violation]:
        """Yield every violation of this rule in a finished roster (``view``: :class:`scheduler.rules.RosterView`)."""
        ...


@runtime_checkable
class WorkerRule(Rule, Protocol):
    """A rule that decides from the worker and the visit alone whether the worker may serve it."""

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Return why ``worker`` may not serve ``visit``, or ``None`` when this rule allows it."""
        ...
