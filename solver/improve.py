"""One OR-Tools search on a built model: its parameters, and a search from a given solution.

:func:`run_search` runs one search, :func:`improve_routes` one from given routes (a region
of a big day, :mod:`solver.decompose`). The phases of a whole day's search are in
:mod:`solver.search`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2
from ortools.util import optional_boolean_pb2

from solver.model import RoutingModel, WarmStart, read_routes, restore
from solver.params import SolveParams

#: ``SolveParams.first_solution`` value that means: our pair-aware insertion
#: (:mod:`solver.construct`), then OR-Tools' local search from there.
DEFAULT_FIRST_SOLUTION = "PAIR_INSERTION"
STATUS_NAMES = {
    value: name.removeprefix("ROUTING_")
    for name, value in routing_enums_pb2.RoutingSearchStatus.Value.items()
}


def search_status(routing: pywrapcp.RoutingModel, assignment: pywrapcp.Assignment | None) -> str:
    """Return the name of the last search's status (``SUCCESS``, ``FAIL``…).

    OR-Tools' ``SolveWithIteratedLocalSearch`` (9.12 to 9.14) leaves the status at
    ``NOT_SOLVED`` even when it returns a solution; that is reported as ``SUCCESS``.
    """
    status = STATUS_NAMES.get(routing.status(), str(routing.status()))
    return "SUCCESS" if status == "NOT_SOLVED" and assignment is not None else status


def search_parameters(params: SolveParams, time_limit_s: float | None = None) -> pywrapcp.DefaultRoutingSearchParameters:
    """Return OR-Tools search parameters for ``params``."""
    search = pywrapcp.DefaultRoutingSearchParameters()
    strategy = "AUTOMATIC" if params.first_solution == DEFAULT_FIRST_SOLUTION else params.first_solution
    search.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
    search.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic)
    limit = params.time_limit_s if time_limit_s is None else time_limit_s
    search.time_limit.FromMilliseconds(max(1, int(limit * 1000)))
    search.log_search = params.log_search
    for name in params.extra_operators:
        setattr(search.local_search_operators, name, optional_boolean_pb2.BOOL_TRUE)
    for name in params.disabled_operators:
        setattr(search.local_search_operators, name, optional_boolean_pb2.BOOL_FALSE)
    search.guided_local_search_lambda_coefficient = params.gls_lambda
    search.ls_operator_neighbors_ratio = params.neighbors_ratio
    if params.iterated_local_search:
        # ILS improves each recreated solution by local search with this metaheuristic;
        # one that never stops (guided local search) would leave no time to perturb.
        search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        search.use_iterated_local_search = True
        ruin = search.iterated_local_search_parameters.ruin_recreate_parameters
        del ruin.ruin_strategies[:]
        step = ruin.ruin_strategies.add()
        if params.ruin == "SISR":
            step.sisr.avg_num_removed_visits = params.ruin_visits
            step.sisr.max_removed_sequence_size = max(2, params.ruin_visits)
            step.sisr.bypass_factor = 0.01
        elif params.ruin == "RANDOM_WALK":
            step.random_walk.num_removed_visits = params.ruin_visits
        else:
            step.spatially_close_routes.num_ruined_routes = max(1, params.ruin_visits // 5)
        ils = search.iterated_local_search_parameters
        ils.acceptance_strategy = getattr(routing_ils_pb2.AcceptanceStrategy, params.ils_acceptance)
        if params.ils_acceptance == "SIMULATED_ANNEALING":
            ils.simulated_annealing_parameters.automatic_temperatures = True
    return search


def run_search(routing: pywrapcp.RoutingModel, search: pywrapcp.DefaultRoutingSearchParameters,
               start: pywrapcp.Assignment | None = None, warm: WarmStart | None = None,
               ) -> pywrapcp.Assignment | None:
    """Run the search ``search`` describes on a built model, from ``start`` if given.

    OR-Tools (9.12 to 9.14) runs its iterated local search only through
    ``SolveWithIteratedLocalSearch``, which takes no first solution: with
    ``use_iterated_local_search`` set, ``SolveWithParameters`` and
    ``SolveFromAssignmentWithParameters`` quietly run ``local_search_metaheuristic``
    instead, and a first-solution hint is not used either. So an ILS search from
    ``start`` rebuilds it as its first solution through ``warm``
    (:class:`solver.model.WarmStart`).

    Parameters
    ----------
    routing
        The model.
    search
        From :func:`search_parameters`.
    start
        A solution to improve, from a closed model; ``None`` builds one.
    warm
        The model's warm start, attached before it was closed.

    Returns
    -------
    pywrapcp.Assignment or None
        The best solution, or ``None`` if none was found.

    Raises
    ------
    ValueError
        If an iterated local search is to start from ``start`` and ``warm`` is missing.
    """
    if start is not None and search.use_iterated_local_search:
        if warm is None:
            raise ValueError("an iterated local search from a given solution needs the model's WarmStart")
        return routing.SolveWithIteratedLocalSearch(warm.search_from(routing, start, search))
    if start is not None:
        return routing.SolveFromAssignmentWithParameters(start, search)
    if search.use_iterated_local_search:
        return routing.SolveWithIteratedLocalSearch(search)
    return routing.SolveWithParameters(search)


class StopFlag(Protocol):
    """Asks a search to stop (a :class:`threading.Event` is one): set by a signal handler, read by the search."""

    def is_set(self) -> bool:
        """Return whether the search should stop now."""


@dataclass(frozen=True)
class Improvement:
    """What a short search from given routes did (see :func:`improve_routes`)."""

    before: int
    after: int
    routes: list[list[int]]
    starts: dict[int, int]
    solutions: int


def improve_routes(model: RoutingModel, routes: Sequence[Sequence[int]], time_limit_s: float) -> Improvement | None:
    """Search from ``routes`` for ``time_limit_s`` seconds and return the best routes found.

    Returns ``None`` if OR-Tools rejects the routes or the search fails. Used on
    regions of a big day (:mod:`solver.decompose`); the model is closed here.
    """
    routing = model.routing
    search = search_parameters(model.params, time_limit_s=time_limit_s)
    count = [0]
    routing.AddAtSolutionCallback(lambda: count.__setitem__(0, count[0] + 1))
    routing.CloseModelWithParameters(search)
    start = restore(model, routes)
    if start is None:
        return None
    before = start.ObjectiveValue()
    best = run_search(routing, search, start, model.warm)
    if best is None:
        return None
    return Improvement(before, best.ObjectiveValue(), *read_routes(model, best), count[0])
