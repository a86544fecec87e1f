"""Time windows, locked stops and who may serve each node.

Each visit node starts inside its window (at a re-plan, not before the lock
time unless locked); a locked node keeps its worker and start minute; any other
node may go to the workers eligibility allows (:mod:`scheduler.eligibility`,
applied when the nodes were made) or stay unserved.
"""

from __future__ import annotations

from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Bound each visit node's start and restrict its vehicle."""
    for i, visit in enumerate(m.node_visit):
        index = m.manager.NodeToIndex(i)
        earliest = visit.window.start if m.lock is None or i in m.node_lock else max(visit.window.start, m.lock)
        m.time_dim.CumulVar(index).SetRange(-(-earliest // 60), visit.window.end // 60)
        if i in m.node_lock:
            vehicle, start_min = m.node_lock[i]
            m.routing.VehicleVar(index).SetValue(vehicle)
            m.time_dim.CumulVar(index).SetValue(start_min)
        else:
            m.routing.VehicleVar(index).SetValues([-1, *m.node_allowed[i]])
