"""Mankowska et al. (2014) HHCRSP as an OR-Tools routing model.

The benchmark twin of :mod:`solver.model` for home care with skills and
double services (data, rules and checker: :mod:`solver.bench.mankowska`). With
:mod:`solver.model` (and its filter, :mod:`solver.gaps`) and :mod:`solver.bench.vrptw`
it is one of the modules that import OR-Tools. Modelling choices:

* one routing node per needed (patient, service); a double-service patient gives
  two nodes at the same place; one vehicle per caregiver, from the depot back to
  it, and each node's vehicle variable restricted to the caregivers qualified for
  its service;
* times and distances are scaled by :data:`SCALE` (100) to integers: arc costs
  are ``round(100 d)``; the ``Time`` transit of arc i→j is ``ceil(100 p_i) +
  ceil(100 d_ij)``, rounded up so that a schedule the model accepts is feasible
  on the exact data; slack is waiting;
* a service may not start before its window opens (cumul lower bound); starting
  after it closes costs the tardiness (``SetCumulVarSoftUpperBound``, coefficient 1);
* the two nodes of a double service: the second starts ``mind..maxd`` after the
  first, and their vehicles differ (solver constraints on the cumuls and on the
  vehicle variables);
* the maximum tardiness can be put in the objective (``max_tardiness="span"``): a
  second dimension ``Late`` with zero transits and free slack, whose cumul at each
  node is at least that node's tardiness, so a route's end cumul bounds its
  largest tardiness, and a global span cost of 1 on ``Late`` charges the largest
  of these. By default only on small instances: on larger ones it slows the
  search more than it helps (:class:`HhcrspOptions`); the maximum is always in
  the reported objective;
* the routes found are re-timed on the exact data (:func:`earliest_starts`: every
  service as early as the routes allow, which minimises total and maximum
  tardiness at once), so the reported objective carries no scaling error.

Search (:func:`solve_mankowska`): OR-Tools' own first-solution heuristics insert
one node at a time and fail, or start very late, on the synchronisation (none
came within 20 % of the best-known objective in our measurements), so the first
solution is ours (:func:`greedy_routes` or :func:`insertion_routes`, which seat
both halves of a double service at a common time), handed over with
``ReadAssignmentFromRoutes``. OR-Tools' local-search filters do not see the
synchronisation constraints, so nearly every move they pass is then checked by
the constraint solver, at the cost of a full propagation, and on large instances
the search crawls. There the search first runs with the double services' start
times fixed where the current solution has them (fixed cumuls, no gap
constraints): the filters see everything, and the search runs several times
faster; then those times are set free again, from where the first phase stopped.
:func:`solve_mankowska` runs guided local search by default;
:func:`solve_mankowska_portfolio` runs it and OR-Tools' iterated local search
side by side, one process each, from the same first solution (rebuilt for ILS
through :class:`solver.model.WarmStart`), and keeps the better. (Earlier rounds
asked for ILS in :func:`default_params`, but OR-Tools (9.12 to 9.14) runs ILS only through
``SolveWithIteratedLocalSearch``; from our routes it quietly ran guided local
search all along, which is now what the defaults say.)
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.constraint_solver import pywrapcp

from scheduler.errors import ConfigError, SolverError
from solver.bench.mankowska import (
    MankowskaInstance,
    MankowskaSolution,
    MankowskaStop,
    check_mankowska,
)
from solver.improve import DEFAULT_FIRST_SOLUTION, run_search, search_parameters, search_status
from solver.model import WarmStart, new_routing_model
from solver.parallel import map_in_processes
from solver.params import CLASSIC_GLS_LAMBDA, SolveParams

log = logging.getLogger("homecare.hhcrsp")

#: Model units per instance time or distance unit.
SCALE = 100
#: How the maximum tardiness enters the search objective (``auto``: by size, see :class:`HhcrspOptions`).
MAX_TARDINESS_MODES = ("none", "span", "auto")
#: Our first-solution heuristics (``auto``: by size, see :class:`HhcrspOptions`).
CONSTRUCTIONS = ("greedy", "insertion", "auto")
Route = list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class HhcrspOptions:
    """Model and search choices particular to the HHCRSP.

    The defaults were chosen by measurement at 2-10 s per instance (figures in
    ``benchmarks/RESULTS.md``), by the number of routing nodes (one per needed
    service): below ``small_nodes`` the maximum tardiness is in the search
    objective (``span``; on larger instances it slows the search more than it
    helps); below ``large_nodes`` the search starts from :func:`greedy_routes` and
    lets every time move from the start; from ``large_nodes`` up it starts from
    :func:`insertion_routes` and spends ``large_fixed_share`` of the time with
    double-service times fixed.

    Parameters
    ----------
    construction
        First solution when ``SolveParams.first_solution`` is ``PAIR_INSERTION``:
        ``greedy`` (:func:`greedy_routes`), ``insertion`` (:func:`insertion_routes`)
        or ``auto`` (by size, as above).
    fixed_share
        Share of the time limit spent with double-service start times fixed (the
        first phase); 0 skips that phase; ``None``: by size, as above.
    max_tardiness
        ``none``, ``span`` (see the module notes) or ``auto`` (by size, as above).
    tardiness_weight
        Weight of tardiness against distance in :func:`insertion_routes`.
    small_nodes, large_nodes
        Routing nodes below which an instance counts as small, and from which it
        counts as large.
    large_fixed_share
        ``fixed_share`` of large instances when it is ``None``.
    """

    construction: str = "auto"
    fixed_share: float | None = None
    max_tardiness: str = "auto"
    tardiness_weight: float = 10.0
    small_nodes: int = 50
    large_nodes: int = 200
    large_fixed_share: float = 0.7

    def __post_init__(self) -> None:
        problems = []
        if self.construction not in CONSTRUCTIONS:
            problems.append(f"construction {self.construction!r} is not one of {', '.join(CONSTRUCTIONS)}")
        for name in ("fixed_share", "large_fixed_share"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 1:
                problems.append(f"{name} must be in [0, 1), got {value}")
        if self.max_tardiness not in MAX_TARDINESS_MODES:
            problems.append(f"max_tardiness {self.max_tardiness!r} is not one of {', '.join(MAX_TARDINESS_MODES)}")
        if not self.tardiness_weight > 0:
            problems.append(f"tardiness_weight must be positive, got {self.tardiness_weight}")
        if not 1 <= self.small_nodes <= self.large_nodes:
            problems.append(f"need 1 <= small_nodes <= large_nodes, got {self.small_nodes} and {self.large_nodes}")
        if problems:
            raise ConfigError("; ".join(problems))

    def resolve(self, inst: MankowskaInstance) -> tuple[str, float, str]:
        """Return the construction, fixed share and maximum-tardiness mode to use on ``inst``."""
        nodes = len(inst.requirements())
        large = nodes >= self.large_nodes
        construction = self.construction if self.construction != "auto" else ("insertion" if large else "greedy")
        share = self.fixed_share if self.fixed_share is not None else (self.large_fixed_share if large else 0.0)
        mode = self.max_tardiness if self.max_tardiness != "auto" else ("span" if nodes < self.small_nodes else "none")
        return construction, share, mode


def default_params(time_limit_s: float, seed: int = 0) -> SolveParams:
    """Return the search settings :func:`solve_mankowska` uses by default."""
    return SolveParams(time_limit_s=time_limit_s, seed=seed, first_solution=DEFAULT_FIRST_SOLUTION,
                       metaheuristic="GUIDED_LOCAL_SEARCH", extra_operators=(), gls_lambda=CLASSIC_GLS_LAMBDA)


@dataclass(frozen=True)
class _Data:
    """An instance's numbers as used by a schedule computation (exact or in model units)."""

    d: np.ndarray
    p: np.ndarray
    e: np.ndarray
    l: np.ndarray  # noqa: E741
    min_gap: np.ndarray
    max_gap: np.ndarray


