"""Pay check: each worker's working time against what they are paid, and the minimum wage.

Home-care workers are often paid only for time with clients (hourly "contact
time") or a fixed sum per visit, while the National Minimum Wage (NMW) is due
on every hour of *working* time, which includes travelling between visits and
waiting between them (docs/DOMAIN.md). :func:`pay_check` puts the two side by side
for every worker with a route and flags those whose effective hourly pay falls
below the minimum wage.

What counts as working time
---------------------------
Working time runs from the worker's arrival at the first visit to the end of
the last: time on visits (*contact*), travel between visits, and waiting
between them (and at the first door, before the first visit starts). This is
:attr:`scheduler.roster.Route.work_s` less the route's rest breaks
(:attr:`scheduler.roster.Route.breaks`: not working time) and less two kinds of
gap taken out as the worker's *own time*:

* a gap between two visits that straddles a break in the worker's
  ``availability`` (the unpaid middle of a split shift: off duty by rota);
* a wait of ``own_time_gap_min`` minutes or more (default
  :data:`DEFAULT_OWN_TIME_GAP_MIN`): long enough to go home or do as they
  please, which HMRC does not count as working time. This threshold is a
  policy assumption, not law; pass ``None`` to count every wait as work.

In both cases only the waiting is taken out: the travel of that leg still
counts, so the check never understates working time because of it. The legs
from home to the first visit and from the last visit home are *commuting* and
are not working time (under the NMW Regulations 2015, reg. 34, travel between
home and an assignment is not time work, unlike travel between assignments);
they are reported as ``commute_s`` for information.

What counts as paid time
------------------------
Per :class:`scheduler.model.PayModel`: ``hourly`` pays ``hourly_rate`` for each
hour of ``paid_time``: ``contact`` (visits only), ``contact_and_travel``
(visits and travel between them) or ``span`` (the whole working time above,
waiting included). ``per_visit`` pays ``per_visit_rate`` for each visit served
(each worker of a double-handed visit is paid for it); its paid time is the
contact time.

The minimum wage is owed on average over a pay reference period (a week or a
month), not per day: a day below the minimum is a risk for the provider to
make good, and this check reports the day's shortfall in pounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scheduler.errors import ConfigError, Problem, UnknownReferenceError
from scheduler.model import DEFAULT_NMW, PayModel, Plan, Worker
from scheduler.roster import Break, Roster, Route, Stop
from scheduler.text import counted

__all__ = [
    "DEFAULT_NMW",
    "DEFAULT_OWN_TIME_GAP_MIN",
    "PayReport",
    "SkippedWorker",
    "WorkerPay",
    "WorkingTime",
    "pay_check",
    "pay_report",
    "worker_pay",
    "working_time",
]


#: A wait between visits at least this long (minutes) is the worker's own time, not
#: working time (a policy assumption: see the module docstring).
DEFAULT_OWN_TIME_GAP_MIN = 60

#: Differences below half a penny are rounding, not a shortfall (pounds).
_PENNY_TOLERANCE = 0.005


@dataclass(frozen=True, slots=True)
class WorkingTime:
    """A worker's day split into working time and the rest (all seconds).

    ``working_s`` is ``contact_s + travel_s + waiting_s``: first arrival to last
    visit end, less ``own_time_s`` and ``break_s``.
    """

    contact_s: int
    travel_s: int
    waiting_s: int
    own_time_s: int
    commute_s: int
    break_s: int = 0

    @property
    def working_s(self) -> int:
        """Working time for the minimum wage: visits, travel and waiting between them (seconds)."""
        return self.contact_s + self.travel_s + self.waiting_s


@dataclass(frozen=True, slots=True)
class WorkerPay:
    """One worker's day: working time, paid time, pay and the minimum-wage verdict.

    Parameters
    ----------
    worker_id, provider_id
        The worker and their provider.
    visits
        Stops served (a double-handed visit counts once for each of its workers).
    working_s
        Working time (seconds): visits, travel between them and waiting between
        them; not the commute, not the worker's own time.
    contact_s
        Time on visits (seconds).
    travel_s
        Travel between visits (seconds); the commute is left out.
    waiting_s
        Waiting counted as working time (seconds).
    own_time_s
        Gaps between visits that are the worker's own time (seconds): split-shift
        breaks and waits of at least the own-time threshold.
    commute_s
        Travel from home to the first visit and from the last back (seconds).
    break_s
        Rest breaks taken between the first visit and the last (seconds).
    paid_s
        Time paid for (seconds), per the pay model's ``paid_time``; for per-visit
        pay, the contact time.
    pay
        Pay for the day (pounds).
    effective_hourly
        ``pay`` per hour of working time (pounds per hour).
    below_minimum
        Whether ``effective_hourly`` is below the minimum wage.
    shortfall
        Pounds needed to bring the day's pay up to the minimum wage (0 when not below).
    pay_model
        The pay model applied.
    assumed
        Whether ``pay_model`` is the default given for a provider that has none.
    """

    worker_id: str
    provider_id: str
    visits: int
    working_s: int
    contact_s: int
    travel_s: int
    waiting_s: int
    own_time_s: int
    commute_s: int
    break_s: int
    paid_s: int
    pay: float
    effective_hourly: float
    below_minimum: bool
    shortfall: float
    pay_model: PayModel
    assumed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the row as JSON-ready data (pounds rounded to pence, the pay model nested)."""
        data = asdict(self)
        data["pay"] = round(self.pay, 2)
        data["effective_hourly"] = round(self.effective_hourly, 2)
        data["pay_model"] = {k: getattr(self.pay_model, k)
                             for k in ("model", "hourly_rate", "per_visit_rate", "paid_time")}
        return data


