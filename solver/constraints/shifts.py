"""Shifts, availability and rest breaks: each worker's day and the time neither a visit nor travel may use.

The day runs from the first stint's start to the last one's end; gaps between
stints (split shifts) and rest breaks (:func:`scheduler.shifts.break_needs`)
are OR-Tools break intervals. At a re-plan, nobody new sets off before the
lock time, save along stops they started before it.
"""

from __future__ import annotations

from scheduler.shifts import break_needs, gaps, stints
from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Bound each vehicle's start and end by its stints, and block its gaps and rest breaks."""
    routing, manager, time_dim, solver = m.routing, m.manager, m.time_dim, m.solver
    node_visit_transits = [int(m.service_min[manager.IndexToNode(i)]) for i in range(routing.Size())]
    lock = m.lock
    for k, w in enumerate(m.workers):
        periods = stints(w)
        lo, hi = -(-periods[0].start // 60), periods[-1].end // 60
        if lock is not None and not any(v == k and at * 60 < lock for v, at in m.node_lock.values()):
            lo = min(max(lo, -(-lock // 60)), hi)
        time_dim.CumulVar(routing.Start(k)).SetRange(lo, hi)
        time_dim.CumulVar(routing.End(k)).SetRange(lo, hi)
        intervals = [solver.FixedDurationIntervalVar(g.start // 60, g.start // 60, (g.end - g.start) // 60, False,
                                                     f"gap {w.id} {g}") for g in gaps(w)]
        rests = [solver.FixedDurationIntervalVar(-(-need.window.start // 60), need.window.end // 60,
                                                 need.duration_s // 60, False, f"break {w.id}")
                 for need in break_needs(m.plan, w)]
        for rest in rests:
            routing.AddIntervalToAssignment(rest)
        if intervals or rests:
            time_dim.SetBreakIntervalsOfVehicle(intervals + rests, k, node_visit_transits)
        m.break_vars[k] = rests
