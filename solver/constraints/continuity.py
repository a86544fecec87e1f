"""Continuity of care: a visit served by someone the client does not know costs travel seconds.

Per worker, the cost of each visit node (:func:`scheduler.rules.continuity.strangeness`,
scaled by ``SolveParams.continuity_weight_s``) is summed along the route by a
dimension whose span costs 1 per unit. Each distinct cost row is one unary
transit vector (node i's cost), shared by the workers with that row: O(nodes)
per row, where a transit matrix would be O(nodes^2) and took minutes to build
for 2,000 visits. Only differences between workers matter, so what everyone
would cost is taken off; a region's rows are measured on the whole day.
"""

from __future__ import annotations

import numpy as np

from scheduler.rules.continuity import strangeness
from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Add the ``Continuity`` dimension when some worker is more of a stranger than another."""
    plan = m.plan if m.context is None else m.context.plan
    stranger_cost = strangeness(plan, m.node_visit) * m.params.continuity_weight_s // 100
    if len(stranger_cost):
        stranger_cost -= stranger_cost.min(axis=0, initial=0)
    if m.day_rows is not None:  # the region's workers' rows, after the whole day's minimum
        stranger_cost = stranger_cost[m.day_rows]
    if not stranger_cost.any():
        return
    m.stranger_cost = stranger_cost
    padded = np.hstack([stranger_cost, np.zeros((m.n_workers, 2 * m.n_workers), dtype=np.int64)])
    rows, which = np.unique(padded, axis=0, return_inverse=True)
    evaluators = [m.routing.RegisterUnaryTransitVector(row.tolist()) for row in rows]
    bound = int(stranger_cost.sum(axis=1).max())
    m.routing.AddDimensionWithVehicleTransits([evaluators[i] for i in np.ravel(which)], 0, bound, True,
                                              "Continuity")
    m.routing.GetDimensionOrDie("Continuity").SetSpanCostCoefficientForAllVehicles(1)