def _exact(inst: MankowskaInstance) -> _Data:
    return _Data(inst.distance, inst.processing, inst.earliest, inst.latest, inst.min_gap, inst.max_gap)


def _scaled(inst: MankowskaInstance) -> _Data:
    """Model units: travel, service and window openings rounded up, window closings down."""
    def up(a: np.ndarray) -> np.ndarray:
        # Products like 100 * 34.0 land exactly; allow for float noise a hair above.
        return np.ceil(np.asarray(a) * SCALE - 1e-6).astype(np.int64)

    return _Data(up(inst.distance), up(inst.processing), up(inst.earliest),
                 np.floor(inst.latest * SCALE + 1e-6).astype(np.int64),
                 np.round(inst.min_gap * SCALE).astype(np.int64), np.round(inst.max_gap * SCALE).astype(np.int64))


@dataclass
class HhcrspModel:
    """An instance compiled into OR-Tools objects, with the maps needed to decode."""

    inst: MankowskaInstance
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dim: pywrapcp.RoutingDimension
    node_req: list[tuple[int, int]]  # routing node - 1 -> (patient, service)
    req_node: dict[tuple[int, int], int] = field(default_factory=dict)
    warm: WarmStart | None = None


def build_model(
    inst: MankowskaInstance,
    *,
    seed: int = 0,
    max_tardiness: str = "none",
    fixed_starts: dict[tuple[int, int], int] | None = None,
    horizon: int | None = None,
) -> HhcrspModel:
    """Compile an instance into an OR-Tools routing model.

    Parameters
    ----------
    inst
        The instance.
    seed
        A non-zero seed shuffles the order of the requirement nodes, which steers
        OR-Tools' search differently.
    max_tardiness
        ``none``: the search minimises distance plus total tardiness; ``span``: plus
        the maximum tardiness (see the module notes).
    fixed_starts
        Start (model units) of every double-service (patient, service): each is
        fixed there and the gap constraints are left out (the first search phase).
    horizon
        Latest time (model units) any route may end; default three times the
        latest window closing.

    Returns
    -------
    HhcrspModel
        The model, ready to solve.

    Raises
    ------
    ConfigError
        If ``max_tardiness`` is not ``none`` or ``span``.
    """
    if max_tardiness not in ("none", "span"):
        raise ConfigError(f"max_tardiness {max_tardiness!r} is not none or span")
    reqs = inst.requirements()
    if seed:
        order = np.random.default_rng(seed).permutation(len(reqs))
        reqs = [reqs[i] for i in order]
    req_node = {req: k + 1 for k, req in enumerate(reqs)}
    n_nodes = len(reqs) + 1
    n_cg = inst.n_caregivers
    patient = np.array([0] + [i for i, _ in reqs])
    service = np.array([0] + [s for _, s in reqs])
    data = _scaled(inst)

    manager = pywrapcp.RoutingIndexManager(n_nodes, n_cg, 0)
    routing = new_routing_model(manager)
    warm = WarmStart.attach(routing)
    solver = routing.solver()

    sub = np.ix_(patient, patient)
    cost = np.round(inst.distance[sub] * SCALE).astype(np.int64)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost.tolist()))

    # Service times may depend on the caregiver: one time matrix per distinct column of p.
    travel = data.d[sub]
    proc = data.p[patient, :, service]  # (node, caregiver)
    proc[0] = 0
    columns, which = np.unique(proc.T, axis=0, return_inverse=True)
    time_eval = [routing.RegisterTransitMatrix((travel + col[:, None]).tolist()) for col in columns]
    e, l_ = data.e[patient], data.l[patient]
    if horizon is None:
        horizon = int(3 * l_[1:].max())
    routing.AddDimensionWithVehicleTransits([time_eval[w] for w in np.ravel(which)], horizon, horizon, False,
                                            "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for k in range(n_cg):
        time_dim.CumulVar(routing.Start(k)).SetMin(int(data.e[0]))
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(k)))
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))

    late_dim = None
    if max_tardiness == "span":
        zero = routing.RegisterUnaryTransitVector([0] * n_nodes)
        routing.AddDimension(zero, horizon, horizon, True, "Late")
        late_dim = routing.GetDimensionOrDie("Late")
        late_dim.SetGlobalSpanCostCoefficient(1)

    for node in range(1, n_nodes):
        index = manager.NodeToIndex(node)
        cumul = time_dim.CumulVar(index)
        cumul.SetMin(int(e[node]))
        time_dim.SetCumulVarSoftUpperBound(index, int(l_[node]), 1)
        allowed = np.flatnonzero(inst.qualified[:, service[node]]).tolist()
        routing.VehicleVar(index).SetValues([-1, *allowed])
        routing.AddVariableMinimizedByFinalizer(cumul)
        if late_dim is not None:
            solver.Add(late_dim.CumulVar(index) >= cumul - int(l_[node]))
            routing.AddVariableMinimizedByFinalizer(late_dim.CumulVar(index))
    if late_dim is not None:
        for k in range(n_cg):
            routing.AddVariableMinimizedByFinalizer(late_dim.CumulVar(routing.End(k)))

    for i in inst.double_service.tolist():
        s1, s2 = inst.services(i)
        a, b = manager.NodeToIndex(req_node[i, s1]), manager.NodeToIndex(req_node[i, s2])
        solver.Add(routing.VehicleVar(a) != routing.VehicleVar(b))
        if fixed_starts is not None:
            time_dim.CumulVar(a).SetValue(fixed_starts[i, s1])
            time_dim.CumulVar(b).SetValue(fixed_starts[i, s2])
        else:
            gap = time_dim.CumulVar(b) - time_dim.CumulVar(a)
            solver.Add(gap >= int(data.min_gap[i]))
            solver.Add(gap <= int(data.max_gap[i]))

    return HhcrspModel(inst, manager, routing, time_dim, list(reqs), req_node, warm)


