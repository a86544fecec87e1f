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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - types only
    from scheduler.model import Plan, Visit, Worker
    from scheduler.rules.view import RosterView


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule of a roster: the rule's code, the record (kind and id) and what is wrong.

    ``rule`` is the code of the rule broken, one of :data:`scheduler.rules.CODES`:
    ``date``, ``reference``, ``window``, ``duration``, ``shift``, ``availability``,
    ``order``, ``travel``, ``no_provider``, ``skill``, ``excluded``, ``gender``,
    ``capacity``, ``max_visits``, ``working_time``, ``break``, ``reason``,
    ``coverage``, ``double_handed``, ``double_handed_limit``, ``linked``, ``equipment``, ``past``,
    ``locked``, ``off``, ``pinned``, ``mandatory``, ``minimum_wage``. Where a rule also explains an
    unassigned visit, its code is the same (``no_provider``, ``skill``, ``excluded``,
    ``gender``, ``capacity``, ``working_time``, ``shift``, ``pinned``, ``linked``,
    ``past``, ``double_handed_limit``, ``equipment``).
    """

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

    def check(self, view: RosterView) -> Iterable[Violation]:
        """Yield every violation of this rule in a finished roster, each with the rule's ``code``."""
        ...


@runtime_checkable
class WorkerRule(Rule, Protocol):
    """A rule that decides from the worker and the visit alone whether the worker may serve it.

    Besides :meth:`refuse` (one worker), it words the reason an unassigned visit
    gets when this rule leaves too few workers (:func:`scheduler.eligibility.eligibility`).
    """

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Return why ``worker`` may not serve ``visit``, or ``None`` when this rule allows it."""
        ...

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say why none of ``candidates`` (the workers every earlier rule allowed) may serve ``visit``."""
        ...

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker this rule allows, completing "needs 2 workers ..." (a double-handed visit)."""
        ...


def refused_stops(rule: WorkerRule, view: RosterView) -> Iterator[Violation]:
    """Yield a violation for every stop of the roster whose worker ``rule`` refuses for its visit.

    The check on a roster of a rule that depends on the worker and the visit alone.
    """
    for worker, n, _stop, visit in view.stops():
        refusal = rule.refuse(view.plan, worker, visit)
        if refusal is not None:
            yield Violation(rule.code, "visit", visit.id, f"worker {worker.id!r} stop {n}: {refusal.message}")


def provider_phrase(visit: Visit) -> str:
    """Return who may serve the visit: ``provider 'care-1'``, or ``a care provider`` when it names none."""
    return f"provider {visit.provider_id!r}" if visit.provider_id else f"a {visit.kind} provider"
