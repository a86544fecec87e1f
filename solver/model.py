"""The OR-Tools routing model of a plan: nodes, dimensions, constraints and index maps.

No search here (:mod:`solver.improve` runs one, :mod:`solver.search` runs a day's
phases) and no roster (:mod:`solver.decode`). Modelling choices:

* one vehicle per worker, with its own start and end node (home, or a depot);
* a visit needing two workers becomes two nodes whose ``Time`` cumuls are equal
  and that are both active or both inactive; a worker cannot serve both, since
  the second would have to start after the first ended (said again as a hard type
  incompatibility, and the search gets a filter for the equality,
  :mod:`solver.gaps`, so that its filters turn such moves down);
* linked visits keep their gaps by constraints the search's filter checks too;
* the ``Time`` dimension counts whole minutes: service minutes plus travel
  seconds rounded up to the minute, so every start lands on a minute and
  ``arrival >= previous end + travel_s`` holds exactly;
* arc costs are travel seconds in the worker's mode (``RegisterTransitMatrix``
  per mode), so the objective is travel time plus unassigned penalties;
* eligibility (provider or kind, skills, exclusions, gender, capacity, shift)
  restricts each node's vehicle variable; visits nobody may serve never enter
  the model and are reported with their reason;
* a big day is first improved a region at a time (:mod:`solver.decompose`): each
  region is a model built here, with the whole day as its ``context``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, solver_parameters_pb2

from scheduler.eligibility import Eligibility, eligibility
from scheduler.errors import PlanError, Problem, SolverError
from scheduler.model import Plan, Visit, Worker
from scheduler.roster import LockedStop, plan_locked_before, worker_off_from
from scheduler.timeutil import format_hhmm
from solver.constraints import HOOKS, HORIZON_MIN, ModelBuild
from solver.gaps import StartGap, StartGapFilter
from solver.params import SolveParams
from solver.travel import PlanTravel

__all__ = ["HORIZON_MIN", "RoutingModel", "WarmStart", "build_model", "read_routes", "restore"]


def new_routing_model(manager: pywrapcp.RoutingIndexManager) -> pywrapcp.RoutingModel:
    """Return a routing model whose solver keeps its trail uncompressed.

    OR-Tools' routing defaults compress the solver's trail with zlib; ``deflate``
    then takes about a tenth of a search on the 1,000-visit day
    (``benchmarks/RESULTS.md``). Memory is cheaper than that time here.
    """
    parameters = pywrapcp.DefaultRoutingModelParameters()
    parameters.solver_parameters.compress_trail = solver_parameters_pb2.ConstraintSolverParameters.NO_COMPRESSION
    return pywrapcp.RoutingModel(manager, parameters)


class WholeDay(Protocol):
    """The whole day a region belongs to (a :class:`RoutingModel`, or :class:`solver.decompose.DayContext`)."""

    plan: Plan
    node_visit: list[Visit]


@dataclass
class RoutingModel:
    """A plan compiled into OR-Tools objects, with the maps needed to decode."""

    plan: Plan
    travel: PlanTravel
    params: SolveParams
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dim: pywrapcp.RoutingDimension
    node_visit: list[Visit]
    node_location: np.ndarray
    node_allowed: list[list[int]]
    excluded: dict[str, Eligibility]
    node_lock: dict[int, tuple[int, int]] = field(default_factory=dict)
    stranger_cost: np.ndarray | None = None  # per worker and visit node, travel seconds
    break_vars: dict[int, list[pywrapcp.IntervalVar]] = field(default_factory=dict)
    warm: WarmStart | None = None
    #: Kept here so that it lives as long as the model that calls it.
    gap_filter: StartGapFilter | None = None

    @property
    def n_visit_nodes(self) -> int:
        """Number of nodes that stand for visits (double-handed visits count twice)."""
        return len(self.node_visit)


def build_model(
    plan: Plan, travel: PlanTravel, params: SolveParams, locked: Sequence[LockedStop] = (),
    context: WholeDay | None = None, required: Collection[str] = (),
) -> RoutingModel:
    """Compile a plan and its travel matrices into an OR-Tools routing model.

    Parameters
    ----------
    plan
        A validated plan.
    travel
        Travel between its locations for every mode its workers use.
    params
        Penalties and the seed.
    locked
        Stops to keep exactly: their visit is served by that worker at that start.
    context
        The whole day's model, when ``plan`` is a region of it (some workers and
        their visits, see :mod:`solver.decompose`): continuity and fair-share costs
        are then measured against the whole day, so that the region's objective
        changes exactly as the day's does.
    required
        Ids of visits that must be served: the search may not leave them out
        (a region's half of a double-handed visit whose other half is served
        outside it).

    Returns
    -------
    RoutingModel
        The model, ready for :func:`solver.search.solve_model`.

    Raises
    ------
    SolverError
        If the plan has no workers (there is nothing to route).
    PlanError
        If a locked stop names an unknown visit or worker, or can no longer be kept
        (the worker is not eligible any more, or the start is outside the window).
    """
    workers = plan.workers
    # A region's workers' rows in the whole day's per-worker costs.
    if context is None:
        day_rows = None
    else:
        at = {w.id: k for k, w in enumerate(context.plan.workers)}
        day_rows = [at[w.id] for w in workers]
    visits = list(plan.visits)
    if params.seed:
        order = np.random.default_rng(params.seed).permutation(len(visits))
        visits = [visits[i] for i in order]
    worker_index = {w.id: k for k, w in enumerate(workers)}
    lock = plan_locked_before(plan)
    locked = list(locked)
    excluded = _in_the_past(visits, worker_index, locked, lock)
    locked = [lk for lk in locked if lk.visit_id not in excluded]
    node_visit, node_allowed = _visit_nodes(plan, visits, worker_index, excluded)
    node_lock = _lock_nodes(plan, node_visit, node_allowed, excluded, worker_index, locked)
    _keep_off(workers, node_visit, node_allowed, node_lock)
    if not workers:
        raise SolverError("a routing model needs at least one worker")

    n_visit, n_workers = len(node_visit), len(workers)
    n_nodes = n_visit + 2 * n_workers
    loc = np.empty(n_nodes, dtype=np.int64)
    for i, v in enumerate(node_visit):
        loc[i] = travel.index(plan.visit_location(v))
    for k, w in enumerate(workers):
        loc[n_visit + 2 * k] = travel.index(w.start_location)
        loc[n_visit + 2 * k + 1] = travel.index(w.end_location)
    service_min = np.zeros(n_nodes, dtype=np.int64)
    service_min[:n_visit] = [v.duration_min for v in node_visit]
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_workers, [n_visit + 2 * k for k in range(n_workers)],
                                           [n_visit + 2 * k + 1 for k in range(n_workers)])
    routing = new_routing_model(manager)
    warm = WarmStart.attach(routing)

    # Matrices come in node order; OR-Tools maps indices to nodes itself. Arc costs are
    # travel seconds; the Time dimension counts service and travel in whole minutes.
    cost_eval: dict[str, int] = {}
    time_eval: dict[str, int] = {}
    for mode in sorted({w.travel_mode for w in workers}):
        seconds = travel.matrix(mode).time_s[np.ix_(loc, loc)]
        minutes = _transit_min(service_min[:, None], seconds)
        cost_eval[mode] = routing.RegisterTransitMatrix(seconds.tolist())
        time_eval[mode] = routing.RegisterTransitMatrix(minutes.tolist())
    for k, w in enumerate(workers):
        routing.SetArcCostEvaluatorOfVehicle(cost_eval[w.travel_mode], k)
    routing.AddDimensionWithVehicleTransits(
        [time_eval[w.travel_mode] for w in workers], HORIZON_MIN, HORIZON_MIN, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")

    build = ModelBuild(plan, params, travel, manager, routing, routing.solver(), time_dim, workers, node_visit,
                       node_allowed, loc, service_min, time_eval, cost_eval, lock, node_lock, required, context,
                       day_rows)
    for hook in HOOKS:
        hook(build)

    # Visits start as early as their route allows; workers leave home just in time
    # and come back as soon as they can.
    for i in range(n_visit):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(manager.NodeToIndex(i)))
    for k in range(n_workers):
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(k)))
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))

    gap_filter = _start_gap_filter(routing, manager, workers, travel, time_dim, build.tied, loc, service_min)
    return RoutingModel(plan, travel, params, manager, routing, time_dim, node_visit, loc, node_allowed, excluded,
                        node_lock, build.stranger_cost, build.break_vars, warm, gap_filter)


def _in_the_past(visits: Sequence[Visit], worker_index: dict[str, int], locked: Sequence[LockedStop],
                 lock: int | None) -> dict[str, Eligibility]:
    """Return the visits a re-plan at ``lock`` can no longer serve, each with code ``past``.

    A visit no kept stop serves whose window closed before the lock time is in the
    past; so is one started before then by a worker who is no longer in the plan
    (it happened, but cannot be shown).
    """
    excluded: dict[str, Eligibility] = {}
    if lock is None:
        return excluded
    for lk in locked:
        if lk.start < lock and lk.worker_id not in worker_index:
            excluded[lk.visit_id] = Eligibility((), (
                f"started at {format_hhmm(lk.start)} by worker {lk.worker_id!r}, who is no longer in the plan, "
                f"before the re-plan time {format_hhmm(lock)}: it is not planned again (keep the worker in the "
                f"plan with \"off_from\" to show it as done by them)"), "past")
    kept_ids = {lk.visit_id for lk in locked if lk.visit_id not in excluded}
    for visit in visits:
        if visit.id not in kept_ids and visit.id not in excluded and visit.window.end < lock:
            excluded[visit.id] = Eligibility((), (
                f"its window {visit.window} closed before the re-plan time {format_hhmm(lock)} and no kept "
                f"stop serves it: it can no longer be served today"), "past")
    return excluded


def _visit_nodes(plan: Plan, visits: Sequence[Visit], worker_index: dict[str, int],
                 excluded: dict[str, Eligibility]) -> tuple[list[Visit], list[list[int]]]:
    """Return the visit nodes (a double-handed visit has two) and the vehicles each may go to.

    A visit nobody may serve gets no node: it goes into ``excluded`` with its reason.
    """
    node_visit: list[Visit] = []
    node_allowed: list[list[int]] = []
    for visit in visits:
        if visit.id in excluded:
            continue
        elig = eligibility(plan, visit)
        if not elig.ok:
            excluded[visit.id] = elig
            continue
        allowed = sorted(worker_index[w] for w in elig.worker_ids)
        for copy in range(visit.workers_required):
            node_visit.append(visit)
            pinned = visit.pinned_worker_id
            if pinned is None:
                node_allowed.append(allowed)
            else:  # the first place is the pinned worker's, the second anyone else's
                k = worker_index[pinned]
                node_allowed.append([k] if copy == 0 else [a for a in allowed if a != k])
    return node_visit, node_allowed


def _transit_min(service_min: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Return the ``Time`` dimension's transit (minutes): the service, then travel rounded up."""
    return service_min + (-(-seconds // 60))


def _start_gap_filter(routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager,
                      workers: Sequence[Worker], travel: PlanTravel, time_dim: pywrapcp.RoutingDimension,
                      tied: Sequence[StartGap], loc: np.ndarray,
                      service_min: np.ndarray) -> StartGapFilter | None:
    """Give the search a :class:`~solver.gaps.StartGapFilter` if the model ties any starts.

    ``tied`` holds the double-handed visits' places and the linked visits, by routing index.
    """
    if not tied:
        return None
    size = routing.Size() + routing.vehicles()
    nodes = np.array([manager.IndexToNode(i) for i in range(size)], dtype=np.int64)
    index_loc, index_service = loc[nodes], service_min[nodes]

    def legs_in(seconds: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def legs(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # the Time dimension's transits
            return _transit_min(index_service[a], seconds[index_loc[a], index_loc[b]])
        return legs

    by_mode = {mode: legs_in(travel.matrix(mode).time_s) for mode in {w.travel_mode for w in workers}}
    low = np.array([time_dim.CumulVar(i).Min() for i in range(size)], dtype=np.int64)
    high = np.array([time_dim.CumulVar(i).Max() for i in range(size)], dtype=np.int64)
    gap_filter = StartGapFilter(routing, [by_mode[w.travel_mode] for w in workers], low, high, tied)
    routing.AddLocalSearchFilter(gap_filter)
    return gap_filter



def _lock_nodes(plan: Plan, node_visit: list[Visit], node_allowed: list[list[int]],
                excluded: dict[str, Eligibility], worker_index: dict[str, int],
                locked: Sequence[LockedStop]) -> dict[int, tuple[int, int]]:
    """Map locked stops to visit nodes as (vehicle, start minute), or raise listing every lock that cannot hold."""
    problems: list[Problem] = []
    nodes_of: dict[str, list[int]] = {}
    for i, v in enumerate(node_visit):
        nodes_of.setdefault(v.id, []).append(i)
    by_visit: dict[str, list[LockedStop]] = {}
    for lock in locked:
        by_visit.setdefault(lock.visit_id, []).append(lock)
    out: dict[int, tuple[int, int]] = {}
    for visit_id, locks in by_visit.items():
        def bad(message: str, visit_id: str = visit_id) -> None:
            problems.append(Problem("visit", visit_id, "locked", message))

        if not plan.has_visit(visit_id):
            bad("a locked stop names this visit, which is not in the plan")
            continue
        visit = plan.visit(visit_id)
        unknown = [lk.worker_id for lk in locks if lk.worker_id not in worker_index]
        if unknown:
            bad(f"locked to worker {unknown[0]!r}, who is not in the plan")
            continue
        if visit_id in excluded:
            bad(f"locked stop cannot be kept: {excluded[visit_id].reason}")
            continue
        if len(locks) > visit.workers_required or len({lk.worker_id for lk in locks}) < len(locks):
            bad(f"{len(locks)} locked stops for a visit needing {visit.workers_required} different worker(s)")
            continue
        # The pinned worker's lock takes the first place, which is reserved for them.
        locks = sorted(locks, key=lambda lk: lk.worker_id != visit.pinned_worker_id)
        for lock, node in zip(locks, nodes_of[visit_id], strict=False):
            k = worker_index[lock.worker_id]
            if k not in node_allowed[node]:
                bad(f"locked to worker {lock.worker_id!r}, who may no longer serve it")
            elif lock.start % 60 or not visit.window.start <= lock.start <= visit.window.end:
                bad(f"locked start {format_hhmm(lock.start)} is not a minute inside its window {visit.window}")
            else:
                out[node] = (k, lock.start // 60)
    if problems:
        raise PlanError(problems)
    return out


def _keep_off(workers: Sequence[Worker], node_visit: list[Visit], node_allowed: list[list[int]],
              node_lock: dict[int, tuple[int, int]]) -> None:
    """Take workers with ``off_from`` off every visit node they could start at or after that time (locks stay)."""
    for k, w in enumerate(workers):
        off = worker_off_from(w)
        if off is None:
            continue
        for i, visit in enumerate(node_visit):
            if i not in node_lock and k in node_allowed[i] and visit.window.end >= off:
                node_allowed[i] = [a for a in node_allowed[i] if a != k]


class WarmStart:
    """First-solution evaluator that makes OR-Tools rebuild a given solution.

    OR-Tools' iterated local search (9.12 to 9.14) takes no first solution (see
    :func:`solver.improve.run_search`), but it does take a first-solution strategy, and
    ``EVALUATOR_STRATEGY`` extends each route by the cheapest arc under an
    evaluator of ours. With every arc of the given solution at cost 0 and every
    other arc dear, that strategy rebuilds the given solution exactly. The
    evaluator must be set before the model is closed, so :meth:`attach` right
    after building the model. It is a Python callback, but only the rebuild of
    the first solution calls it (7,572 calls on a 100-customer Solomon
    instance), never the search itself.
    """

    #: Cost of an arc the given solution does not use.
    OFF_ROUTE = 1_000_000_000

    def __init__(self) -> None:
        self._nexts: list[int] = []

    @classmethod
    def attach(cls, routing: pywrapcp.RoutingModel) -> WarmStart:
        """Install a warm start's evaluator on a model that is not closed yet."""
        warm = cls()
        routing.SetFirstSolutionEvaluator(warm)
        return warm

    def __call__(self, i: int, j: int) -> int:
        """Return the first-solution cost of the arc from index ``i`` to index ``j``."""
        return 0 if i < len(self._nexts) and self._nexts[i] == j else self.OFF_ROUTE

    def search_from(self, routing: pywrapcp.RoutingModel, start: pywrapcp.Assignment,
                    search: pywrapcp.DefaultRoutingSearchParameters) -> pywrapcp.DefaultRoutingSearchParameters:
        """Remember ``start``'s arcs and return ``search`` set to rebuild it as the first solution."""
        self._nexts = [start.Value(routing.NextVar(i)) for i in range(routing.Size())]
        warm = pywrapcp.DefaultRoutingSearchParameters()
        warm.CopyFrom(search)
        warm.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.EVALUATOR_STRATEGY
        return warm


def restore(model: RoutingModel, routes: Sequence[Sequence[int]]) -> pywrapcp.Assignment | None:
    """Return the solution that serves ``routes``, or ``None`` if OR-Tools finds it infeasible.

    ``routes`` holds, per vehicle, the visit nodes it serves in order. The model
    must be closed (``CloseModelWithParameters``).
    """
    indices = [[model.manager.NodeToIndex(n) for n in nodes] for nodes in routes]
    return model.routing.ReadAssignmentFromRoutes(indices, True)


def read_routes(model: RoutingModel, assignment: pywrapcp.Assignment) -> tuple[list[list[int]], dict[int, int]]:
    """Return, per vehicle, the visit nodes served in order, and each served node's start (minutes)."""
    routing, manager, time_dim = model.routing, model.manager, model.time_dim
    routes: list[list[int]] = []
    starts: dict[int, int] = {}
    for k in range(len(model.plan.workers)):
        nodes = []
        index = assignment.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            nodes.append(node)
            starts[node] = assignment.Value(time_dim.CumulVar(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(nodes)
    return routes, starts