def _least_starts(inst: MankowskaInstance, data: _Data, routes: Sequence[Sequence[tuple[int, int]]]) -> list[list]:
    """Least start times of ``routes`` in ``data``'s units (see :func:`earliest_starts`)."""
    pos = {(i, s): (k, j) for k, route in enumerate(routes) for j, (i, s) in enumerate(route)}
    e, d, p = data.e.tolist(), data.d.tolist(), data.p
    starts = [[e[i] for i, _ in route] for route in routes]
    procs = [[p[i, k, s].item() for i, s in route] for k, route in enumerate(routes)]
    pairs = []
    for i in inst.double_service.tolist():
        s1, s2 = inst.services(i)
        if (i, s1) in pos and (i, s2) in pos:
            pairs.append((pos[i, s1], pos[i, s2], data.min_gap[i].item(), data.max_gap[i].item()))
    for _ in range(len(pos) + 2):
        for k, route in enumerate(routes):
            prev, ready, row = 0, e[0], starts[k]
            for j, (i, _) in enumerate(route):
                t = max(row[j], ready + d[prev][i])
                row[j] = t
                prev, ready = i, t + procs[k][j]
        changed = False
        for (k1, j1), (k2, j2), lo, hi in pairs:
            t1, t2 = starts[k1][j1], starts[k2][j2]
            if t2 < t1 + lo:
                starts[k2][j2], changed = t1 + lo, True
            elif t1 < t2 - hi:
                starts[k1][j1], changed = t2 - hi, True
        if not changed:
            return starts
    raise SolverError("these routes admit no schedule: double services are ordered crosswise")


