"""Peer solvers on the same VRPTW data: PyVRP and VROOM (``pip install ".[bench]"``).

Both get exactly the integers our model gets (DIMACS arcs in tenths, windows
and service times x10), so the three objectives are directly comparable, and
all three solutions go through the same independent checker.
"""

from __future__ import annotations

import importlib.util
import time
from datetime import timedelta

import numpy as np

from solver.bench.instances import VrptwInstance
from solver.bench.vrptw import VrptwResult

#: Peer name -> Python module that provides it.
PEERS = {"pyvrp": "pyvrp", "vroom": "vroom"}


class PeerMissing(RuntimeError):
    """A peer solver was asked for but its package is not installed."""


def available(name: str) -> bool:
    """Return whether the peer's package can be imported."""
    return importlib.util.find_spec(PEERS[name]) is not None


def require(name: str) -> None:
    """Raise :class:`PeerMissing` with the install command if a peer is absent."""
    if name not in PEERS:
        raise PeerMissing(f"unknown solver {name!r}; choose from ours, {', '.join(PEERS)}")
    if not available(name):
        raise PeerMissing(f"{name} is not installed: pip install \".[bench]\" (or pip install {PEERS[name]})")


def solve_pyvrp(inst: VrptwInstance, *, time_limit_s: float, seed: int = 0) -> VrptwResult:
    """Solve with PyVRP's hybrid genetic search for ``time_limit_s`` seconds (one core)."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    t0 = time.perf_counter()
    dist, (service, ready, due) = inst.tenths(), inst.tenths_times()
    n = inst.n_customers + 1
    locations = [pyvrp.Location(x=int(round(inst.x[i] * 10)), y=int(round(inst.y[i] * 10))) for i in range(n)]
    clients = [pyvrp.Client(location=i, delivery=[int(inst.demand[i])], service_duration=int(service[i]),
                            tw_early=int(ready[i]), tw_late=int(due[i])) for i in range(1, n)]
    depot = pyvrp.Depot(location=0, tw_early=int(ready[0]), tw_late=int(due[0]))
    vehicles = pyvrp.VehicleType(num_available=inst.fleet, capacity=[inst.capacity],
                                 tw_early=int(ready[0]), tw_late=int(due[0]))
    data = pyvrp.ProblemData(locations, clients, [depot], [vehicles], [dist], [dist])
    build = time.perf_counter() - t0
    result = pyvrp.solve(data, stop=MaxRuntime(max(time_limit_s - build, 0.1)), seed=seed, display=False)
    routes = []
    if result.is_feasible():
        # A client activity's ``idx`` counts clients from 0; our customers count from 1.
        routes = [[a.idx + 1 for a in route if a.is_client()] for route in result.best.routes()]
    first = None
    elapsed = np.cumsum(result.stats.runtimes) if result.stats.runtimes else np.zeros(0)
    for at, datum in zip(elapsed, result.stats.data, strict=False):
        if datum.best_feas:
            first = build + float(at)
            break
    objective = int(result.cost()) if result.is_feasible() else None
    return VrptwResult(routes, objective, first, time.perf_counter() - t0, result.num_iterations, "pyvrp")


def solve_vroom(inst: VrptwInstance, *, time_limit_s: float, seed: int = 0, exploration_level: int = 5) -> VrptwResult:
    """Solve with VROOM (``exploration_level`` 5, its best, one thread).

    VROOM stops when its search is done or at ``time_limit_s``, whichever comes
    first. It minimises travel time, which here is the DIMACS distance.
    ``seed`` is unused (VROOM is deterministic).
    """
    import vroom

    t0 = time.perf_counter()
    dist, (service, ready, due) = inst.tenths(), inst.tenths_times()
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=dist.astype(np.uint32))
    for v in range(inst.fleet):
        problem.add_vehicle(vroom.Vehicle(id=v + 1, start=0, end=0, profile="car", capacity=[inst.capacity],
                                          time_window=vroom.TimeWindow(int(ready[0]), int(due[0]))))
    for i in range(1, inst.n_customers + 1):
        problem.add_job(vroom.Job(id=i, location=i, default_service=int(service[i]),
                                  delivery=[int(inst.demand[i])],
                                  time_windows=[vroom.TimeWindow(int(ready[i]), int(due[i]))]))
    left = max(time_limit_s - (time.perf_counter() - t0), 0.1)
    solution = problem.solve(exploration_level=exploration_level, nb_threads=1, timeout=timedelta(seconds=left))
    routes_df = solution.routes
    routes = []
    for _, group in routes_df[routes_df["type"] == "job"].groupby("vehicle_id", sort=True):
        routes.append([int(j) for j in group["id"]])
    runtime = time.perf_counter() - t0
    objective = int(solution.summary.cost) if len(routes) else None
    return VrptwResult(routes, objective, runtime, runtime, 1, "vroom")
