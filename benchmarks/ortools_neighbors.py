"""Reproduce OR-Tools' neighbour-restricted ``Relocate`` on a plain VRPTW.

A self-contained model in OR-Tools' own style (our Solomon reader, none of our model): one
integer matrix (tenths, DIMACS) for cost and time, a Time and a Load dimension,
a disjunction per customer so a first solution always exists,
``PATH_CHEAPEST_ARC`` then greedy descent. Prints OR-Tools' local-search profile
for the full neighbourhood and for ``ls_operator_neighbors_ratio``, the start of
an upstream report (``benchmarks/RESULTS.md``, fifth round). Run from the
repository root::

    python benchmarks/ortools_neighbors.py DATA/solomon/instances/R101.txt [--ratio 0.1]
        [--seconds 10] [--allowed]

``--allowed`` restricts each customer to half the vehicles, drawn at random
(``VehicleVar(i).SetValues``), as eligibility restricts visits in our model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from solver.bench.instances import read_solomon

#: Cost of leaving a customer out: far above any route, so only a first solution uses it.
DROP_PENALTY = 1_000_000


def solve_once(path: Path, ratio: float, seconds: float, allowed: bool) -> tuple[int | None, str]:
    """Solve the instance once and return the objective and OR-Tools' local-search profile."""
    inst = read_solomon(path)
    tenths = inst.tenths()
    service, ready, due = inst.tenths_times()
    n = len(inst.x)
    manager = pywrapcp.RoutingIndexManager(n, inst.fleet, 0)
    model_params = pywrapcp.DefaultRoutingModelParameters()
    model_params.solver_parameters.profile_local_search = True
    routing = pywrapcp.RoutingModel(manager, model_params)
    cost = routing.RegisterTransitMatrix(tenths.tolist())
    time = routing.RegisterTransitMatrix((tenths + service[:, None]).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost)
    horizon = int(due[0])
    routing.AddDimension(time, horizon, horizon, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    rng = np.random.default_rng(0)
    for i in range(1, n):
        index = manager.NodeToIndex(i)
        time_dim.CumulVar(index).SetRange(int(ready[i]), int(due[i]))
        routing.AddDisjunction([index], DROP_PENALTY)
        if allowed:
            vehicles = rng.choice(inst.fleet, inst.fleet // 2, replace=False)
            routing.VehicleVar(index).SetValues([-1, *sorted(int(k) for k in vehicles)])
    demand = routing.RegisterUnaryTransitVector([int(q) for q in inst.demand])
    routing.AddDimensionWithVehicleCapacity(demand, 0, [inst.capacity] * inst.fleet, True, "Load")
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    search.ls_operator_neighbors_ratio = ratio
    search.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = routing.SolveWithParameters(search)
    objective = solution.ObjectiveValue() if solution is not None else None
    return objective, routing.solver().LocalSearchProfile()


def main() -> None:
    """Solve with the full neighbourhood and with the restricted one; print both profiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path, help="a Solomon instance file")
    parser.add_argument("--ratio", type=float, default=0.1,
                        help="ls_operator_neighbors_ratio to compare with 1")
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit of each solve")
    parser.add_argument("--allowed", action="store_true",
                        help="allow each customer on half the vehicles")
    args = parser.parse_args()
    if not args.instance.is_file():
        parser.error(f"no such instance file: {args.instance}")
    if not 0 < args.ratio <= 1:
        parser.error(f"--ratio must be in (0, 1], got {args.ratio}")
    for ratio in (1.0, args.ratio):
        objective, profile = solve_once(args.instance, ratio, args.seconds, args.allowed)
        print(f"## {args.instance.name}, ls_operator_neighbors_ratio {ratio:g}, {args.seconds:g} s"
              f"{', allowed vehicles' if args.allowed else ''}: objective {objective}")
        print(profile)


if __name__ == "__main__":
    main()