def earliest_starts(
    inst: MankowskaInstance, routes: Sequence[Sequence[tuple[int, int]]]
) -> tuple[tuple[MankowskaStop, ...], ...]:
    """Time every service as early as the routes allow, on the exact data.

    All the rules are of the form ``t_a >= t_b + c`` (route order, window opening,
    the double-service gap both ways), so the least schedule exists when any does,
    and it minimises total and maximum tardiness together; it is found by
    repeated forward passes (Bellman-Ford).

    Parameters
    ----------
    inst
        The instance.
    routes
        Per caregiver, the (patient, service) served, in order.

    Returns
    -------
    tuple of tuple of MankowskaStop
        The routes with their start times.

    Raises
    ------
    SolverError
        If no schedule exists (the routes order two double services crosswise).
    """
    starts = _least_starts(inst, _exact(inst), routes)
    return tuple(tuple(MankowskaStop(i, s, float(starts[k][j])) for j, (i, s) in enumerate(route))
                 for k, route in enumerate(routes))


def greedy_routes(inst: MankowskaInstance, *, seed: int = 0) -> list[Route]:
    """Build routes by appending patients in order of window opening.

    Each patient goes to the end of the qualified caregiver's route (a double
    service: to the ends of two qualified caregivers' routes, both starts shifted
    to meet the gap) where distance added plus tardiness (total, and the rise in
    the maximum) is least. Appending never delays anyone already placed, so the
    result always has a schedule. Fast, and a start from which the search
    improves quickly on small instances.

    Parameters
    ----------
    inst
        The instance.
    seed
        A non-zero seed breaks ties between equal window openings at random.

    Returns
    -------
    list of list of (patient, service)
        Per caregiver, the services in order.
    """
    rng = np.random.default_rng(seed)
    n = inst.n_patients
    tie = rng.random(n + 1) if seed else np.zeros(n + 1)
    order = sorted(range(1, n + 1), key=lambda i: (inst.earliest[i], inst.latest[i], tie[i], i))
    d, p, e, l_ = inst.distance, inst.processing, inst.earliest, inst.latest
    routes: list[Route] = [[] for _ in range(inst.n_caregivers)]
    last = [0] * inst.n_caregivers
    ready = [float(e[0])] * inst.n_caregivers
    max_tard = 0.0

    def added(k: int, i: int) -> float:
        return float(d[last[k], i] + d[i, 0] - d[last[k], 0])

    for i in order:
        services = inst.services(i)
        best: tuple[float, list[tuple[int, int, float]]] | None = None
        if len(services) == 1:
            (s,) = services
            for k in np.flatnonzero(inst.qualified[:, s]).tolist():
                t = max(float(e[i]), ready[k] + d[last[k], i])
                tard = max(0.0, t - l_[i])
                c = added(k, i) + tard + max(0.0, tard - max_tard)
                if best is None or c < best[0]:
                    best = (c, [(k, s, t)])
        else:
            s1, s2 = services
            lo, hi = float(inst.min_gap[i]), float(inst.max_gap[i])
            for k1 in np.flatnonzero(inst.qualified[:, s1]).tolist():
                for k2 in np.flatnonzero(inst.qualified[:, s2]).tolist():
                    if k1 == k2:
                        continue
                    t1 = max(float(e[i]), ready[k1] + d[last[k1], i])
                    t2 = max(float(e[i]), ready[k2] + d[last[k2], i])
                    t1 = max(t1, t2 - hi)
                    t2 = max(t2, t1 + lo)
                    tard1, tard2 = max(0.0, t1 - l_[i]), max(0.0, t2 - l_[i])
                    c = added(k1, i) + added(k2, i) + tard1 + tard2 + max(0.0, tard1 - max_tard, tard2 - max_tard)
                    if best is None or c < best[0]:
                        best = (c, [(k1, s1, t1), (k2, s2, t2)])
        assert best is not None  # read_mankowska checks every service has a qualified caregiver
        for k, s, t in best[1]:
            routes[k].append((i, s))
            last[k], ready[k] = i, t + float(p[i, k, s])
            max_tard = max(max_tard, t - float(l_[i]))
    return routes


