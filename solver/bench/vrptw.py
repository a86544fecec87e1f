"""The classic VRPTW (Solomon, Gehring & Homberger) as an OR-Tools routing model.

This is the benchmark twin of :mod:`solver.model`: the same OR-Tools core,
the same search parameters (:func:`solver.improve.search_parameters`), on
public instances with best-known solutions, so that the search settings we
ship can be measured against the literature and against PyVRP and VROOM.
Together with :mod:`solver.model` (and its filter, :mod:`solver.gaps`) and
:mod:`solver.bench.hhcrsp` it is one of the modules that import OR-Tools.

Convention: DIMACS (see :mod:`solver.bench.instances`). Every arc, time,
window and service duration is in tenths of the instance's unit, as integers,
so the OR-Tools objective is exactly 10 x the DIMACS distance.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.constraint_solver import pywrapcp

from solver.bench.instances import VrptwInstance
from solver.improve import run_search, search_parameters
from solver.model import WarmStart, new_routing_model
from solver.parallel import map_in_processes
from solver.params import CLASSIC_GLS_LAMBDA, SolveParams

log = logging.getLogger("homecare.solver")


@dataclass(frozen=True, slots=True)
class VrptwResult:
    """Routes found (customer ids per vehicle) and search figures."""

    routes: list[list[int]]
    objective_tenths: int | None
    first_solution_s: float | None
    runtime_s: float
    solutions: int
    config: str


@dataclass(frozen=True, slots=True)
class RouteRegions:
    """Improve a solution a few neighbouring routes at a time (an LNS around OR-Tools).

    After ``first_share`` of the time limit, repeatedly take a random route and
    the ``routes - 1`` routes whose customers' centroids are nearest to it, and
    search them alone, as a small VRPTW of their own with one spare vehicle,
    for ``sub_time_s`` from their current routes; keep the result if it is
    shorter. Distances add up route by route, so a shorter region is a shorter
    solution. With fewer than ``2 * routes`` routes a region would be most of
    the instance, so the rest of the time goes to one search over all routes.
    """

    routes: int = 4
    sub_time_s: float = 0.7
    first_share: float = 0.7


@dataclass(frozen=True, slots=True)
class VrptwSearch:
    """One search of the portfolio: OR-Tools settings, and route regions after a first part."""

    params: SolveParams
    regions: RouteRegions | None = None


def solve_vrptw(inst: VrptwInstance, params: SolveParams | VrptwSearch | None = None) -> VrptwResult:
    """Solve one VRPTW instance with one search configuration.

    Parameters
    ----------
    inst
        The instance.
    params
        Search settings (first solution, metaheuristic, operators, ILS, time
        limit); the home-care fields (penalties, continuity) are not used. A
        :class:`VrptwSearch` may add route regions (:class:`RouteRegions`).

    Returns
    -------
    VrptwResult
        The best routes (empty list if no solution was found).
    """
    search = params if isinstance(params, VrptwSearch) else VrptwSearch(
        params or SolveParams(first_solution="AUTOMATIC", gls_lambda=CLASSIC_GLS_LAMBDA))
    params, regions = search.params, search.regions
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit_s
    first_limit = params.time_limit_s * (regions.first_share if regions else 1.0)
    model = _Model(inst, list(range(inst.n_customers + 1)), inst.fleet)
    first: list[float] = []
    count = [0]

    def on_solution() -> None:
        count[0] += 1
        if not first:
            first.append(time.perf_counter() - t0)

    model.routing.AddAtSolutionCallback(on_solution)
    left = first_limit - (time.perf_counter() - t0)
    assignment = run_search(model.routing, search_parameters(params, time_limit_s=max(left, 0.1)))
    routes = model.routes(assignment) if assignment is not None else []
    if assignment is not None and regions is not None:
        routes, improved = improve_by_route_regions(inst, routes, deadline, regions, params)
        count[0] += improved
    runtime = time.perf_counter() - t0
    objective = sum(route_length(inst.tenths(), r) for r in routes) if assignment is not None else None
    return VrptwResult(routes, objective, first[0] if first else None, runtime, count[0], search_label(search))


class _Model:
    """The OR-Tools model of the customers ``nodes`` (``nodes[0]`` is the depot) with ``fleet`` vehicles."""

    def __init__(self, inst: VrptwInstance, nodes: list[int], fleet: int):
        self.nodes = np.asarray(nodes)
        dist = inst.tenths()[np.ix_(self.nodes, self.nodes)]
        service, ready, due = (a[self.nodes] for a in inst.tenths_times())
        n = len(nodes)
        self.fleet = fleet
        self.manager = manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
        self.routing = routing = new_routing_model(manager)
        self.warm = WarmStart.attach(routing)
        arc = routing.RegisterTransitMatrix(dist.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(arc)
        # Time to go from i to j = service at i + travel: one matrix, evaluated in C++.
        time_cb = routing.RegisterTransitMatrix((dist + service[:, None]).tolist())
        horizon = int(due[0])
        routing.AddDimension(time_cb, horizon, horizon, False, "Time")
        time_dim = routing.GetDimensionOrDie("Time")
        for node in range(1, n):
            time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(ready[node]), int(due[node]))
        for v in range(fleet):
            time_dim.CumulVar(routing.Start(v)).SetRange(int(ready[0]), int(due[0]))
            time_dim.CumulVar(routing.End(v)).SetRange(int(ready[0]), int(due[0]))
        demand_cb = routing.RegisterUnaryTransitVector([int(q) for q in inst.demand[self.nodes]])
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * fleet, True, "Load")

    def routes(self, assignment) -> list[list[int]]:  # noqa: ANN001 - pywrapcp.Assignment
        """Return the non-empty routes of ``assignment``, as instance customer ids."""
        out: list[list[int]] = []
        for v in range(self.fleet):
            idx = assignment.Value(self.routing.NextVar(self.routing.Start(v)))
            route = []
            while not self.routing.IsEnd(idx):
                route.append(int(self.nodes[self.manager.IndexToNode(idx)]))
                idx = assignment.Value(self.routing.NextVar(idx))
            if route:
                out.append(route)
        return out


def route_length(dist: np.ndarray, route: list[int]) -> int:
    """Length of one route from the depot and back, in tenths."""
    path = [0, *route, 0]
    return int(dist[path[:-1], path[1:]].sum())


def improve_by_route_regions(inst: VrptwInstance, routes: list[list[int]], deadline: float,
                             regions: RouteRegions, params: SolveParams) -> tuple[list[list[int]], int]:
    """Search regions of neighbouring routes until ``deadline`` (see :class:`RouteRegions`).

    Returns the routes and how many regions were improved.
    """
    dist = inst.tenths()
    rng = random.Random(params.seed)
    routes = [list(r) for r in routes]
    lengths = [route_length(dist, r) for r in routes]
    centroids = np.array([[inst.x[r].mean(), inst.y[r].mean()] for r in routes])
    # Guided local search from the region's current routes, as measured (RESULTS.md).
    sub = params.replace(disabled_operators=INSERTION_LNS, extra_operators=(), iterated_local_search=False,
                         metaheuristic="GUIDED_LOCAL_SEARCH")
    improved = 0
    while (left := deadline - time.perf_counter()) > 0.05:
        if len(routes) < 2 * regions.routes:
            chosen, limit = list(range(len(routes))), left
        else:
            seed_route = centroids[rng.randrange(len(routes))]
            nearest = np.argsort(((centroids - seed_route) ** 2).sum(axis=1))
            chosen, limit = nearest[: regions.routes].tolist(), min(regions.sub_time_s, left)
        nodes = [0] + [c for i in chosen for c in routes[i]]
        local = {c: j for j, c in enumerate(nodes)}
        fleet = len(chosen) + (1 if len(routes) < inst.fleet else 0)
        model = _Model(inst, nodes, fleet)
        search = search_parameters(sub, time_limit_s=limit)
        model.routing.CloseModelWithParameters(search)
        start = model.routing.ReadAssignmentFromRoutes(
            [[local[c] for c in routes[i]] for i in chosen] + [[]] * (fleet - len(chosen)), True)
        if start is None:  # cannot happen for routes the full model accepted; stop rather than loop
            log.warning("route region: current routes rejected by the region model")
            break
        found = model.routing.SolveFromAssignmentWithParameters(start, search)
        if found is None:
            continue
        new = model.routes(found)
        new_lengths = [route_length(dist, r) for r in new]
        if sum(new_lengths) < sum(lengths[i] for i in chosen):
            improved += 1
            taken = set(chosen)
            keep = [i for i in range(len(routes)) if i not in taken]
            routes = [routes[i] for i in keep] + new
            lengths = [lengths[i] for i in keep] + new_lengths
            centroids = np.vstack([centroids[keep], [[inst.x[r].mean(), inst.y[r].mean()] for r in new]])
    return routes, improved


#: Insertion-based LNS operators that only pay off when visits may be left out
#: or inserted late; on the classic VRPTW every customer is served.
INSERTION_LNS = (
    "use_global_cheapest_insertion_path_lns", "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed", "use_lin_kernighan",
)


def portfolio(time_limit_s: float, *, workers: int = 2, seed: int = 0) -> list[VrptwSearch]:
    """Return the searches ``ours`` runs, one per worker process (best kept).

    Chosen by measurement on Solomon (``benchmarks/RESULTS.md``): OR-Tools'
    iterated local search (SISR ruin, cheapest-insertion recreate, greedy descent
    after each recreate) from parallel cheapest insertion, without the insertion
    LNS operators, for 70% of the time, then route regions
    (:class:`RouteRegions`). The two cores differ in the ruin size and in
    acceptance: 10 visits and only better solutions on one, 15 visits and
    simulated annealing on the other.
    """
    ils = SolveParams(time_limit_s=time_limit_s, seed=seed, first_solution="PARALLEL_CHEAPEST_INSERTION",
                      metaheuristic="GREEDY_DESCENT", iterated_local_search=True, ruin="SISR", ruin_visits=10,
                      extra_operators=(), disabled_operators=INSERTION_LNS, gls_lambda=CLASSIC_GLS_LAMBDA)
    annealing = ils.replace(ruin_visits=15, ils_acceptance="SIMULATED_ANNEALING")
    regions = RouteRegions(first_share=0.7)
    return [VrptwSearch(ils, regions), VrptwSearch(annealing, regions)][: max(1, workers)]


def params_label(params: SolveParams) -> str:
    """Short name of a search configuration, for reports."""
    label = f"{params.first_solution}+{ils_label(params) if params.iterated_local_search else params.metaheuristic}"
    return label + ("-lns" if params.disabled_operators else "")


def ils_label(params: SolveParams) -> str:
    """Short name of an iterated local search: ruin, its size and the acceptance."""
    accept = "SA" if params.ils_acceptance == "SIMULATED_ANNEALING" else "greedy"
    return f"ILS({params.ruin}{params.ruin_visits},{accept})"


def search_label(search: VrptwSearch) -> str:
    """Short name of a portfolio search, for reports."""
    return params_label(search.params) + ("+regions" if search.regions else "")


def _solve_in_child(args: tuple[VrptwInstance, VrptwSearch]) -> VrptwResult:
    return solve_vrptw(*args)


def solve_vrptw_portfolio(inst: VrptwInstance, configs: list[VrptwSearch]) -> VrptwResult:
    """Run differently configured searches in parallel processes and keep the best.

    One configuration runs in this process; no pool is started for one.
    """
    if len(configs) == 1:
        return solve_vrptw(inst, configs[0])
    t0 = time.perf_counter()
    results = map_in_processes(_solve_in_child, [(inst, c) for c in configs])
    found = [r for r in results if r.objective_tenths is not None]
    if not found:
        return replace(results[0], runtime_s=time.perf_counter() - t0)
    best = min(found, key=lambda r: r.objective_tenths)
    firsts = [r.first_solution_s for r in found if r.first_solution_s is not None]
    return replace(best, runtime_s=time.perf_counter() - t0, first_solution_s=min(firsts) if firsts else None,
                   solutions=sum(r.solutions for r in results))