@dataclass(frozen=True, slots=True)
class SkippedWorker:
    """A worker with a route whose pay could not be checked, and why."""

    worker_id: str
    provider_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class PayReport:
    """The pay check of a roster: one row per worker checked, the skipped, and totals.

    Parameters
    ----------
    workers
        Every worker with at least one visit whose pay model is known.
    skipped
        Workers with visits whose provider has no pay model (and no default was given).
    minimum_wage
        The rate checked against (pounds per hour).
    own_time_gap_min
        Waits at least this long were the worker's own time (minutes), or ``None``.
    """

    workers: tuple[WorkerPay, ...]
    skipped: tuple[SkippedWorker, ...]
    minimum_wage: float
    own_time_gap_min: int | None

    @property
    def below(self) -> tuple[WorkerPay, ...]:
        """The workers paid below the minimum wage for the day."""
        return tuple(w for w in self.workers if w.below_minimum)

    @property
    def total_shortfall(self) -> float:
        """Pounds needed to bring every worker up to the minimum wage for the day."""
        return round(sum(w.shortfall for w in self.workers), 2)

    def notes(self) -> list[str]:
        """Return one line per provider whose workers were skipped, saying how to include them."""
        by_provider: dict[str, list[str]] = {}
        for s in self.skipped:
            by_provider.setdefault(s.provider_id, []).append(s.worker_id)
        return [f"provider {pid!r} has no pay model: its {counted(len(ids), 'worker')} with visits "
                f"{'is' if len(ids) == 1 else 'are'} not checked "
                f"({', '.join(ids[:4])}{' …' if len(ids) > 4 else ''}); give a default pay model to include them"
                for pid, ids in by_provider.items()]

    def summary(self) -> str:
        """Return one line: how many workers are below the minimum wage and the total shortfall."""
        below = self.below
        text = (f"{len(below)} of {counted(len(self.workers), 'worker')} paid below the minimum wage of "
                f"£{self.minimum_wage:.2f}/h for the day")
        if below:
            text += f"; total shortfall £{self.total_shortfall:.2f}"
        if self.skipped:
            text += f"; {counted(len(self.skipped), 'worker')} not checked (no pay model)"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "minimum_wage": self.minimum_wage, "own_time_gap_min": self.own_time_gap_min,
            "workers": [w.to_dict() for w in self.workers],
            "skipped": [asdict(s) for s in self.skipped],
            "summary": {"checked": len(self.workers), "below_minimum": len(self.below),
                        "total_shortfall": self.total_shortfall, "skipped": len(self.skipped)},
        }