class _Insertion:
    """State of :func:`insertion_routes`.

    Routes with start times, and per caregiver the cheapest place of every
    unplaced requirement (recomputed, vectorised, for the routes that change).
    """

    def __init__(self, inst: MankowskaInstance, tardiness_weight: float, top: int):
        self.inst = inst
        self.reqs = inst.requirements()
        self.index = {req: r for r, req in enumerate(self.reqs)}
        self.patient = np.array([i for i, _ in self.reqs])
        service = np.array([s for _, s in self.reqs])
        self.proc = inst.processing[self.patient, :, service]  # (requirement, caregiver)
        self.qual = inst.qualified[:, service]  # (caregiver, requirement)
        self.d, self.dl = inst.distance, inst.distance.tolist()
        self.e, self.l = inst.earliest, inst.latest
        self.w, self.top = tardiness_weight, top
        n_cg, n_req = inst.n_caregivers, len(self.reqs)
        self.placed = np.zeros(n_req, dtype=bool)
        self.routes: list[list[int]] = [[] for _ in range(n_cg)]
        self.start: list[list[float]] = [[] for _ in range(n_cg)]
        self.fixed: list[list[bool]] = [[] for _ in range(n_cg)]
        self.cost = np.full((n_cg, n_req), math.inf)
        self.pos = np.zeros((n_cg, n_req), dtype=np.int64)
        self.max_tard = 0.0
        for k in range(n_cg):
            self.evaluate(k)

    def evaluate(self, k: int) -> None:
        """Cheapest place in route k of every unplaced requirement k may serve."""
        self.cost[k] = math.inf
        cand = np.flatnonzero(self.qual[k] & ~self.placed)
        if not len(cand):
            return
        route = self.routes[k]
        loc = self.patient[route].astype(np.int64) if route else np.zeros(0, dtype=np.int64)
        st = np.array(self.start[k])
        fx = np.array(self.fixed[k], dtype=bool)
        pr = self.proc[route, k] if route else np.zeros(0)
        n_stops = len(loc)
        cl = self.patient[cand]
        prev = np.concatenate([[0], loc])
        ready = np.concatenate([[self.e[0]], st + pr])
        nxt = np.concatenate([loc, [0]])
        dprev = self.d[np.ix_(cl, prev)]  # (candidate, position)
        dnext = self.d[np.ix_(cl, nxt)]
        begin = np.maximum(self.e[cl][:, None], ready[None, :] + dprev)
        own = np.maximum(0.0, begin - self.l[cl][:, None])
        cost = dprev + dnext - self.d[prev, nxt][None, :] + self.w * own
        worst = own
        if n_stops:
            # Inserting before stop j delays it by delta; later stops absorb the delay in
            # their waiting; a delayed fixed stop (a placed double service) is forbidden.
            delta = np.maximum(0.0, (begin + self.proc[cand, k][:, None] + dnext)[:, :n_stops] - st[None, :])
            wait = np.zeros(n_stops)
            wait[1:] = st[1:] - (st[:-1] + pr[:-1] + self.d[loc[:-1], loc[1:]])
            absorbed = np.cumsum(wait)[None, :] - np.cumsum(wait)[:, None]  # [j, m]: waiting j+1..m
            later = np.triu(np.ones((n_stops, n_stops), dtype=bool))
            delay = np.maximum(0.0, delta[:, :, None] - absorbed[None]) * later[None]
            lm = self.l[loc]
            tard = np.maximum(0.0, st[None, None, :] + delay - lm[None, None, :])
            cost[:, :n_stops] += self.w * (tard - np.maximum(0.0, st - lm)[None, None, :]).sum(axis=2)
            cost[:, :n_stops][((delay > 1e-9) & fx[None, None, :]).any(axis=2)] = math.inf
            worst = worst.copy()
            worst[:, :n_stops] = np.maximum(worst[:, :n_stops], tard.max(axis=2))
        cost += self.w * np.maximum(0.0, worst - self.max_tard)
        best = cost.argmin(axis=1)
        self.cost[k, cand] = cost[np.arange(len(cand)), best]
        self.pos[k, cand] = best

    def _ready(self, k: int, j: int) -> tuple[int, float]:
        if j == 0:
            return 0, float(self.e[0])
        r = self.routes[k][j - 1]
        return int(self.patient[r]), self.start[k][j - 1] + float(self.proc[r, k])

    def _window(self, k: int, j: int, r: int) -> tuple[float, float]:
        """Earliest start of r before stop j of route k, and latest that delays no fixed stop."""
        i = int(self.patient[r])
        prev, ready = self._ready(k, j)
        route = self.routes[k]
        latest, nxt = math.inf, None
        for m in range(len(route) - 1, j - 1, -1):
            rm = route[m]
            im = int(self.patient[rm])
            if self.fixed[k][m]:
                latest = self.start[k][m]
            elif nxt is not None:
                latest -= float(self.proc[rm, k]) + self.dl[im][nxt]
            nxt = im
        if nxt is not None:
            latest -= float(self.proc[r, k]) + self.dl[i][nxt]
        return max(float(self.e[i]), ready + self.dl[prev][i]), latest

    def _cost_at(self, k: int, j: int, r: int, t: float) -> float | None:
        """Cost of starting r at t before stop j of route k; None if a fixed stop would move."""
        i, dl = int(self.patient[r]), self.dl
        prev, _ = self._ready(k, j)
        route, start = self.routes[k], self.start[k]
        nxt = int(self.patient[route[j]]) if j < len(route) else 0
        tard = max(0.0, t - float(self.l[i]))
        added, worst = tard, tard
        ready, loc = t + float(self.proc[r, k]), i
        for m in range(j, len(route)):
            rm = route[m]
            im = int(self.patient[rm])
            arrive = ready + dl[loc][im]
            if self.fixed[k][m]:
                if arrive > start[m] + 1e-9:
                    return None
                break
            new = max(float(self.e[im]), arrive)
            if new <= start[m]:
                break
            if new > self.l[im]:
                added += new - float(self.l[im]) - max(0.0, start[m] - float(self.l[im]))
                worst = max(worst, new - float(self.l[im]))
            ready, loc = new + float(self.proc[rm, k]), im
        return dl[prev][i] + dl[i][nxt] - dl[prev][nxt] + self.w * (added + max(0.0, worst - self.max_tard))

    def insert(self, k: int, j: int, r: int, t: float, fixed: bool) -> None:
        route, start = self.routes[k], self.start[k]
        route.insert(j, r)
        start.insert(j, t)
        self.fixed[k].insert(j, fixed)
        self.placed[r] = True
        self.cost[:, r] = math.inf
        prev, ready = self._ready(k, j)
        for m in range(j, len(route)):
            im = int(self.patient[route[m]])
            if m > j and not self.fixed[k][m]:
                start[m] = max(float(self.e[im]), ready + self.dl[prev][im])
            self.max_tard = max(self.max_tard, start[m] - float(self.l[im]))
            prev, ready = im, start[m] + float(self.proc[route[m], k])

    def patient_cost(self, i: int) -> float:
        services = self.inst.services(i)
        if len(services) == 1:
            return float(self.cost[:, self.index[i, services[0]]].min())
        c1, c2 = self.cost[:, self.index[i, services[0]]], self.cost[:, self.index[i, services[1]]]
        o1, o2 = np.argsort(c1)[:2], np.argsort(c2)[:2]
        return min((float(c1[a] + c2[b]) for a in o1 for b in o2 if a != b), default=math.inf)

    def place(self, i: int) -> set[int]:
        """Insert patient i at its cheapest place; return the routes changed."""
        services = self.inst.services(i)
        if len(services) == 1:
            r = self.index[i, services[0]]
            k = int(self.cost[:, r].argmin())
            j = int(self.pos[k, r])
            self.insert(k, j, r, self._window(k, j, r)[0], False)
            return {k}
        r1, r2 = self.index[i, services[0]], self.index[i, services[1]]
        lo, hi = float(self.inst.min_gap[i]), float(self.inst.max_gap[i])
        options = [(k1, int(self.pos[k1, r1]), k2, int(self.pos[k2, r2]))
                   for k1 in np.argsort(self.cost[:, r1])[:self.top].tolist()
                   for k2 in np.argsort(self.cost[:, r2])[:self.top].tolist()
                   if k1 != k2 and math.isfinite(self.cost[k1, r1] + self.cost[k2, r2])]
        best = self._best_pair(r1, r2, lo, hi, options)
        if best is None:  # at the ends of two routes a common time always exists
            options = [(k1, len(self.routes[k1]), k2, len(self.routes[k2]))
                       for k1 in np.flatnonzero(self.qual[:, r1]).tolist()
                       for k2 in np.flatnonzero(self.qual[:, r2]).tolist() if k1 != k2]
            best = self._best_pair(r1, r2, lo, hi, options)
        assert best is not None
        k1, j1, t1, k2, j2, t2 = best
        self.insert(k1, j1, r1, t1, True)
        self.insert(k2, j2, r2, t2, True)
        return {k1, k2}

    def _best_pair(self, r1: int, r2: int, lo: float, hi: float,
                   options: list[tuple[int, int, int, int]]) -> tuple[int, int, float, int, int, float] | None:
        best, best_cost = None, math.inf
        for k1, j1, k2, j2 in options:
            a1, b1 = self._window(k1, j1, r1)
            a2, b2 = self._window(k2, j2, r2)
            t1 = max(a1, a2 - hi)
            t2 = max(a2, t1 + lo)
            if t1 > b1 + 1e-9 or t2 > b2 + 1e-9:
                continue
            c1, c2 = self._cost_at(k1, j1, r1, t1), self._cost_at(k2, j2, r2, t2)
            if c1 is not None and c2 is not None and c1 + c2 < best_cost:
                best, best_cost = (k1, j1, t1, k2, j2, t2), c1 + c2
        return best


