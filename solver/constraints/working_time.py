"""Working time: visits and travel (home legs included, waiting not) within each worker's limit for the day.

The limit is :meth:`scheduler.model.Plan.day_limit_min` (the day's
``max_working_min`` and what the weekly cap leaves). The ``Work`` dimension
carries the ``Time`` transits again, with no slack. All of a worker's work
falls between their first start and last end, so a limit at least that long
cannot bind: such a worker counts nothing here. That is not only tidier: OR-Tools
9.13 to 9.15 copy a vehicle's transit matrix each time they check the vehicle's
route in a dimension (``benchmarks/RESULTS.md``), and a unary vector of zeros
is cheap to copy. The fair-workload rule (:mod:`solver.constraints.fair_workload`)
costs the same dimension, so it is made when either needs it.
"""

from __future__ import annotations

from solver.constraints.build import HORIZON_MIN, ModelBuild


def add(m: ModelBuild) -> None:
    """Add the ``Work`` dimension when a worker's limit can bind or the workload is balanced."""
    routing, time_dim = m.routing, m.time_dim
    limits = [m.plan.day_limit_min(w) for w in m.workers]
    for k in range(m.n_workers):
        lo, hi = time_dim.CumulVar(routing.Start(k)).Min(), time_dim.CumulVar(routing.End(k)).Max()
        if limits[k] is not None and limits[k] >= hi - lo:
            limits[k] = None
    if not any(limit is not None for limit in limits) and not m.params.balance_weight_s:
        return
    caps = []
    for k, (w, limit) in enumerate(zip(m.workers, limits, strict=True)):
        commute = int(-(-m.travel.matrix(w.travel_mode).time_s[m.loc[m.start_node(k)], m.loc[m.end_node(k)]] // 60))
        caps.append(HORIZON_MIN if limit is None else max(limit, commute))
    nothing = routing.RegisterUnaryTransitVector([0] * m.n_nodes)
    routing.AddDimensionWithVehicleTransitAndCapacity(
        [m.time_eval[w.travel_mode] if limit is not None or m.params.balance_weight_s else nothing
         for w, limit in zip(m.workers, limits, strict=True)], 0, caps, True, "Work")