def working_time(
    worker: Worker, stops: Sequence[Stop], *, end_travel_s: int = 0, breaks: Sequence[Break] = (),
    own_time_gap_min: int | None = DEFAULT_OWN_TIME_GAP_MIN,
) -> WorkingTime:
    """Split a worker's stops into contact, travel, waiting, own time, rest breaks and commute.

    Parameters
    ----------
    worker
        The worker (their ``availability`` marks split-shift breaks).
    stops
        Their stops, in order.
    end_travel_s
        The leg from the last stop back to the end location (seconds): commute.
    breaks
        Rest breaks of the day (:attr:`scheduler.roster.Route.breaks`); the part
        between two stops is not working time.
    own_time_gap_min
        A wait at least this long (minutes) is the worker's own time; ``None``
        counts every wait as working time.

    Returns
    -------
    WorkingTime
        The split (seconds); all zero for an empty day.
    """
    if not stops:
        return WorkingTime(0, 0, 0, 0, 0)
    threshold = None if own_time_gap_min is None else own_time_gap_min * 60
    contact = travel = waiting = own = rest = 0

    def count_gap(gap_from: int, gap_to: int, travel_s: int) -> None:
        nonlocal waiting, own, rest
        resting = sum(max(0, min(gap_to, b.end) - max(gap_from, b.start)) for b in breaks)
        wait = max(0, gap_to - gap_from - travel_s - resting)
        rest += resting
        if (threshold is not None and wait >= threshold) or _leaves_availability(worker, gap_from, gap_to):
            own += wait
        else:
            waiting += wait

    first = stops[0]
    count_gap(first.arrival, first.start, 0)
    contact += first.end - first.start
    for prev, stop in zip(stops, stops[1:], strict=False):
        travel += stop.travel_s
        count_gap(prev.end, stop.start, stop.travel_s)
        contact += stop.end - stop.start
    return WorkingTime(contact, travel, waiting, own, first.travel_s + end_travel_s, rest)


def _leaves_availability(worker: Worker, start: int, end: int) -> bool:
    """Whether ``start``..``end`` (seconds) leaves the worker's availability windows (a split-shift break)."""
    if not worker.availability or end <= start:
        return False
    return not any(w.start <= start and end <= w.end for w in worker.availability)


def pay_report(
    plan: Plan,
    roster: Roster,
    *,
    minimum_wage: float | None = None,
    default_pay: PayModel | None = None,
    own_time_gap_min: int | None = DEFAULT_OWN_TIME_GAP_MIN,
) -> PayReport:
    """Check every worker's pay for the day against the minimum wage.

    Parameters
    ----------
    plan
        The plan the roster serves (pay models, availability).
    roster
        The roster; stops' ``travel_s`` are trusted as given.
    minimum_wage
        The minimum hourly rate (pounds per hour); defaults to the plan's
        (``minimum_wage.hourly_rate``, :data:`DEFAULT_NMW` unless set), the rate the
        search held the roster to.
    default_pay
        Pay model for workers whose provider has none; ``None`` skips them.
    own_time_gap_min
        A wait at least this long is the worker's own time (minutes); ``None``
        counts every wait as working time.

    Returns
    -------
    PayReport
        One row per worker with visits, in roster order, and the workers skipped.

    Raises
    ------
    ConfigError
        If ``minimum_wage`` is negative or not finite, or ``own_time_gap_min`` is negative.
    UnknownReferenceError
        If a route's worker is not in the plan.
    """
    if minimum_wage is None:
        minimum_wage = plan.minimum_wage.hourly_rate
    problems = []
    if not (isinstance(minimum_wage, int | float) and math.isfinite(minimum_wage) and minimum_wage >= 0):
        problems.append(f"minimum_wage must be a non-negative amount in pounds per hour, got {minimum_wage!r}")
    if own_time_gap_min is not None and own_time_gap_min < 0:
        problems.append(f"own_time_gap_min must not be negative, got {own_time_gap_min}")
    if problems:
        raise ConfigError("; ".join(problems))
    unknown = [Problem("route", r.worker_id, "worker_id", f"worker {r.worker_id!r} is not in the plan")
               for r in roster.routes if not plan.has_worker(r.worker_id)]
    if unknown:
        raise UnknownReferenceError(unknown)

    rows: list[WorkerPay] = []
    skipped: list[SkippedWorker] = []
    for route in roster.routes:
        if not route.stops:
            continue
        row = worker_pay(plan, route, minimum_wage=minimum_wage, default_pay=default_pay,
                         own_time_gap_min=own_time_gap_min)
        if row is None:
            provider_id = plan.worker(route.worker_id).provider_id
            skipped.append(SkippedWorker(route.worker_id, provider_id, f"provider {provider_id!r} has no pay model"))
        else:
            rows.append(row)
    return PayReport(tuple(rows), tuple(skipped), float(minimum_wage), own_time_gap_min)