def insertion_routes(inst: MankowskaInstance, *, seed: int = 0, tardiness_weight: float = 10.0,
                     top: int = 6) -> list[Route]:
    """Build routes by cheapest insertion, seating double services at a common time.

    Repeatedly inserts the patient whose cheapest place (any position of any
    qualified caregiver's route) costs least: distance added plus
    ``tardiness_weight`` times the tardiness added (the patient's own and that of
    the stops it delays, and the rise in the maximum). A double service is placed
    on two different caregivers (among the ``top`` cheapest for each half) at the
    earliest common start that meets its gap; those starts are then fixed, and
    later insertions may not delay them. Slower than :func:`greedy_routes` (about
    a second at 300 patients), and a much better start on large instances.

    Parameters
    ----------
    inst
        The instance.
    seed
        A non-zero seed breaks ties between equally cheap patients at random.
    tardiness_weight
        Weight of tardiness against distance.
    top
        Caregivers tried for each half of a double service.

    Returns
    -------
    list of list of (patient, service)
        Per caregiver, the services in order.
    """
    state = _Insertion(inst, tardiness_weight, top)
    left = list(range(1, inst.n_patients + 1))
    noise = np.random.default_rng(seed).random(inst.n_patients + 1) * 1e-6 if seed else np.zeros(inst.n_patients + 1)
    while left:
        x = int(np.argmin([state.patient_cost(i) + noise[i] for i in left]))
        for k in state.place(left.pop(x)):
            state.evaluate(k)
    return [[state.reqs[r] for r in route] for route in state.routes]


