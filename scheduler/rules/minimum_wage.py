"""The minimum wage: no worker's day is paid below the plan's minimum wage (``minimum_wage``).

Working time and pay are those of the pay report, :mod:`scheduler.pay` (one
definition, :func:`scheduler.pay.working_time`): visits, travel between them and
waiting between them count; the commute from home and back, rest breaks,
split-shift gaps and waits of :data:`~scheduler.pay.DEFAULT_OWN_TIME_GAP_MIN`
minutes or more do not. A worker whose provider has no pay model is not checked.

The plan's ``minimum_wage.mode`` says how the rule binds
(:class:`scheduler.model.MinimumWage`):

* ``penalty`` (default): the search pays for each pound of a worker's shortfall
  as for 6,000 seconds of travel (:data:`PENALTY_S_PER_POUND`), far more than the
  travel it would save, and far less than leaving a mandatory visit out
  (100,000,000), so it removes the shortfall it sees wherever it can without
  leaving a mandatory visit out;
* ``hard``: each 1/60 penny of shortfall the search sees costs as much as a
  mandatory visit left out, and a roster with a worker below the minimum wage
  breaks the rule (:meth:`MinimumWageRule.check` names each);
* ``price``: the top-up costs what it costs: £1 weighs as much as
  ``3600 / travel_hour_value`` seconds of travel (the objective's unit);
* ``off``: nothing in the search; ``homecare pay`` reports.

The model's hook (``solver/constraints/minimum_wage.py``) takes its rates from
:func:`wage_terms` and the own-time threshold from here, so the search and the
report price a minute alike. What the search sees of waiting is the wait no
start time can avoid (the hook's docstring says why); the check here and the
report count the roster's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scheduler.pay import DEFAULT_OWN_TIME_GAP_MIN, WorkingTime, _assess, pay_report, working_time
from scheduler.rules.base import Violation

if TYPE_CHECKING:  # pragma: no cover - types only
    from scheduler.model import MinimumWage, Plan, Worker
    from scheduler.roster import Route, Stop

__all__ = ["OWN_TIME_GAP_MIN", "PENALTY_S_PER_POUND", "DayPay", "MinimumWageRule", "WageTerms", "day_pay",
           "day_time", "objective_weight", "wage_terms"]

#: Waits at least this long (minutes) are the worker's own time, in the search as in the report.
OWN_TIME_GAP_MIN = DEFAULT_OWN_TIME_GAP_MIN

#: Mode ``penalty``: what £1 of a worker's shortfall costs in the search (seconds of travel).
PENALTY_S_PER_POUND = 6000

#: The search counts money in this many units per penny: a rate in pence per hour times
#: minutes is exact in it (1/60 of a penny).
UNITS_PER_PENNY = 60


@dataclass(frozen=True, slots=True)
class WageTerms:
    """One worker's rates in pence per hour: what working time owes, and what each kind of time pays.

    A minute of ``kind`` (contact, travel, waiting counted as working time) adds
    ``minimum - paid_<kind>`` pence per hour to the shortfall, a visit takes away
    ``per_visit`` pence.
    """

    minimum: int
    paid_contact: int
    paid_travel: int
    paid_waiting: int
    per_visit: int

    @property
    def at_risk(self) -> bool:
        """Whether some day could leave the worker below the minimum (not so if every minute pays enough)."""
        return min(self.paid_contact, self.paid_travel, self.paid_waiting) < self.minimum


def _pence(pounds: float | None) -> int:
    return round(100 * (pounds or 0.0))


def wage_terms(plan: Plan, worker: Worker) -> WageTerms | None:
    """Return the worker's rates under their provider's pay model, or ``None`` when it has none.

    ``hourly`` pays its rate on the minutes of its ``paid_time``; ``per_visit`` pays
    per visit and nothing per minute (as :func:`scheduler.pay.pay_report`).
    """
    model = plan.provider(worker.provider_id).pay
    if model is None:
        return None
    minimum = _pence(plan.minimum_wage.hourly_rate)
    if model.model == "per_visit":
        return WageTerms(minimum, 0, 0, 0, _pence(model.per_visit_rate))
    rate = _pence(model.hourly_rate)
    paid = {"contact": (rate, 0, 0), "contact_and_travel": (rate, rate, 0), "span": (rate, rate, rate)}
    return WageTerms(minimum, *paid[model.paid_time], 0)


def objective_weight(setting: MinimumWage) -> Fraction:
    """Return what one unit (1/60 penny) of shortfall costs in the search, in seconds of travel.

    ``penalty``: :data:`PENALTY_S_PER_POUND` per pound; ``price``:
    ``3600 / travel_hour_value`` per pound; 0 for ``off`` and ``hard`` (which the
    hook prices at a mandatory visit's penalty per unit).
    """
    per_pound = {"penalty": Fraction(PENALTY_S_PER_POUND),
                 "price": 3600 / Fraction(setting.travel_hour_value).limit_denominator(10_000)}.get(setting.mode)
    return Fraction(0) if per_pound is None else per_pound / (100 * UNITS_PER_PENNY)


@dataclass(frozen=True, slots=True)
class DayPay:
    """One worker's day against the minimum wage, as ``homecare pay`` reports it.

    ``below``: whether it is below (as :meth:`MinimumWageRule.check` says in mode
    ``hard``); ``shortfall``: pounds short (0 when not below).
    """

    below: bool
    shortfall: float


#: A day with no visit, or of a worker whose provider has no pay model: nothing owed.
_PAID = DayPay(False, 0.0)


def day_time(plan: Plan, route: Route) -> WorkingTime:
    """Return the route's working time, as the rule and the pay report count it (:func:`scheduler.pay.working_time`)."""
    return working_time(plan.worker(route.worker_id), route.stops, end_travel_s=route.end_travel_s,
                        breaks=route.breaks, own_time_gap_min=OWN_TIME_GAP_MIN)


def day_pay(plan: Plan, route: Route, *, old: Sequence[Stop] = (), new: Sequence[Stop] = (),
            time: WorkingTime | None = None) -> DayPay:
    """Return the route's day against the plan's minimum wage, counted as the rule and the pay report count it.

    A quote asks it of a worker's route with the offered visit in it (timed as
    booking would time it), to leave out in mode ``hard`` an offer that would
    put the worker below, and to price the shortfall it changes in the others.
    A worker whose provider has no pay model, and an empty day, owe nothing.

    Parameters
    ----------
    plan
        The plan (pay models, the minimum wage).
    route
        The worker's route.
    old, new
        The day with the consecutive stops ``old`` of the route replaced by
        ``new`` (a visit put in: the stop before, the visit and the stop after,
        for the stops before and after). Working time is a sum over the gaps
        between consecutive stops (:func:`scheduler.pay.working_time`), so only
        the part replaced is counted again: the same as the whole day counted
        afresh.
    time
        The route's own working time (:func:`day_time`), when known.
    """
    worker = plan.worker(route.worker_id)
    provider = plan.provider(worker.provider_id)
    visits = len(route.stops) + len(new) - len(old)
    if provider.pay is None or not visits:
        return _PAID
    if time is None:
        time = day_time(plan, route)
    if old or new:
        more = working_time(worker, new, breaks=route.breaks, own_time_gap_min=OWN_TIME_GAP_MIN)
        less = working_time(worker, old, breaks=route.breaks, own_time_gap_min=OWN_TIME_GAP_MIN)
        time = WorkingTime(*(getattr(time, f.name) + getattr(more, f.name) - getattr(less, f.name)
                             for f in fields(WorkingTime)))
    row = _assess(worker.id, provider.id, visits, time, provider.pay, plan.minimum_wage.hourly_rate, assumed=False)
    return DayPay(row.below_minimum, row.shortfall)


class MinimumWageRule:
    """No worker's day below the plan's minimum wage, when the plan makes it hard.

    In the other modes the search weighs the shortfall against travel and
    ``homecare pay`` reports what is left: no violation here.
    """

    code = "minimum_wage"

    def check(self, view: Any) -> Iterator[Violation]:
        """Yield one violation per worker paid below the minimum wage (mode ``hard`` only).

        ``view`` has the ``plan`` and its ``roster`` (:class:`scheduler.rules.RosterView`).
        """
        plan = view.plan
        if plan.minimum_wage.mode != "hard":
            return
        report = pay_report(plan, view.roster, own_time_gap_min=OWN_TIME_GAP_MIN)
        for row in report.below:
            yield Violation(self.code, "worker", row.worker_id,
                            f"paid £{row.pay:.2f} for {row.working_s / 3600:.2f} h of working time "
                            f"(£{row.effective_hourly:.2f}/h), below the minimum wage of "
                            f"£{report.minimum_wage:.2f}/h by £{row.shortfall:.2f}")
