"""The search of a day, in phases: first roster, regions of a big day, then the whole day.

:func:`solve_model` builds the first roster (:mod:`solver.construct`), improves a big day
region by region (:mod:`solver.decompose`), then searches the whole day
(:func:`solver.improve.run_search`), reporting progress and stopping on request.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp

from solver import decompose
from solver.construct import construct_routes
from solver.improve import (
    DEFAULT_FIRST_SOLUTION,
    STATUS_NAMES,
    StopFlag,
    run_search,
    search_parameters,
    search_status,
)
from solver.model import RoutingModel, read_routes, restore

log = logging.getLogger("homecare.routing")


@dataclass(frozen=True)
class Progress:
    """A snapshot of the search, passed to progress callbacks."""

    elapsed_s: float
    objective: int
    assigned_nodes: int
    total_nodes: int
    solutions: int
    #: Best objective found so far (the search may be sitting on a worse one).
    best_objective: int | None = None
    #: The part of ``best_objective`` that is penalties for visits left out; the rest is
    #: travel and the soft costs (continuity, balance).
    best_penalty: int | None = None


#: Share of the time limit the first-roster heuristic may spend on repeat passes, and the
#: most it may spend whatever the limit: on a 1,000-visit day one pass takes about a
#: second, and twelve (11 s) made the first roster late without helping the search by 60 s.
CONSTRUCT_SHARE = 0.05
CONSTRUCT_MAX_S = 2.0


class _Monitor:
    """At-solution callback that records the best objective, reports progress, and stops the search on request.

    A stop request (``stop`` set, say by a Ctrl-C handler) cancels the search at the
    next solution: OR-Tools then returns the best solution found so far. OR-Tools is
    called only from here, inside its own callback, never from a signal handler.
    """

    def __init__(self, model: RoutingModel, on_progress: Callable[[Progress], None] | None, every_s: float,
                 stop: StopFlag | None = None):
        self._model = weakref.ref(model)
        self._on_progress = on_progress
        self._stop = stop
        self._every_s = every_s
        self._t0 = time.perf_counter()
        self._last = -1e9
        self.solutions = 0
        self.first_solution_s: float | None = None
        self.best = None
        self.best_penalty: int | None = None
        self.errors = 0

    def __call__(self) -> None:
        # An exception escaping into OR-Tools ends the search with FAIL and
        # loses every solution found so far; log it and let the search go on.
        try:
            self._record()
        except Exception:  # noqa: BLE001 - anything from a progress reporter
            self.errors += 1
            if self.errors == 1:
                log.exception("progress callback failed (the search goes on)")
        model = self._model()
        if self.stopped and model is not None:
            model.routing.CancelSearch()

    @property
    def stopped(self) -> bool:
        """Whether a stop was asked for."""
        return self._stop is not None and self._stop.is_set()

    def _record(self) -> None:
        model = self._model()
        if model is None:
            return
        routing, manager = model.routing, model.manager

        def left_out() -> list[int]:
            # Read only when a report may need them (one pass over the nodes).
            return [i for i in range(model.n_visit_nodes)
                    if routing.NextVar(manager.NodeToIndex(i)).Value() == manager.NodeToIndex(i)]

        self.record(routing.CostVar().Value(), left_out)

    def record(self, objective: int, left_out: Callable[[], list[int]]) -> None:
        """Count a solution of the whole day; ``left_out`` returns its visit nodes nobody serves."""
        model = self._model()
        if model is None:
            return
        self.solutions += 1
        now = time.perf_counter() - self._t0
        if self.first_solution_s is None:
            self.first_solution_s = now
        improved = self.best is None or objective < self.best
        due = now - self._last >= self._every_s
        if improved:
            self.best = objective
        if self._on_progress is None or not (improved or due):
            return
        out = left_out()
        if improved:
            self.best_penalty = sum(model.params.penalty(model.node_visit[i].priority) for i in out)
        if due:
            self._last = now
            self._on_progress(Progress(now, objective, model.n_visit_nodes - len(out), model.n_visit_nodes,
                                       self.solutions, self.best, self.best_penalty))


@dataclass
class SearchOutcome:
    """What the search returned."""

    assignment: pywrapcp.Assignment | None
    status: str
    objective: int | None
    runtime_s: float
    first_solution_s: float | None
    solutions: int


def solve_model(
    model: RoutingModel, *, on_progress: Callable[[Progress], None] | None = None, progress_every_s: float = 0.5,
    stop: StopFlag | None = None,
) -> SearchOutcome:
    """Run the search.

    Parameters
    ----------
    model
        From :func:`solver.model.build_model`.
    on_progress
        Called with a :class:`Progress` on improving solutions, at most every
        ``progress_every_s`` seconds.
    progress_every_s
        Least time between two progress reports (seconds).
    stop
        Once set, the search stops at its next solution (or region) and returns
        the best solution found so far; no later phase starts.

    Returns
    -------
    SearchOutcome
        The best assignment (``None`` if none was found) and search figures.
    """
    monitor = _Monitor(model, on_progress, progress_every_s, stop)
    routing = model.routing
    routing.AddAtSolutionCallback(monitor)
    t0 = time.perf_counter()
    start = None
    if model.params.first_solution == DEFAULT_FIRST_SOLUTION:
        budget_s = min(CONSTRUCT_MAX_S, max(0.5, CONSTRUCT_SHARE * model.params.time_limit_s))
        routes = construct_routes(model, model.node_allowed, budget_s=budget_s)
        routing.CloseModelWithParameters(search_parameters(model.params))
        start = restore(model, routes)
        if start is None:
            log.warning("the constructed first roster was rejected by OR-Tools; using its own heuristic")
        elif 0 < model.params.decompose_from_visits <= model.n_visit_nodes and not monitor.stopped:
            start = _improve_by_regions(model, start, monitor, t0, stop)
    if start is not None and monitor.stopped:
        assignment = start  # stopped before the whole-day search: the best roster so far is the start
    elif start is not None:
        # Kept as a copy: OR-Tools reuses the assignment ``start`` points to in later
        # searches, and 9.12 will not take routes back into a model that has searched
        # (``ReadAssignmentFromRoutes`` fails even on the routes the search returned).
        kept, start_objective = routing.solver().Assignment(start), start.ObjectiveValue()
        left = model.params.time_limit_s - (time.perf_counter() - t0)
        assignment = run_search(routing, search_parameters(model.params, time_limit_s=max(left, 0.1)), start,
                                model.warm)
        if assignment is None and monitor.stopped:
            assignment = kept
        elif assignment is None:
            # Seen intermittently on a loaded machine, and when the regions left the
            # whole-day search almost no time: the search from our start ends at once
            # with FAIL. It is tried once more from the start; then the start stands.
            # (OR-Tools' own first solution is no fallback on a big day: building it
            # overran a 60 s limit by 30 s on the 1,000-visit day.)
            left = model.params.time_limit_s - (time.perf_counter() - t0)
            log.warning("the search from the constructed roster failed (%s); trying once more for the "
                        "remaining %.1f s", STATUS_NAMES.get(routing.status(), routing.status()), max(left, 0.1))
            assignment = run_search(routing, search_parameters(model.params, time_limit_s=max(left, 0.1)),
                                    routing.solver().Assignment(kept), model.warm)
            if assignment is None or assignment.ObjectiveValue() > start_objective:
                log.warning("keeping the roster the search started from (objective %d)", start_objective)
                assignment = kept
    else:
        assignment = run_search(routing, search_parameters(model.params))
    runtime = time.perf_counter() - t0
    status = search_status(model.routing, assignment)
    objective = assignment.ObjectiveValue() if assignment is not None else None
    log.info("search %s in %.1f s: objective %s after %d solutions", status, runtime, objective, monitor.solutions)
    return SearchOutcome(assignment, status, objective, runtime, monitor.first_solution_s, monitor.solutions)


def _improve_by_regions(model: RoutingModel, start: pywrapcp.Assignment, monitor: _Monitor,
                        t0: float, stop: StopFlag | None = None) -> pywrapcp.Assignment:
    """Improve a big day's first roster region by region (:mod:`solver.decompose`) for its share of the time."""
    params = model.params
    budget_s = params.region_share(model.n_visit_nodes) * (params.time_limit_s - (time.perf_counter() - t0))
    if budget_s < decompose.REGION_TIME_S:
        return start
    routes, starts = read_routes(model, start)
    served = {n for route in routes for n in route}
    monitor.record(start.ObjectiveValue(), lambda: [n for n in range(model.n_visit_nodes) if n not in served])
    outcome = decompose.improve_by_regions(model, routes, starts, start.ObjectiveValue(), budget_s=budget_s,
                                           record=monitor.record, processes=params.processes, seed=params.seed,
                                           stop=stop)
    if not outcome.improved:
        return start
    better = restore(model, outcome.routes)
    if better is None:  # a bug in the regions' bookkeeping: say so, and lose nothing but their work
        log.warning("OR-Tools rejected the roster improved region by region; going on from the first roster")
        return start
    if better.ObjectiveValue() != outcome.objective:
        log.warning("the regions' objective %d differs from the day's %d", outcome.objective, better.ObjectiveValue())
    return better