def worker_pay(plan: Plan, route: Route, *, minimum_wage: float | None = None, default_pay: PayModel | None = None,
               own_time_gap_min: int | None = DEFAULT_OWN_TIME_GAP_MIN) -> WorkerPay | None:
    """Return one route's row of :func:`pay_report` (same options), or ``None`` when no pay model applies.

    ``route`` has stops, and its worker is in the plan.
    """
    worker = plan.worker(route.worker_id)
    provider = plan.provider(worker.provider_id)
    model = provider.pay if provider.pay is not None else default_pay
    if model is None:
        return None
    time = working_time(worker, route.stops, end_travel_s=route.end_travel_s, breaks=route.breaks,
                        own_time_gap_min=own_time_gap_min)
    rate = plan.minimum_wage.hourly_rate if minimum_wage is None else minimum_wage
    return _assess(worker.id, provider.id, len(route.stops), time, model, rate, assumed=provider.pay is None)


def pay_check(
    plan: Plan,
    roster: Roster,
    *,
    minimum_wage: float | None = None,
    default_pay: PayModel | None = None,
    own_time_gap_min: int | None = DEFAULT_OWN_TIME_GAP_MIN,
) -> list[WorkerPay]:
    """Return each worker's pay for the day against the minimum wage (see :func:`pay_report`).

    Workers whose provider has no pay model are left out unless ``default_pay``
    is given; :func:`pay_report` lists them.

    Parameters
    ----------
    plan
        The plan the roster serves.
    roster
        The roster.
    minimum_wage
        The minimum hourly rate (pounds per hour); defaults to the plan's.
    default_pay
        Pay model for workers whose provider has none; ``None`` leaves them out.
    own_time_gap_min
        A wait at least this long is the worker's own time (minutes); ``None``
        counts every wait as working time.

    Returns
    -------
    list of WorkerPay
        One row per worker with visits whose pay model is known, in roster order.

    Raises
    ------
    ConfigError
        If ``minimum_wage`` or ``own_time_gap_min`` is out of range.
    UnknownReferenceError
        If a route's worker is not in the plan.
    """
    return list(pay_report(plan, roster, minimum_wage=minimum_wage, default_pay=default_pay,
                           own_time_gap_min=own_time_gap_min).workers)


def _assess(worker_id: str, provider_id: str, visits: int, time: WorkingTime, model: PayModel,
            minimum_wage: float, *, assumed: bool) -> WorkerPay:
    if model.model == "per_visit":
        paid_s = time.contact_s
        pay = (model.per_visit_rate or 0.0) * visits
    else:
        paid_s = {"contact": time.contact_s, "contact_and_travel": time.contact_s + time.travel_s,
                  "span": time.working_s}[model.paid_time]
        pay = (model.hourly_rate or 0.0) * paid_s / 3600
    hours = time.working_s / 3600
    owed = minimum_wage * hours
    below = pay < owed - _PENNY_TOLERANCE
    return WorkerPay(
        worker_id=worker_id, provider_id=provider_id, visits=visits, working_s=time.working_s,
        contact_s=time.contact_s, travel_s=time.travel_s, waiting_s=time.waiting_s, own_time_s=time.own_time_s,
        commute_s=time.commute_s, break_s=time.break_s, paid_s=paid_s, pay=pay,
        effective_hourly=pay / hours if hours else 0.0, below_minimum=below,
        shortfall=round(owed - pay, 2) if below else 0.0, pay_model=model, assumed=assumed)
