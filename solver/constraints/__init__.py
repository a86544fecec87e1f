"""The OR-Tools model assembled from the care rules: one hook per rule that constrains the search.

Each module here is the model side of one rule of :mod:`scheduler.rules`, and
has one function, ``add(m)``, taking the :class:`~solver.constraints.build.ModelBuild`
(:func:`solver.model.build_model` makes the nodes, the routing model and the
``Time`` dimension first). :data:`HOOKS` is the order they run in; a dimension
one hook makes and a later one costs (``Work``) is made first.
"""

from __future__ import annotations

from collections.abc import Callable

from solver.constraints import (
    capacity,
    continuity,
    double_handed,
    double_handed_limit,
    equipment,
    fair_workload,
    links,
    max_visits,
    minimum_wage,
    priority,
    shifts,
    windows,
    working_time,
)
from solver.constraints.build import HORIZON_MIN, ModelBuild

#: The rules' hooks, in the order :func:`solver.model.build_model` runs them.
HOOKS: tuple[Callable[[ModelBuild], None], ...] = (
    shifts.add,
    working_time.add,
    fair_workload.add,
    max_visits.add,
    continuity.add,
    capacity.add,
    windows.add,
    priority.add,
    double_handed.add,
    links.add,
    equipment.add,
    double_handed_limit.add,
    minimum_wage.add,
)

__all__ = ["HOOKS", "HORIZON_MIN", "ModelBuild"]
