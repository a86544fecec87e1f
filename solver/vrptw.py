"""The classic VRPTW (Solomon, Gehring & Homberger) as an OR-Tools routing model.

This is the benchmark twin of :mod:`solver.routing`: the same OR-Tools core,
the same search parameters (:func:`solver.routing.search_parameters`), on
public instances with best-known solutions, so that the search settings we
ship can be measured against the literature and against PyVRP and VROOM.
Together with :mod:`solver.routing` and :mod:`solver.hhcrsp` it is one of the
three modules that import OR-Tools.

Convention: DIMACS (see :mod:`solver.bench.instances`). Every arc, time,
window and service duration is in tenths of the instance's unit, as integers,
so the OR-Tools objective is exactly 10 x the DIMACS distance.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from ortools.constraint_solver import pywrapcp

from solver.bench.instances import VrptwInstance
from solver.params import CLASSIC_GLS_LAMBDA, SolveParams
from solver.routing import search_parameters

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


def solve_vrptw(inst: VrptwInstance, params: SolveParams | None = None) -> VrptwResult:
    """Solve one VRPTW instance with one search configuration.

    Parameters
    ----------
    inst
        The instance.
    params
        Search settings (first solution, metaheuristic, operators, ILS, time
        limit); the home-care fields (penalties, continuity) are not used.

    Returns
    -------
    VrptwResult
        The best routes (empty list if no solution was found).
    """
    params = params or SolveParams(first_solution="AUTOMATIC", gls_lambda=CLASSIC_GLS_LAMBDA)
    t0 = time.perf_counter()
    n = inst.n_customers + 1
    dist = inst.tenths()
    service, ready, due = inst.tenths_times()
    manager = pywrapcp.RoutingIndexManager(n, inst.fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(dist.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    # Time to go from i to j = service at i + travel: one matrix, evaluated in C++.
    time_cb = routing.RegisterTransitMatrix((dist + service[:, None]).tolist())
    horizon = int(due[0])
    routing.AddDimension(time_cb, horizon, horizon, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(ready[node]), int(due[node]))
    for v in range(inst.fleet):
        time_dim.CumulVar(routing.Start(v)).SetRange(int(ready[0]), int(due[0]))
        time_dim.CumulVar(routing.End(v)).SetRange(int(ready[0]), int(due[0]))
    demand_cb = routing.RegisterUnaryTransitVector([int(q) for q in inst.demand])
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * inst.fleet, True, "Load")

    first: list[float] = []
    count = [0]

    def on_solution() -> None:
        count[0] += 1
        if not first:
            first.append(time.perf_counter() - t0)

    routing.AddAtSolutionCallback(on_solution)
    left = params.time_limit_s - (time.perf_counter() - t0)
    assignment = routing.SolveWithParameters(search_parameters(params, time_limit_s=max(left, 0.1)))
    runtime = time.perf_counter() - t0
    routes: list[list[int]] = []
    if assignment is not None:
        for v in range(inst.fleet):
            idx = assignment.Value(routing.NextVar(routing.Start(v)))
            route = []
            while not routing.IsEnd(idx):
                route.append(manager.IndexToNode(idx))
                idx = assignment.Value(routing.NextVar(idx))
            if route:
                routes.append(route)
    objective = assignment.ObjectiveValue() if assignment is not None else None
    return VrptwResult(routes, objective, first[0] if first else None, runtime, count[0], params_label(params))


#: Insertion-based LNS operators that only pay off when visits may be left out
#: or inserted late; on the classic VRPTW every customer is served.
INSERTION_LNS = (
    "use_global_cheapest_insertion_path_lns", "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed", "use_lin_kernighan",
)


def portfolio(time_limit_s: float, *, workers: int = 2, seed: int = 0) -> list[SolveParams]:
    """The search configurations ``ours`` runs, one per worker process (best kept).

    Chosen by measurement on Solomon (``benchmarks/RESULTS.md``): guided local
    search from parallel cheapest insertion without the insertion LNS operators,
    and, on a second core, the OR-Tools defaults from local cheapest insertion
    for diversity.
    """
    base = SolveParams(time_limit_s=time_limit_s, seed=seed, first_solution="PARALLEL_CHEAPEST_INSERTION",
                       extra_operators=(), disabled_operators=INSERTION_LNS, gls_lambda=CLASSIC_GLS_LAMBDA)
    second = base.replace(first_solution="LOCAL_CHEAPEST_INSERTION", disabled_operators=())
    return [base, second][: max(1, workers)]


def params_label(params: SolveParams) -> str:
    """Short name of a search configuration, for reports."""
    label = f"{params.first_solution}+{'ILS' if params.iterated_local_search else params.metaheuristic}"
    return label + ("-lns" if params.disabled_operators else "")


def _solve_in_child(args: tuple[VrptwInstance, SolveParams]) -> VrptwResult:
    return solve_vrptw(*args)


def solve_vrptw_portfolio(inst: VrptwInstance, configs: list[SolveParams]) -> VrptwResult:
    """Run differently configured searches in parallel processes and keep the best.

    One configuration runs in this process; no pool is started for one.
    """
    if len(configs) == 1:
        return solve_vrptw(inst, configs[0])
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=len(configs), mp_context=ctx) as pool:
        results = list(pool.map(_solve_in_child, [(inst, c) for c in configs]))
    found = [r for r in results if r.objective_tenths is not None]
    if not found:
        return replace(results[0], runtime_s=time.perf_counter() - t0)
    best = min(found, key=lambda r: r.objective_tenths)
    firsts = [r.first_solution_s for r in found if r.first_solution_s is not None]
    return replace(best, runtime_s=time.perf_counter() - t0, first_solution_s=min(firsts) if firsts else None,
                   solutions=sum(r.solutions for r in results))
