"""Which workers may serve a visit, and, when none can, a reason a coordinator can act on.

A worker is eligible for a visit when they belong to the visit's provider (or,
for a visit with no provider, to a provider of the visit's kind), have every
required skill, are not excluded by the client, match the client's gender
preference, can carry the visit's demand, and their shift can hold the visit
inside its window. Travel is not considered here; the solver does that.

Each of these rules lives in its module of :mod:`scheduler.rules` (its
``refuse`` and the words of its reason); this module applies them in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.model import Plan, Visit, Worker
from scheduler.rules import WORKER_RULES, refusals
from scheduler.rules.provider import serves_kind
from scheduler.rules.shifts import shift_can_hold
from scheduler.text import names
from scheduler.timeutil import format_hhmm

__all__ = ["Eligibility", "describe_window", "eligibility", "is_eligible", "serves_kind", "shift_can_hold"]


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The workers who may serve a visit, or why too few can.

    ``reason`` and ``code`` are set when fewer than ``workers_required`` workers
    are eligible; ``code`` is one of ``no_provider``, ``skill``, ``excluded``,
    ``gender``, ``capacity``, ``working_time``, ``shift``, ``pinned``.
    """

    worker_ids: tuple[str, ...]
    reason: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        """Whether enough workers are eligible."""
        return self.reason is None


def eligibility(plan: Plan, visit: Visit) -> Eligibility:
    """Find the workers who may serve ``visit``, or say why too few can.

    Rules are applied in the order of :data:`scheduler.rules.WORKER_RULES`
    (provider or kind, skills, exclusions, gender, capacity, working time left
    today, shift); the first that leaves fewer than ``workers_required`` workers
    is the one reported, in its own words. A visit with ``pinned_worker_id``
    keeps only that worker (a double-handed one keeps the others for its second
    place), and fails with code ``pinned`` if that worker breaks a rule.

    Parameters
    ----------
    plan
        A validated plan.
    visit
        One of its visits.

    Returns
    -------
    Eligibility
        Eligible worker ids, and a reason when fewer than ``workers_required`` are eligible.
    """
    need = visit.workers_required
    pool = list(plan.workers)
    for rule in WORKER_RULES:
        left = pool
        pool = [w for w in pool if rule.refuse(plan, w, visit) is None]
        if len(pool) < need:
            if need == 2 and pool:
                reason = (f"double-handed visit needs 2 workers {rule.requirement(plan, visit)}; only "
                          f"{names([w.id for w in pool])} {'is' if len(pool) == 1 else 'are'}")
            else:
                reason = rule.none_can(plan, visit, left)
            return Eligibility(tuple(w.id for w in pool), reason, rule.code)
    pinned = visit.pinned_worker_id
    if pinned is not None:
        if pinned not in {w.id for w in pool}:
            why = [r.message for r in refusals(plan, plan.worker(pinned), visit)]
            return Eligibility((), f"pinned worker {pinned!r} cannot serve it: {'; '.join(why)}", "pinned")
        if need == 1:
            return Eligibility((pinned,))
    return Eligibility(tuple(w.id for w in pool))


#: The rules :func:`is_eligible` asks: those whose check on a roster is the refusal itself, stop by stop.
_PER_STOP = tuple(rule for rule in WORKER_RULES if rule.code in ("no_provider", "skill", "excluded", "gender",
                                                                 "capacity"))


def is_eligible(plan: Plan, worker: Worker, visit: Visit) -> list[tuple[str, str]]:
    """List the rules ``worker`` breaks by serving ``visit`` (empty when eligible).

    Working time and shift are left to the roster check (and to :func:`eligibility`).

    Parameters
    ----------
    plan
        A validated plan.
    worker
        The worker.
    visit
        The visit.

    Returns
    -------
    list of (rule, message)
        One entry per broken rule, its code: ``no_provider``, ``skill``, ``excluded``, ``gender`` or ``capacity``.
    """
    return [(r.code, r.message) for r in refusals(plan, worker, visit, rules=_PER_STOP)]


def describe_window(visit: Visit) -> str:
    """Return ``start HH:MM-HH:MM, N min`` for messages."""
    return f"start {format_hhmm(visit.window.start)}-{format_hhmm(visit.window.end)}, {visit.duration_min} min"
