"""What a rule's model hook sees: :class:`ModelBuild`, the model as it is being built.

:func:`solver.model.build_model` makes the nodes, the routing model and its
``Time`` dimension, then hands one :class:`ModelBuild` to each hook of
:data:`solver.constraints.HOOKS` in turn. A hook adds its rule's dimensions,
constraints and costs, and may leave something for later stages on the build
(``stranger_cost`` for the first roster, ``break_vars`` for the decoder,
``tied`` starts for the search's filter).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from scheduler.timeutil import DAY_S

if TYPE_CHECKING:  # pragma: no cover - types only
    from ortools.constraint_solver import pywrapcp

    from scheduler.model import Plan, Visit, Worker
    from solver.gaps import StartGap
    from solver.params import SolveParams
    from solver.travel import PlanTravel

#: The ``Time`` dimension's horizon: a day, in minutes.
HORIZON_MIN = DAY_S // 60


@dataclass
class ModelBuild:
    """A plan's routing model while hooks add their rules to it.

    Vehicle ``k`` is ``workers[k]``; visit nodes come first (a double-handed
    visit has two), then each vehicle's start node ``n_visit + 2k`` and end node
    ``n_visit + 2k + 1``. Time is in minutes, costs in travel seconds.
    """

    plan: Plan
    params: SolveParams
    travel: PlanTravel
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    solver: pywrapcp.Solver
    time_dim: pywrapcp.RoutingDimension
    workers: tuple[Worker, ...]
    node_visit: list[Visit]
    node_allowed: list[list[int]]
    loc: np.ndarray
    service_min: np.ndarray
    time_eval: dict[str, int]
    cost_eval: dict[str, int]
    lock: int | None
    node_lock: dict[int, tuple[int, int]]
    required: Collection[str] = ()
    #: The whole day a region belongs to (:mod:`solver.decompose`), and each region worker's row in it.
    context: Any = None
    day_rows: list[int] | None = None
    # What hooks leave for later stages.
    stranger_cost: np.ndarray | None = None
    break_vars: dict[int, list[pywrapcp.IntervalVar]] = field(default_factory=dict)
    tied: list[StartGap] = field(default_factory=list)

    @property
    def n_visit(self) -> int:
        """Number of visit nodes."""
        return len(self.node_visit)

    @property
    def n_workers(self) -> int:
        """Number of vehicles (workers)."""
        return len(self.workers)

    @property
    def n_nodes(self) -> int:
        """Number of nodes: visit nodes, then a start and an end per worker."""
        return self.n_visit + 2 * self.n_workers

    def start_node(self, k: int) -> int:
        """Return vehicle ``k``'s start node."""
        return self.n_visit + 2 * k

    def end_node(self, k: int) -> int:
        """Return vehicle ``k``'s end node."""
        return self.n_visit + 2 * k + 1

    def first_nodes(self) -> dict[str, int]:
        """Return each served visit's first node."""
        out: dict[str, int] = {}
        for i, visit in enumerate(self.node_visit):
            out.setdefault(visit.id, i)
        return out
