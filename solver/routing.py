"""The OR-Tools routing model of a plan, and decoding its solution into a roster.

With :mod:`solver.gaps` (a search filter), the only module of the home-care model
that imports OR-Tools. Modelling choices:

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

import dataclasses
import logging
import time
import weakref
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2, solver_parameters_pb2
from ortools.util import optional_boolean_pb2

from scheduler.eligibility import Eligibility, eligibility
from scheduler.errors import PlanError, Problem, SolverError
from scheduler.model import Plan, Visit, Worker
from scheduler.roster import (OFF_AFTER_S, Break, LockedStop, Stop, Unassigned, make_route, plan_locked_before,
                              worker_off_from)
from scheduler.shifts import arrive, break_needs, free_time, gaps, leave_by, stints
from scheduler.timeutil import DAY_S, format_hhmm
from solver.gaps import StartGap, StartGapFilter
from solver.params import SolveParams
from solver.travel import PlanTravel

log = logging.getLogger("homecare.routing")

HORIZON_MIN = DAY_S // 60
#: ``SolveParams.first_solution`` value that means: our pair-aware insertion
#: (:mod:`solver.construct`), then OR-Tools' local search from there.
DEFAULT_FIRST_SOLUTION = "PAIR_INSERTION"
STATUS_NAMES = {
    value: name.removeprefix("ROUTING_")
    for name, value in routing_enums_pb2.RoutingSearchStatus.Value.items()
}


def new_routing_model(manager: pywrapcp.RoutingIndexManager) -> pywrapcp.RoutingModel:
    """Return a routing model whose solver keeps its trail uncompressed.

    OR-Tools' routing defaults compress the solver's trail with zlib; ``deflate``
    then takes about a tenth of a search on the 1,000-visit day
    (``benchmarks/RESULTS.md``). Memory is cheaper than that time here.
    """
    parameters = pywrapcp.DefaultRoutingModelParameters()
    parameters.solver_parameters.compress_trail = solver_parameters_pb2.ConstraintSolverParameters.NO_COMPRESSION
    return pywrapcp.RoutingModel(manager, parameters)


def search_status(routing: pywrapcp.RoutingModel, assignment: pywrapcp.Assignment | None) -> str:
    """Return the name of the last search's status (``SUCCESS``, ``FAIL``…).

    OR-Tools' ``SolveWithIteratedLocalSearch`` (9.12 to 9.14) leaves the status at
    ``NOT_SOLVED`` even when it returns a solution; that is reported as ``SUCCESS``.
    """
    status = STATUS_NAMES.get(routing.status(), str(routing.status()))
    return "SUCCESS" if status == "NOT_SOLVED" and assignment is not None else status


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
        The model, ready for :func:`solve_model`.

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

    excluded: dict[str, Eligibility] = {}
    # Re-planning at ``lock`` (the plan's ``locked_before``): a visit no stop serves any
    # more whose window closed before then is in the past; so is one started before then
    # by a worker who is no longer in the plan (it happened, but cannot be shown).
    lock = plan_locked_before(plan)
    locked = list(locked)
    if lock is not None:
        gone = [lk for lk in locked if lk.start < lock and lk.worker_id not in worker_index]
        for lk in gone:
            excluded[lk.visit_id] = Eligibility((), (
                f"started at {format_hhmm(lk.start)} by worker {lk.worker_id!r}, who is no longer in the plan, "
                f"before the re-plan time {format_hhmm(lock)}: it is not planned again (keep the worker in the "
                f"plan with \"off_from\" to show it as done by them)"), "past")
        locked = [lk for lk in locked if lk.visit_id not in excluded]
        kept_ids = {lk.visit_id for lk in locked}
        for visit in visits:
            if visit.id not in kept_ids and visit.id not in excluded and visit.window.end < lock:
                excluded[visit.id] = Eligibility((), (
                    f"its window {visit.window} closed before the re-plan time {format_hhmm(lock)} and no kept "
                    f"stop serves it: it can no longer be served today"), "past")
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

    node_lock = _lock_nodes(plan, node_visit, node_allowed, excluded, worker_index, locked)
    _keep_off(workers, node_visit, node_allowed, node_lock)
    n_visit = len(node_visit)
    n_workers = len(workers)
    n_nodes = n_visit + 2 * n_workers
    loc = np.empty(n_nodes, dtype=np.int64)
    for i, v in enumerate(node_visit):
        loc[i] = travel.index(plan.visit_location(v))
    starts, ends = [], []
    for k, w in enumerate(workers):
        loc[n_visit + 2 * k] = travel.index(w.start_location)
        loc[n_visit + 2 * k + 1] = travel.index(w.end_location)
        starts.append(n_visit + 2 * k)
        ends.append(n_visit + 2 * k + 1)
    service_min = np.zeros(n_nodes, dtype=np.int64)
    service_min[:n_visit] = [v.duration_min for v in node_visit]

    if n_workers == 0:
        raise SolverError("a routing model needs at least one worker")
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_workers, starts, ends)
    routing = new_routing_model(manager)
    warm = WarmStart.attach(routing)
    solver = routing.solver()

    # Matrices come in node order; OR-Tools maps indices to nodes itself.
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

    # The day runs from the first stint's start to the last one's end; gaps between stints
    # (split shifts) and rest breaks are OR-Tools break intervals, which neither a visit nor
    # travel may use.
    node_visit_transits = [int(service_min[manager.IndexToNode(i)]) for i in range(routing.Size())]
    break_vars: dict[int, list[pywrapcp.IntervalVar]] = {}
    for k, w in enumerate(workers):
        periods = stints(w)
        lo, hi = -(-periods[0].start // 60), periods[-1].end // 60
        if lock is not None and not any(v == k and at * 60 < lock for v, at in node_lock.values()):
            # Nobody new sets off before the re-plan time, save along stops they started before it.
            lo = min(max(lo, -(-lock // 60)), hi)
        time_dim.CumulVar(routing.Start(k)).SetRange(lo, hi)
        time_dim.CumulVar(routing.End(k)).SetRange(lo, hi)
        intervals = [solver.FixedDurationIntervalVar(g.start // 60, g.start // 60, (g.end - g.start) // 60, False,
                                                     f"gap {w.id} {g}") for g in gaps(w)]
        rests = [solver.FixedDurationIntervalVar(-(-need.window.start // 60), need.window.end // 60,
                                                 need.duration_s // 60, False, f"break {w.id}")
                 for need in break_needs(plan, w)]
        for rest in rests:
            routing.AddIntervalToAssignment(rest)
        if intervals or rests:
            time_dim.SetBreakIntervalsOfVehicle(intervals + rests, k, node_visit_transits)
        break_vars[k] = rests

    # Working time (visits and travel, home legs included; waiting excluded) within each
    # worker's limit for the day: the Time transits again, with no slack. All of it falls
    # between the worker's first start and last end, so a limit at least that long cannot
    # bind: such a worker counts nothing here. That is not only tidier. OR-Tools 9.13 to 9.15
    # copy a vehicle's transit matrix each time they check the vehicle's route in a dimension
    # (``benchmarks/RESULTS.md``), and a unary vector of zeros is cheap to copy.
    limits = [plan.day_limit_min(w) for w in workers]
    for k in range(n_workers):
        lo, hi = time_dim.CumulVar(routing.Start(k)).Min(), time_dim.CumulVar(routing.End(k)).Max()
        if limits[k] is not None and limits[k] >= hi - lo:
            limits[k] = None
    if any(limit is not None for limit in limits) or params.balance_weight_s:
        caps = []
        for k, (w, limit) in enumerate(zip(workers, limits, strict=True)):
            commute = int(-(-travel.matrix(w.travel_mode).time_s[loc[starts[k]], loc[ends[k]]] // 60))
            caps.append(HORIZON_MIN if limit is None else max(limit, commute))
        nothing = routing.RegisterUnaryTransitVector([0] * n_nodes)
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [time_eval[w.travel_mode] if limit is not None or params.balance_weight_s else nothing
             for w, limit in zip(workers, limits, strict=True)], 0, caps, True, "Work")
        if params.balance_weight_s:
            # Fair workload: each minute of work above the provider's average costs the weight.
            work = routing.GetDimensionOrDie("Work")
            if day_rows is None:
                targets = _fair_share_min(plan, node_visit)
            else:
                whole = _fair_share_min(context.plan, context.node_visit)
                targets = [whole[r] for r in day_rows]
            for k, target in enumerate(targets):
                work.SetCumulVarSoftUpperBound(routing.End(k), target, params.balance_weight_s)
    if any(w.max_visits is not None for w in workers):
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector([1] * n_visit + [0] * (2 * n_workers)), 0,
            [n_visit if w.max_visits is None else w.max_visits for w in workers], True, "Visits")

    # Continuity of care: per worker, the cost (travel seconds) of each visit served by them
    # rather than by someone the client knows, summed along the route by a dimension whose
    # span costs 1 per unit. Each distinct cost row is one unary transit vector (node i's
    # cost), shared by the workers with that row: O(nodes) per row, where a transit matrix
    # would be O(nodes^2) and took minutes to build for 2,000 visits.
    stranger_cost = _strangeness(plan if context is None else context.plan, node_visit)
    stranger_cost = stranger_cost * params.continuity_weight_s // 100
    if len(stranger_cost):
        # Only differences between workers matter: what everyone would cost is no cost.
        stranger_cost -= stranger_cost.min(axis=0, initial=0)
    if day_rows is not None:  # the region's workers' rows, after the whole day's minimum
        stranger_cost = stranger_cost[day_rows]
    if stranger_cost.any():
        padded = np.hstack([stranger_cost, np.zeros((n_workers, 2 * n_workers), dtype=np.int64)])
        rows, which = np.unique(padded, axis=0, return_inverse=True)
        evaluators = [routing.RegisterUnaryTransitVector(row.tolist()) for row in rows]
        bound = int(stranger_cost.sum(axis=1).max())
        routing.AddDimensionWithVehicleTransits([evaluators[i] for i in np.ravel(which)], 0, bound, True,
                                                "Continuity")
        routing.GetDimensionOrDie("Continuity").SetSpanCostCoefficientForAllVehicles(1)

    demands = [v.demand for v in node_visit]
    if any(demands):
        total = int(sum(demands))
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(demands + [0] * (2 * n_workers)), 0,
            [w.capacity if w.capacity is not None else total for w in workers], True, "Load")

    first_node: dict[str, int] = {}
    tied: list[StartGap] = []  # starts tied to others' (routing indices), for the search's filter
    for i, visit in enumerate(node_visit):
        index = manager.NodeToIndex(i)
        earliest = visit.window.start if lock is None or i in node_lock else max(visit.window.start, lock)
        time_dim.CumulVar(index).SetRange(-(-earliest // 60), visit.window.end // 60)
        if i in node_lock:
            vehicle, start_min = node_lock[i]
            routing.VehicleVar(index).SetValue(vehicle)
            time_dim.CumulVar(index).SetValue(start_min)
        else:
            routing.VehicleVar(index).SetValues([-1, *node_allowed[i]])
        if visit.id not in required:
            routing.AddDisjunction([index], params.penalty(visit.priority))
        if visit.id in first_node:
            other = manager.NodeToIndex(first_node[visit.id])
            solver.Add(time_dim.CumulVar(index) == time_dim.CumulVar(other))
            solver.Add(routing.ActiveVar(index) == routing.ActiveVar(other))
            # The two places go to two workers. The time equality implies it, but only the
            # solver's propagation sees that, after the search's filters have passed a move,
            # and it is dear (the whole model, some 35 ms a check on 1,000 visits): a move that
            # puts both places on one route, next to each other at no travel, looks free to the
            # filters. A hard type incompatibility lets them turn it down.
            first_type = 2 * len(tied)  # one pair of types per double-handed visit tied so far
            routing.SetVisitType(other, first_type, routing.TYPE_ADDED_TO_VEHICLE)
            routing.SetVisitType(index, first_type + 1, routing.TYPE_ADDED_TO_VEHICLE)
            routing.AddHardTypeIncompatibility(first_type, first_type + 1)
            tied.append(StartGap(other, index, 0, 0))
        else:
            first_node[visit.id] = i
    tied += _link_visits(plan, routing, manager, time_dim, first_node)
    # Visits start as early as their route allows; workers leave home just in time
    # and come back as soon as they can.
    for i in range(n_visit):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(manager.NodeToIndex(i)))
    for k in range(n_workers):
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(k)))
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))

    gap_filter = _start_gap_filter(routing, manager, workers, travel, time_dim, tied, loc, service_min)
    return RoutingModel(plan, travel, params, manager, routing, time_dim, node_visit, loc, node_allowed, excluded,
                        node_lock, stranger_cost if stranger_cost.any() else None, break_vars, warm, gap_filter)


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


def _fair_share_min(plan: Plan, node_visit: list[Visit]) -> list[int]:
    """Return, per worker, their provider's visit minutes per worker (the fair share, travel aside).

    A visit with no provider counts for every provider of its kind, shared by their workers.
    """
    staff: dict[str, list[str]] = {}
    for w in plan.workers:
        staff.setdefault(w.provider_id, []).append(w.id)
    minutes: dict[str, float] = dict.fromkeys(staff, 0.0)
    for v in node_visit:
        owners = [v.provider_id] if v.provider_id else [p.id for p in plan.providers if p.kind == v.kind and p.id in staff]
        head = sum(len(staff[p]) for p in owners if p in staff)
        for p in owners:
            if p in staff and head:
                minutes[p] += v.duration_min * len(staff[p]) / head
    return [int(minutes[w.provider_id] / len(staff[w.provider_id])) for w in plan.workers]


#: Visits after which a worker counts as fully familiar to a client.
FAMILIAR_VISITS = 4


def _strangeness(plan: Plan, node_visit: list[Visit]) -> np.ndarray:
    """Return, per worker and visit node, how much of a stranger the worker is to the client (0-100).

    0 for a preferred worker or one with ``FAMILIAR_VISITS`` or more visits in the
    last 28 days, scaled down linearly for fewer visits, 100 for someone new.
    """
    seen: dict[tuple[str, str], int] = {}
    for h in plan.history:
        seen[(h.client_id, h.worker_id)] = seen.get((h.client_id, h.worker_id), 0) + h.visits
    out = np.full((len(plan.workers), len(node_visit)), 100, dtype=np.int64)
    nodes_of: dict[str, list[int]] = {}
    for i, v in enumerate(node_visit):
        nodes_of.setdefault(v.client_id, []).append(i)
    worker_index = {w.id: k for k, w in enumerate(plan.workers)}
    familiar: dict[tuple[int, str], float] = {}
    for (c, wid), n in seen.items():
        if wid in worker_index and n > 0:
            familiar[(worker_index[wid], c)] = min(n, FAMILIAR_VISITS) / FAMILIAR_VISITS
    for c in nodes_of:
        for wid in plan.client(c).preferred_worker_ids:
            if wid in worker_index:
                familiar[(worker_index[wid], c)] = 1.0
    for (k, c), f in familiar.items():
        if c in nodes_of:
            out[k, nodes_of[c]] = round(100 * (1 - f))
    return out


def _link_visits(plan: Plan, routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager,
                 time_dim: pywrapcp.RoutingDimension, first_node: dict[str, int]) -> list[StartGap]:
    """Constrain linked visits' starts (end of the first to start of the next), when both are served.

    Written in linear big-M form: ``start(then) - start(first) >= duration(first) + min_gap
    - M * (2 - active(first) - active(then))``, and the same for ``max_gap``. Returns the
    links as gaps between starts, for the search's filter.
    """
    out = []
    solver = routing.solver()
    big = 2 * HORIZON_MIN
    for visit in plan.visits:
        for first_id, then_id, low, high in visit.links():
            if first_id not in first_node or then_id not in first_node:
                continue  # one of them cannot be served at all: nothing to keep in step
            a = manager.NodeToIndex(first_node[first_id])
            b = manager.NodeToIndex(first_node[then_id])
            duration = plan.visit(first_id).duration_min
            gap = time_dim.CumulVar(b) - time_dim.CumulVar(a) - duration
            slack = big * (2 - routing.ActiveVar(a) - routing.ActiveVar(b))
            solver.Add(gap + slack >= low)
            if high is not None:
                solver.Add(gap - slack <= high)
            out.append(StartGap(a, b, duration + low, None if high is None else duration + high))
    return out


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


class WarmStart:
    """First-solution evaluator that makes OR-Tools rebuild a given solution.

    OR-Tools' iterated local search (9.12 to 9.14) takes no first solution (see
    :func:`run_search`), but it does take a first-solution strategy, and
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
    (:class:`WarmStart`).

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


