"""A van carries at most its ``capacity`` of the day's visits' ``demand`` (a unary ``Load`` dimension)."""

from __future__ import annotations

from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Sum each route's demand against the worker's capacity, when any visit has demand."""
    demands = [v.demand for v in m.node_visit]
    if not any(demands):
        return
    total = int(sum(demands))
    m.routing.AddDimensionWithVehicleCapacity(
        m.routing.RegisterUnaryTransitVector(demands + [0] * (2 * m.n_workers)), 0,
        [w.capacity if w.capacity is not None else total for w in m.workers], True, "Load")
