"""At most N double-handed visits per worker per day (:mod:`scheduler.rules.double_handed_limit`).

A unary ``DoubleHanded`` dimension counts each route's places of double-handed
visits against the worker's limit; it is made only when some worker has a limit
and the day has a double-handed visit.
"""

from __future__ import annotations

from scheduler.rules.double_handed_limit import limit
from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Cap each route's double-handed places at its worker's limit."""
    limits = [limit(m.plan, w) for w in m.workers]
    counts = [1 if v.workers_required == 2 else 0 for v in m.node_visit]
    if all(most is None for most in limits) or not any(counts):
        return
    m.routing.AddDimensionWithVehicleCapacity(
        m.routing.RegisterUnaryTransitVector(counts + [0] * (2 * m.n_workers)), 0,
        [sum(counts) if most is None else most for most in limits], True, "DoubleHanded")