#: Share of the time limit the first-roster heuristic may spend on repeat passes, and the
#: most it may spend whatever the limit: on a 1,000-visit day one pass takes about a
#: second, and twelve (11 s) made the first roster late without helping the search by 60 s.
CONSTRUCT_SHARE = 0.05
CONSTRUCT_MAX_S = 2.0


class StopFlag(Protocol):
    """Asks a search to stop (a :class:`threading.Event` is one): set by a signal handler, read by the search."""

    def is_set(self) -> bool:
        """Return whether the search should stop now."""


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
        From :func:`build_model`.
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
    from solver.construct import construct_routes

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


def _improve_by_regions(model: RoutingModel, start: pywrapcp.Assignment, monitor: _Monitor,
                        t0: float, stop: StopFlag | None = None) -> pywrapcp.Assignment:
    """Improve a big day's first roster region by region (:mod:`solver.decompose`) for its share of the time."""
    from solver import decompose

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


def decode(model: RoutingModel, assignment: pywrapcp.Assignment) -> tuple[list, list[Unassigned]]:
    """Turn an assignment into routes and the list of visits left out.

    Returns
    -------
    tuple of (list of Route, list of Unassigned)
        Every worker's route (empty ones included), and the visits nobody serves,
        with the reasons of those excluded before the search. Reasons for visits
        the search dropped are added by :func:`solver.explain.explain_unassigned`.

    Raises
    ------
    SolverError
        If a double-handed visit is served only once (the model forbids it).
    """
    plan, travel, manager, routing, time_dim = (
        model.plan, model.travel, model.manager, model.routing, model.time_dim)
    lock = plan_locked_before(plan)
    routes = []
    served: dict[str, int] = {}
    for k, worker in enumerate(plan.workers):
        matrix = travel.matrix(worker.travel_mode)
        index = routing.Start(k)
        prev_loc = model.node_location[manager.IndexToNode(index)]
        day_start = stints(worker)[0].start
        if lock is not None and not any(v == k and at * 60 < lock for v, at in model.node_lock.values()):
            day_start = max(day_start, lock)
        # Travel pauses over the gaps between stints (the model counts it so).
        blocks = [(g.start, g.end) for g in gaps(worker)]
        legs: list[tuple[int, int, int, int, int, bool]] = []  # visit node, start, leg s, leg m, leg s rounded up, locked
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            here = model.node_location[node]
            leg_s, leg_m = int(matrix.time_s[prev_loc, here]), int(matrix.distance_m[prev_loc, here])
            start = assignment.Value(time_dim.CumulVar(index)) * 60
            legs.append((node, start, leg_s, leg_m, -(-leg_s // 60) * 60, node in model.node_lock))
            prev_loc = here
            index = assignment.Value(routing.NextVar(index))
        end_loc = model.node_location[manager.IndexToNode(index)]
        stops: list[Stop] = []
        prev_end: int | None = None
        for node, start, leg_s, leg_m, leg_min_s, is_locked in legs:
            visit = model.node_visit[node]
            # Leave as late as the start allows: any waiting happens before leaving, and
            # the worker arrives just in time (earlier only when travel must pause over a gap).
            departure = leave_by(start, leg_min_s, blocks)
            if prev_end is None:
                departure = max(day_start, departure)
            else:
                departure = max(prev_end, departure)
            arrival = min(start, arrive(departure, leg_min_s, blocks))
            stops.append(Stop(visit.id, arrival, start, start + visit.duration_s, leg_s, leg_m, visit.client_id,
                              departure=departure, locked=is_locked))
            served[visit.id] = served.get(visit.id, 0) + 1
            prev_end = start + visit.duration_s
        rests = [Break(assignment.StartValue(iv) * 60, assignment.EndValue(iv) * 60)
                 for iv in model.break_vars.get(k, [])]
        end_travel_s = int(matrix.time_s[prev_loc, end_loc]) if stops else 0
        stops, rests = _place_breaks(plan, worker, stops, rests, end_travel_s, [leg[4] for leg in legs])
        stops = _with_waits(stops, rests, blocks)
        routes.append(make_route(
            worker.id, stops, departure=stops[0].departure if stops else None,
            end_travel_s=end_travel_s,
            end_travel_m=int(matrix.distance_m[prev_loc, end_loc]) if stops else 0,
            breaks=rests,
        ))
    unassigned = []
    for visit in plan.visits:
        n = served.get(visit.id, 0)
        if n and n != visit.workers_required:
            raise SolverError(f"visit {visit.id!r} is served {n} times, needs {visit.workers_required}")
        if n == 0:
            elig = model.excluded.get(visit.id)
            if elig is not None:
                unassigned.append(Unassigned(visit.id, elig.reason or "", elig.code or "ineligible"))
            else:
                unassigned.append(Unassigned(visit.id, "", "dropped"))
    return routes, unassigned


def _place_breaks(plan: Plan, worker: Worker, stops: list[Stop], rests: Sequence[Break], end_travel_s: int,
                  legs_s: Sequence[int]) -> tuple[list[Stop], list[Break]]:
    """Put each rest break the worker owes where it is really taken, and drop those not owed.

    A break is owed when the worker's day in its stint (leaving home to getting back)
    is longer than the rule's ``after_min``. It is taken while the worker waits
    between two visits, before leaving for the next one, so that the travel after
    it is whole: the search's break (which may follow the journey, or fall after
    the day's end) is moved to the nearest such time inside its window. When no
    such time exists, the visits after it start later, by at most the journey,
    if their windows and the shift allow (:func:`_push_after_break`). A break that
    fits neither way stays where the search put it (the validator then says so).

    Returns
    -------
    tuple of (list of Stop, list of Break)
        The stops (some maybe later) and the breaks taken.
    """
    if not stops:
        return stops, []
    needs = break_needs(plan, worker)
    rule = plan.provider(worker.provider_id).break_rule
    day_from, day_to = stops[0].departure, stops[-1].end + end_travel_s
    blocks = [(g.start, g.end) for g in gaps(worker)]
    out: list[Break] = []
    for need, rest in zip(needs, rests, strict=False):
        span = min(day_to, need.stint.end) - max(day_from, need.stint.start)
        if span <= rule.after_min * 60:
            continue
        duration = rest.end - rest.start
        # Free time between visits, before leaving for the next one.
        slots = [(a.end, b.departure) for a, b in zip(stops, stops[1:], strict=False) if b.departure > a.end]
        best = None
        taken = [(b.start, b.end) for b in out]
        for lo, hi in slots:
            lo, hi = max(lo, need.window.start), min(hi - duration, need.window.end)
            if lo > hi:
                continue
            at = min(max(rest.start, lo), hi)
            if free_time(at, at + duration, blocks + taken) < duration:
                continue
            if best is None or abs(at - rest.start) < abs(best - rest.start):
                best = at
        if best is None:
            pushed = _push_after_break(plan, worker, stops, rest, legs_s, taken + blocks, end_travel_s)
            if pushed is not None:
                stops = pushed
        out.append(rest if best is None else Break(best, best + duration))
    return stops, out


def _push_after_break(plan: Plan, worker: Worker, stops: list[Stop], rest: Break, legs_s: Sequence[int],
                      held: Sequence[tuple[int, int]], end_travel_s: int) -> list[Stop] | None:
    """Start the visits after ``rest`` late enough for the whole journey to follow it, or return ``None``.

    Only visits the worker serves alone, unlocked and unlinked, move, each inside its
    window, the shift and clear of other breaks and gaps.
    """
    after = [n for n, st in enumerate(stops) if st.start >= rest.end]
    if not after or after[0] == 0 or stops[after[0] - 1].end > rest.start:
        return None
    linked = {vid for v in plan.visits for a, b, _, _ in v.links() for vid in (a, b)}
    out = list(stops)
    ready = rest.end
    for n in range(after[0], len(stops)):
        st = out[n]
        start = -(-(ready + legs_s[n]) // 60) * 60
        if start <= st.start:
            break
        visit = plan.visit(st.visit_id)
        end = start + visit.duration_s
        if (st.locked or visit.workers_required != 1 or visit.id in linked or start > visit.window.end
                or end > worker.shift.end or any(a < end and start < b for a, b in held)):
            return None
        out[n] = dataclasses.replace(st, arrival=start, start=start, end=end, departure=start - legs_s[n])
        ready = end
    else:
        if out[-1].end + end_travel_s > stints(worker)[-1].end:
            return None
    return out


def _with_waits(stops: Sequence[Stop], rests: Sequence[Break], blocks: Sequence[tuple[int, int]]) -> list[Stop]:
    """Set each stop's waiting before departure (``idle_s``, or ``off_s`` when long), breaks and gaps left out."""
    out = []
    held = sorted([(b.start, b.end) for b in rests] + list(blocks))
    for n, stop in enumerate(stops):
        if n == 0:
            out.append(stop)
            continue
        wait = free_time(stops[n - 1].end, stop.departure, held)
        long = wait >= OFF_AFTER_S
        out.append(dataclasses.replace(stop, idle_s=0 if long else wait, off_s=wait if long else 0))
    return out
