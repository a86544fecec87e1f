"""At most ``max_visits`` visits a day for a worker who has that limit (a unary ``Visits`` dimension)."""

from __future__ import annotations

from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Count visit nodes per route against each worker's ``max_visits``."""
    if not any(w.max_visits is not None for w in m.workers):
        return
    m.routing.AddDimensionWithVehicleCapacity(
        m.routing.RegisterUnaryTransitVector([1] * m.n_visit + [0] * (2 * m.n_workers)), 0,
        [m.n_visit if w.max_visits is None else w.max_visits for w in m.workers], True, "Visits")