def _decode(model: HhcrspModel, assignment: pywrapcp.Assignment) -> list[Route]:
    routing, manager = model.routing, model.manager
    routes = []
    for k in range(model.inst.n_caregivers):
        route = []
        index = assignment.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(index):
            route.append(model.node_req[manager.IndexToNode(index) - 1])
            index = assignment.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def _objective(inst: MankowskaInstance, routes: Sequence[Sequence[tuple[int, int]]]) -> float:
    """Objective of routes timed by :func:`earliest_starts`, as the checker computes it."""
    return check_mankowska(inst, earliest_starts(inst, routes)).objective


@dataclass
class _Search:
    """One OR-Tools search from given routes; records when solutions arrive."""

    model: HhcrspModel
    t0: float
    found: list[float] = field(default_factory=list)
    status: str = "NOT_SOLVED"

    def run(self, routes: list[Route] | None, params: SolveParams, time_limit_s: float) -> list[Route] | None:
        routing, manager = self.model.routing, self.model.manager
        routing.AddAtSolutionCallback(lambda: self.found.append(time.perf_counter() - self.t0))
        search = search_parameters(params, time_limit_s=max(0.1, time_limit_s))
        if routes is None:
            assignment = run_search(routing, search)
        else:
            routing.CloseModelWithParameters(search)
            start = routing.ReadAssignmentFromRoutes(
                [[manager.NodeToIndex(self.model.req_node[req]) for req in route] for route in routes], True)
            if start is None:
                log.warning("%s: OR-Tools rejected the routes; phase skipped", self.model.inst.name)
                self.status = "ROUTES_REJECTED"
                return None
            assignment = run_search(routing, search, start, self.model.warm)
        self.status = search_status(routing, assignment)
        return None if assignment is None else _decode(self.model, assignment)


