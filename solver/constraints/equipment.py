"""Equipment first: a visit that needs an item starts once the item is in place (:mod:`scheduler.rules.equipment`).

Like a link, in linear big-M form: with the visit ``d`` served, its start is at
least the earliest time an item is in place, the item's fixed time or the end
of a served installation visit ``i``: ``start(d) >= min(fixed, end(i) + M * (1
- active(i)), ...) - M * (1 - active(d))``. An item with no fixed time needs a
served installation: ``active(d) <= sum of active(i)``. A visit whose items
nothing can put in place gets no node at all (the rule refuses every worker).
Installation visits outside this model (a region of a decomposed day) are left
to the other regions and the validator, as links are.
"""

from __future__ import annotations

from scheduler.rules.equipment import sources
from solver.constraints.build import HORIZON_MIN, ModelBuild


def add(m: ModelBuild) -> None:
    """Constrain the starts of visits that need equipment after the installations that put it in place."""
    routing, manager, time_dim, solver = m.routing, m.manager, m.time_dim, m.solver
    first_node = m.first_nodes()
    big = 2 * HORIZON_MIN
    for visit_id, node in first_node.items():
        visit = m.plan.visit(visit_id)
        if not visit.needs_equipment:
            continue
        d = manager.NodeToIndex(node)
        active = routing.ActiveVar(d)
        for source in sources(m.plan, visit):
            fixed = None if source.fixed is None else -(-source.fixed // 60)
            installs = [(manager.NodeToIndex(first_node[v.id]), v.duration_min)
                        for v in source.installations if v.id in first_node]
            if fixed is not None and fixed <= visit.window.start // 60:
                continue  # in place before the window opens: nothing to keep
            if not installs:
                if fixed is not None and fixed <= visit.window.end // 60:
                    time_dim.CumulVar(d).SetMin(fixed)  # the first roster reads it too
                elif fixed is not None:
                    solver.Add(active == 0)
                elif m.context is None:
                    solver.Add(active == 0)  # its installations cannot be served today
                continue
            ready = [time_dim.CumulVar(i) + duration + big * (1 - routing.ActiveVar(i)) for i, duration in installs]
            if fixed is not None:
                ready.append(solver.IntConst(fixed))
            else:
                solver.Add(active <= solver.Sum([routing.ActiveVar(i) for i, _ in installs]))
            earliest = ready[0] if len(ready) == 1 else solver.Min([e.Var() for e in ready])
            solver.Add(time_dim.CumulVar(d) + big * (1 - active) >= earliest)
