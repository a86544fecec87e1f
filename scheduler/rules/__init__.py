"""The care rules, one module each (see :mod:`scheduler.rules.base` for what a rule is).

:data:`ROSTER_RULES` is the validator: :func:`scheduler.validate.check_roster`
builds one :class:`RosterView` and runs each rule's ``check`` in this order.
:data:`WORKER_RULES` are the rules that decide from the worker and the visit
alone, in the order :func:`scheduler.eligibility.eligibility` applies them;
:func:`refusals` asks each of them about one worker and one visit.
:data:`CODES` is the one set of reason codes, for violations and unassigned
visits alike; :data:`UNASSIGNED_CODES` are those an unassigned visit may carry
(the README's roster table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.rules.base import Refusal, Rule, Violation, WorkerRule
from scheduler.rules.breaks import BreakRule
from scheduler.rules.capacity import CapacityRule
from scheduler.rules.coverage import CoverageRule, MandatoryRule, ReasonRule, ReferenceRule
from scheduler.rules.continuity import Continuity
from scheduler.rules.date import DateRule
from scheduler.rules.double_handed import DoubleHandedRule
from scheduler.rules.double_handed_limit import DoubleHandedLimit
from scheduler.rules.equipment import EquipmentRule
from scheduler.rules.exclusions import ExclusionRule
from scheduler.rules.fair_workload import FairWorkload
from scheduler.rules.gender import GenderRule
from scheduler.rules.links import LinkRule
from scheduler.rules.locks import LockedRule, OffRule, PastRule, PinnedRule
from scheduler.rules.max_visits import MaxVisitsRule
from scheduler.rules.minimum_wage import MinimumWageRule
from scheduler.rules.order import OrderRule, TravelRule
from scheduler.rules.provider import ProviderRule
from scheduler.rules.shifts import AvailabilityRule, ShiftRule
from scheduler.rules.skills import SkillsRule
from scheduler.rules.view import RosterView, TravelOracle
from scheduler.rules.windows import DurationRule, WindowRule
from scheduler.rules.working_time import WorkingTimeRule

if TYPE_CHECKING:  # pragma: no cover - types only
    from scheduler.model import Plan, Visit, Worker

__all__ = [
    "CODES", "ROSTER_RULES", "SOFT_RULES", "UNASSIGNED_CODES", "WORKER_RULES", "Refusal", "RosterView", "Rule", "TravelOracle",
    "Violation", "WorkerRule", "refusals",
]

#: The rules that decide from the worker and the visit alone, in the order eligibility applies them.
WORKER_RULES: tuple[WorkerRule, ...] = (
    ProviderRule(), SkillsRule(), ExclusionRule(), GenderRule(), CapacityRule(), WorkingTimeRule(), ShiftRule(),
    DoubleHandedLimit(), EquipmentRule(),
)

_worker = {rule.code: rule for rule in WORKER_RULES}

#: Every rule of a roster, in the order the validator reports them.
ROSTER_RULES: tuple[Rule, ...] = (
    DateRule(), ReferenceRule(), WindowRule(), DurationRule(), _worker["shift"], AvailabilityRule(), OrderRule(),
    TravelRule(), _worker["no_provider"], _worker["skill"], _worker["excluded"], _worker["gender"],
    _worker["capacity"], MaxVisitsRule(), _worker["working_time"], BreakRule(), ReasonRule(), CoverageRule(),
    DoubleHandedRule(), _worker["double_handed_limit"], LinkRule(), _worker["equipment"], PastRule(), LockedRule(),
    OffRule(), PinnedRule(), MandatoryRule(), MinimumWageRule(),
)

#: Rules that are costs of the search, never violations of a roster (their ``check`` finds nothing).
SOFT_RULES: tuple[Rule, ...] = (Continuity(), FairWorkload())

#: The reason codes an unassigned visit may carry, as the README's roster table lists them.
UNASSIGNED_CODES: tuple[str, ...] = (
    "no_provider", "skill", "excluded", "gender", "capacity", "working_time", "shift", "pinned", "unreachable",
    "linked", "busy", "search", "past", "double_handed_limit",
    "equipment",
)

#: The one set of reason codes: each violation's ``rule`` and each unassigned visit's ``code``, with its meaning.
CODES: dict[str, str] = {
    "date": "the roster's date is not the plan's",
    "reference": "a route, stop or unassigned entry names a worker or visit not in the plan, or a worker has two routes",
    "window": "a visit starts outside its time window",
    "duration": "a visit does not last its duration",
    "shift": "a visit lies outside the worker's shift; unassigned: no worker who could serve it is on shift then",
    "availability": "a visit, or the travel to it, lies outside the worker's availability",
    "order": "stops are not in time order, or one is reached before the previous end plus its travel",
    "travel": "a stop's travel time or distance is not the road network's",
    "no_provider": "the worker is not of the visit's provider (or kind); unassigned: no such worker is in the plan",
    "skill": "the worker lacks a required skill; unassigned: no worker has the skills",
    "excluded": "the client excludes the worker; unassigned: the client excludes every worker who could serve it",
    "gender": "the worker is not of the client's preferred gender; unassigned: no such worker could serve it",
    "capacity": "a van carries more than its capacity; unassigned: no van has room for the demand",
    "max_visits": "a worker makes more visits than max_visits",
    "working_time": "a worker works longer than the day allows; unassigned: no worker has working time left",
    "break": "a break owed is not taken in its window, overlaps a visit, or leaves no time for travel",
    "reason": "an unassigned visit has no reason, or is wrongly said to be past",
    "coverage": "a visit is not served workers_required times, nor listed once as unassigned",
    "double_handed": "a double-handed visit has one worker twice, or its two workers start at different minutes",
    "double_handed_limit": "a worker makes more double-handed visits than max_double_handed; unassigned: every "
                           "worker who could serve it has reached that limit",
    "linked": "linked visits break the gap of their link; unassigned: the link leaves no worker room",
    "equipment": "a visit starts before equipment it needs is in place; unassigned: nothing puts the equipment "
                 "in place in its window",
    "past": "a new stop (or departure) before the re-plan time; unassigned: the visit's time has gone",
    "locked": "a stop to keep is moved or dropped, or a stop marked locked is not one to keep",
    "off": "a worker who went off starts a new visit",
    "pinned": "a pinned visit is served by another worker; unassigned: the pinned worker cannot serve it",
    "minimum_wage": "a worker's day is paid below the plan's minimum wage (mode hard only; homecare pay reports the "
                    "other modes)",
    "mandatory": "a mandatory visit is unassigned although a worker has room for it",
    "unreachable": "unassigned: no eligible worker can reach the client in the window and get back in their shift",
    "busy": "unassigned: every eligible worker who can reach it is booked then",
    "search": "unassigned: a worker had room, but the search ended first",
}


def refusals(plan: Plan, worker: Worker, visit: Visit, *,
             rules: tuple[WorkerRule, ...] = WORKER_RULES) -> list[Refusal]:
    """Return every refusal of ``rules`` (by default every worker rule) for ``worker`` serving ``visit``.

    Parameters
    ----------
    plan
        A validated plan.
    worker
        The worker.
    visit
        The visit.
    rules
        The worker rules to ask, in order.

    Returns
    -------
    list of Refusal
        One per rule that refuses, in the rules' order; empty when the worker may serve the visit.
    """
    out = []
    for rule in rules:
        refusal = rule.refuse(plan, worker, visit)
        if refusal is not None:
            out.append(refusal)
    return out