def solve_mankowska(
    inst: MankowskaInstance,
    *,
    time_limit_s: float,
    seed: int = 0,
    params: SolveParams | None = None,
    options: HhcrspOptions | None = None,
) -> MankowskaSolution:
    """Solve an HHCRSP instance with OR-Tools.

    Parameters
    ----------
    inst
        The instance.
    time_limit_s
        Wall-clock limit of the whole solve, construction and model building
        included (seconds).
    seed
        Shuffles the model's node order and breaks ties in the first solution.
    params
        Search settings (``first_solution``: ``PAIR_INSERTION`` for our own, or an
        OR-Tools strategy, which skips the first phase; ``metaheuristic``;
        ``iterated_local_search``…); their time limit and seed are replaced by the
        arguments. Default: :func:`default_params`.
    options
        HHCRSP choices (default :class:`HhcrspOptions`).

    Returns
    -------
    MankowskaSolution
        The best routes, re-timed by :func:`earliest_starts`; ``routes`` is empty if
        no solution was found. ``stats`` holds the OR-Tools status, the number of
        solutions, the configuration and the objective after each stage.
    """
    t0 = time.perf_counter()
    params = (params or default_params(time_limit_s, seed)).replace(time_limit_s=time_limit_s, seed=seed)
    options = options or HhcrspOptions()
    ours = params.first_solution == DEFAULT_FIRST_SOLUTION
    construction, fixed_share, max_tardiness = options.resolve(inst)
    if not ours:
        construction, fixed_share = params.first_solution, 0.0
    stats: dict[str, object] = {
        "config": (f"{construction}+{'ILS' if params.iterated_local_search else params.metaheuristic}"
                   f"+fixed{fixed_share:g}+max_{max_tardiness}"),
        "first_objective": None, "fixed_objective": None, "free_objective": None}
    found: list[float] = []
    routes: list[Route] | None = None
    if ours:
        if construction == "greedy":
            routes = greedy_routes(inst, seed=seed)
        else:
            routes = insertion_routes(inst, seed=seed, tardiness_weight=options.tardiness_weight)
        found.append(time.perf_counter() - t0)
        stats["first_objective"] = round(_objective(inst, routes), 4)
    scaled = _scaled(inst)
    horizon = int(3 * scaled.l[1:-1].max())
    if routes is not None:
        starts = _least_starts(inst, scaled, routes)
        ends = [starts[k][-1] + scaled.p[r[-1][0], k, r[-1][1]] + scaled.d[r[-1][0], 0]
                for k, r in enumerate(routes) if r]
        horizon = max(horizon, int(max(ends, default=0)) + SCALE)
    phases = []
    if fixed_share > 0 and len(inst.double_service):
        phases.append(("fixed", fixed_share))
    phases.append(("free", 1.0))
    status = "NOT_SOLVED"
    solutions = 0
    for name, share in phases:
        fixed = None
        if name == "fixed":
            assert routes is not None
            starts = _least_starts(inst, scaled, routes)
            fixed = {req: int(starts[k][j]) for k, route in enumerate(routes) for j, req in enumerate(route)
                     if len(inst.services(req[0])) == 2}
        model = build_model(inst, seed=seed, max_tardiness=max_tardiness, fixed_starts=fixed,
                            horizon=horizon)
        left = time_limit_s - (time.perf_counter() - t0)
        if left < 0.05 and routes is not None:
            break
        search = _Search(model, t0)
        result = search.run(routes, params, left * share)
        solutions += len(search.found)
        found += search.found
        status = search.status
        if result is not None:
            routes = result
            stats[f"{name}_objective"] = round(_objective(inst, routes), 4)
    stats.update(status=status, solutions=solutions)
    if routes is None:
        return MankowskaSolution((), time.perf_counter() - t0, math.nan, stats)
    return MankowskaSolution(earliest_starts(inst, routes), time.perf_counter() - t0,
                             min(found) if found else math.nan, stats)


def portfolio(time_limit_s: float, *, workers: int = 2, seed: int = 0) -> list[SolveParams]:
    """Return the searches :func:`solve_mankowska_portfolio` runs, one per worker process.

    Guided local search (:func:`default_params`) and OR-Tools' iterated local
    search from the same first solution (SISR ruin of 10 visits, greedy
    acceptance). Neither wins everywhere: on eleven instances of families B to G
    at 10 s, ILS took C5 from 12.7% to 1.0% but G1 from 19.9% to 24.6%
    (``benchmarks/RESULTS.md``).
    """
    gls = default_params(time_limit_s, seed)
    return [gls, gls.replace(iterated_local_search=True)][: max(1, workers)]


def _solve_in_child(args: tuple[MankowskaInstance, float, int, SolveParams, HhcrspOptions | None],
                    ) -> MankowskaSolution:
    inst, time_limit_s, seed, params, options = args
    return solve_mankowska(inst, time_limit_s=time_limit_s, seed=seed, params=params, options=options)


def solve_mankowska_portfolio(
    inst: MankowskaInstance,
    *,
    time_limit_s: float,
    seed: int = 0,
    workers: int = 2,
    options: HhcrspOptions | None = None,
) -> MankowskaSolution:
    """Run the :func:`portfolio` searches in parallel processes and keep the best.

    Parameters
    ----------
    inst
        The instance.
    time_limit_s
        Wall-clock limit of each search (seconds); they run at the same time.
    seed
        Seed of every search.
    workers
        Searches to run, one process each (1 runs :func:`default_params` here).
    options
        HHCRSP choices (default :class:`HhcrspOptions`).

    Returns
    -------
    MankowskaSolution
        The solution with the lowest objective by :func:`check_mankowska`, its
        ``stats`` extended with ``portfolio``: each search's configuration and
        objective. ``first_feasible_s`` is the earliest of any search.
    """
    t0 = time.perf_counter()
    configs = portfolio(time_limit_s, workers=workers, seed=seed)
    sols = map_in_processes(_solve_in_child, [(inst, time_limit_s, seed, p, options) for p in configs])
    scored = [(check_mankowska(inst, s).objective if s.routes else math.inf, k) for k, s in enumerate(sols)]
    best = sols[min(scored)[1]]
    stats = dict(best.stats)
    stats["portfolio"] = "; ".join(f"{s.stats.get('config')}={obj:.4f}"
                                   for (obj, _), s in zip(scored, sols, strict=True))
    firsts = [s.first_feasible_s for s in sols if not math.isnan(s.first_feasible_s)]
    return replace(best, runtime_s=time.perf_counter() - t0, first_feasible_s=min(firsts, default=math.nan),
                   stats=stats)
