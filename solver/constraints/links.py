"""Linked visits: the gap from the end of the first to the start of the next, when both are served.

Written in linear big-M form: ``start(then) - start(first) >= duration(first) +
min_gap - M * (2 - active(first) - active(then))``, and the same for
``max_gap``. The links also go to the search's start-gap filter (``m.tied``).
"""

from __future__ import annotations

from solver.constraints.build import HORIZON_MIN, ModelBuild
from solver.gaps import StartGap


def add(m: ModelBuild) -> None:
    """Constrain linked visits' starts."""
    routing, manager, time_dim, solver = m.routing, m.manager, m.time_dim, m.solver
    first_node = m.first_nodes()
    big = 2 * HORIZON_MIN
    for visit in m.plan.visits:
        for first_id, then_id, low, high in visit.links():
            if first_id not in first_node or then_id not in first_node:
                continue  # one of them cannot be served at all: nothing to keep in step
            a = manager.NodeToIndex(first_node[first_id])
            b = manager.NodeToIndex(first_node[then_id])
            duration = m.plan.visit(first_id).duration_min
            gap = time_dim.CumulVar(b) - time_dim.CumulVar(a) - duration
            slack = big * (2 - routing.ActiveVar(a) - routing.ActiveVar(b))
            solver.Add(gap + slack >= low)
            if high is not None:
                solver.Add(gap - slack <= high)
            m.tied.append(StartGap(a, b, duration + low, None if high is None else duration + high))
