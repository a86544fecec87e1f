"""Fair workload: each minute of work above a worker's fair share costs ``SolveParams.balance_weight_s``.

The share is :func:`scheduler.rules.fair_workload.fair_share_min`, measured on
the whole day when the model is a region of it.
"""

from __future__ import annotations

from scheduler.rules.fair_workload import fair_share_min
from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Put a soft upper bound at the fair share on each worker's ``Work`` (made by the working-time hook)."""
    if not m.params.balance_weight_s:
        return
    work = m.routing.GetDimensionOrDie("Work")
    if m.day_rows is None:
        targets = fair_share_min(m.plan, m.node_visit)
    else:
        whole = fair_share_min(m.context.plan, m.context.node_visit)
        targets = [whole[r] for r in m.day_rows]
    for k, target in enumerate(targets):
        work.SetCumulVarSoftUpperBound(m.routing.End(k), target, m.params.balance_weight_s)
