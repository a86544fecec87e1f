"""The minimum wage in the search: the model's hook for :mod:`scheduler.rules.minimum_wage`.

A ``Wage`` dimension counts, along each route of a worker who could fall below the
minimum wage, what their working time owes at the minimum wage less what their pay
model pays, in units of 1/60 of a penny (a rate in pence per hour times minutes; in
mode ``price`` a coarser unit, see :func:`add`). Its transits are one matrix per
travel mode and pay model, all of it compiled (no Python per arc):

* an arc from a visit to the next owes the visit's minutes at ``minimum -
  paid_contact``, the travel minutes at ``minimum - paid_travel`` (travel paid by
  the minute counts in whole minutes down, the Time dimension's in minutes up, so
  the search never owes less than the report), the wait that no schedule can avoid
  (the next window opens after this visit, started as late as its window allows,
  and the travel) at ``minimum - paid_waiting`` unless it is
  :data:`~scheduler.rules.minimum_wage.OWN_TIME_GAP_MIN` minutes or more (the
  worker's own time), less ``per_visit`` for the visit;
* the legs from home and back home owe only the last visit (the commute is not
  working time);
* each route starts at ``offset`` (cumuls may not go negative, and pay runs
  ahead of the minimum on a good day), so ``cumul(end) - offset`` is the day's
  shortfall when positive.

Each such worker's end has a soft upper bound of ``offset``: in modes ``penalty``
and ``price`` at :func:`scheduler.rules.minimum_wage.objective_weight` per unit, in
mode ``hard`` at the penalty of a mandatory visit per unit. They are the
dimension's own costs, so OR-Tools' filters and its scheduling LP see them exactly.

What the model does not see is waiting the schedule adds: visits start as early
as their route allows, and a visit that starts late in its window, or waits for
the other worker of a double-handed visit, can leave a longer wait than the
unavoidable one (or turn a wait of an hour, the worker's own time, into 50
minutes of working time). Tying the dimension to the Time dimension's slack with
solver constraints would count it, but OR-Tools sets a dimension with costs from
its LP before the finalizer sets the Time cumuls, so every solution then failed
(``benchmarks/RESULTS.md``). :mod:`scheduler.rules.minimum_wage` checks the roster
as it is, with the pay report's working time.

When no worker could fall below (no pay models, ``span`` pay at or above the rate,
every benchmark), or the mode is ``off``, the model is left exactly as it was.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scheduler.rules.minimum_wage import OWN_TIME_GAP_MIN, WageTerms, objective_weight, wage_terms

#: Largest money unit mode ``price`` may use, in 1/60 pennies: coarser units round more.
MAX_UNIT = 1000


def add(m: Any) -> None:
    """Add the ``Wage`` dimension to the model ``m`` (see the module docstring).

    Parameters
    ----------
    m
        The model being built: ``plan``, ``params``, ``travel``, ``routing``,
        ``workers``, ``node_visit``, ``n_visit``, ``loc``, ``service_min`` and, when
        there, ``context`` (the whole day of a region) are read.

    Notes
    -----
    The soft bound's coefficient is a whole number per unit. In mode ``price`` a
    pound weighs ``3600 / travel_hour_value`` seconds, a fraction of a second per
    1/60 penny, so the dimension counts in coarser units (``weight`` as a fraction
    ``p / q``: units of ``q`` sixtieths of a penny at ``p`` seconds each, ``q`` at
    most :data:`MAX_UNIT`), each arc rounded to the nearest unit.
    """
    setting = m.plan.minimum_wage
    if setting.mode == "off":
        return
    terms = [wage_terms(m.plan, w) for w in m.workers]
    risky = [t is not None and t.at_risk for t in terms]
    if not any(risky):
        return
    weight = objective_weight(setting).limit_denominator(MAX_UNIT)
    if setting.mode == "price" and weight == 0:
        weight = 1 / MAX_UNIT  # a cost too small for the units: the least there is
    unit = 1 if setting.mode != "price" else weight.denominator
    # Hard: each 1/60 penny below costs as much as leaving a mandatory visit out, so the
    # search leaves visits out rather than pay anyone below the minimum. A bound on the
    # end instead would reject the first roster (built without pay) and every roster
    # OR-Tools' own first-solution heuristics build from it.
    coefficient = m.params.penalty("mandatory") if setting.mode == "hard" else weight.numerator

    routing = m.routing
    zero = routing.RegisterUnaryTransitVector([0] * len(m.loc))
    evaluators: dict[tuple[str, WageTerms], int] = {}
    per_vehicle = []
    for w, t, at_risk in zip(m.workers, terms, risky, strict=True):
        if not at_risk:
            per_vehicle.append(zero)
            continue
        if (w.travel_mode, t) not in evaluators:
            owed = _divide(_owed(m, w.travel_mode, t), unit)
            evaluators[(w.travel_mode, t)] = routing.RegisterTransitMatrix(owed.tolist())
        per_vehicle.append(evaluators[(w.travel_mode, t)])
    # The most a day can run ahead of the minimum: every minute paid at the best rate and
    # every visit at the best per-visit rate. Starting there, no cumul goes negative.
    known = [t for t in terms if t is not None]
    day = 24 * 60
    ahead = max(max(t.paid_contact, t.paid_travel) for t in known) * day
    offset = -(-(ahead + 60 * max(t.per_visit for t in known) * m.n_visit) // unit) + 1
    behind = -(-(max(t.minimum for t in known) * 2 * day) // unit)
    routing.AddDimensionWithVehicleTransits(per_vehicle, 0, 2 * offset + behind, False, "Wage")
    wage = routing.GetDimensionOrDie("Wage")
    for k in range(len(m.workers)):
        wage.CumulVar(routing.Start(k)).SetValue(offset)
        if not risky[k]:
            continue
        wage.SetCumulVarSoftUpperBound(routing.End(k), offset, coefficient)


def _owed(m: Any, mode: str, t: WageTerms) -> np.ndarray:
    """Return, per arc between nodes, what it adds to the shortfall (1/60 penny; see the module docstring)."""
    seconds = m.travel.matrix(mode).time_s[np.ix_(m.loc, m.loc)]
    up, down = -(-seconds // 60), seconds // 60
    n_visit = m.n_visit
    service = np.asarray(m.service_min, dtype=np.int64)[:, None]
    opens = np.zeros(len(m.loc), dtype=np.int64)
    closes = np.zeros(len(m.loc), dtype=np.int64)
    # A region of a big day (``m.context``) narrows some windows (the half of a double-handed
    # visit whose other half is outside starts at its minute): the day's windows keep the
    # region's costs the day's.
    day = m.plan if getattr(m, "context", None) is None else m.context.plan
    windows = [day.visit(v.id).window for v in m.node_visit]
    opens[:n_visit] = [-(-w.start // 60) for w in windows]
    closes[:n_visit] = [w.end // 60 for w in windows]
    wait = opens[None, :] - (closes[:, None] + service + up)  # the wait no start time avoids
    wait[(wait < 0) | (wait >= OWN_TIME_GAP_MIN)] = 0
    owed = ((t.minimum - t.paid_contact) * service + t.minimum * up - t.paid_travel * down
            + (t.minimum - t.paid_waiting) * wait - 60 * t.per_visit)
    ends = np.arange(n_visit + 1, len(m.loc), 2)
    owed[:, ends] = (t.minimum - t.paid_contact) * service - 60 * t.per_visit  # home: the visit only
    owed[n_visit:, :] = 0  # from home (and from an end): nothing
    return owed


def _divide(values: np.ndarray, unit: int) -> np.ndarray:
    """Return ``values / unit`` rounded to the nearest whole number (``values`` itself when ``unit`` is 1)."""
    return values if unit == 1 else np.floor_divide(2 * values + unit, 2 * unit)
