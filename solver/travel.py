"""Travel between every location of a plan, per travel mode, from one road network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from scheduler.errors import NetworkError, PlanError, Problem
from scheduler.model import Location, Plan, Worker
from solver.matrix import TravelMatrix, travel_matrices
from solver.network import RoadNetwork, check_snaps


class PlanTravel:
    """Road travel between a plan's locations (clients' homes, workers' start and end points).

    Implements :class:`scheduler.validate.TravelOracle`, so it can check rosters.

    Parameters
    ----------
    locations
        The unique locations; matrix row ``i`` is ``locations[i]``.
    matrices
        One :class:`TravelMatrix` per travel mode used.
    network_name
        For messages.
    """

    def __init__(self, locations: list[Location], matrices: dict[str, TravelMatrix], network_name: str,
                 users: list[list[tuple[str, str, str, str | None]]] | None = None):
        self.locations = locations
        self.matrices = matrices
        self.network_name = network_name
        self.users = users or [[] for _ in locations]
        self._index = {(loc.lat, loc.lon): i for i, loc in enumerate(locations)}

    def snap_report(self) -> dict[str, float | str]:
        """Summarise how far locations lie from the road network, per the worst mode.

        Returns
        -------
        dict
            ``max_m`` and ``mean_m`` (metres) and ``worst``, the record of the farthest location.
        """
        if not self.locations or not self.matrices:
            return {"max_m": 0.0, "mean_m": 0.0, "worst": ""}
        distance = np.max([m.snap.distance_m for m in self.matrices.values()], axis=0)
        i = int(np.argmax(distance))
        worst = self.users[i][0] if self.users[i] else ("location", str(i), "")
        return {"max_m": round(float(distance[i]), 1), "mean_m": round(float(distance.mean()), 1),
                "worst": f"{worst[0]} {worst[1]!r} {worst[2]}".strip()}

    def index(self, location: Location) -> int:
        """Return the matrix row of a location.

        Raises
        ------
        KeyError
            If the location is not one of the plan's.
        """
        return self._index[(location.lat, location.lon)]

    def matrix(self, mode: str) -> TravelMatrix:
        """Return the matrices of a travel mode.

        Raises
        ------
        NetworkError
            If no worker of the plan uses that mode.
        """
        try:
            return self.matrices[mode]
        except KeyError:
            raise NetworkError(f"no {mode} travel was computed for this plan") from None

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return travel time (seconds) and distance (metres) for a worker's mode."""
        m = self.matrix(worker.travel_mode)
        i, j = self.index(origin), self.index(destination)
        return int(m.time_s[i, j]), int(m.distance_m[i, j])


def plan_locations(plan: Plan) -> tuple[list[Location], list[list[tuple[str, str, str, str | None]]]]:
    """Return a plan's unique locations and, per location, who uses it.

    Each user is (record kind, record id, field, travel mode), the mode being
    ``None`` for a client (every mode goes there) and the worker's own mode for
    a worker's start or end.
    """
    seen: dict[tuple[float, float], int] = {}
    locations: list[Location] = []
    users: list[list[tuple[str, str, str, str | None]]] = []

    def add(location: Location, user: tuple[str, str, str, str | None]) -> None:
        key = (location.lat, location.lon)
        if key not in seen:
            seen[key] = len(locations)
            locations.append(location)
            users.append([])
        users[seen[key]].append(user)

    for c in plan.clients:
        add(c.location, ("client", c.id, "location", None))
    for w in plan.workers:
        add(w.start_location, ("worker", w.id, "start_location", w.travel_mode))
        add(w.end_location, ("worker", w.id, "end_location", w.travel_mode))
    return locations, users


def plan_travel(
    plan: Plan,
    network: RoadNetwork,
    *,
    cache_dir: Path | None = None,
    snap_limit_m: float = 1000.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> PlanTravel:
    """Compute travel between all of a plan's locations for every travel mode its workers use.

    Parameters
    ----------
    plan
        The plan.
    network
        The road network covering the plan's area.
    cache_dir
        Matrix cache folder, or ``None``.
    snap_limit_m
        Largest allowed distance from a location to the road network (metres).
    progress
        Called with (mode, done, total) while matrices are computed.

    Returns
    -------
    PlanTravel
        Travel per mode.

    Raises
    ------
    PlanError
        If a location is more than ``snap_limit_m`` from the roads of a mode that must reach it.
    """
    locations, users = plan_locations(plan)
    lat = np.array([loc.lat for loc in locations])
    lon = np.array([loc.lon for loc in locations])
    matrices = {}
    problems: list[Problem] = []
    modes = sorted({w.travel_mode for w in plan.workers}) or ["drive"]
    for mode in modes:
        report = (lambda done, total, m=mode: progress(m, done, total)) if progress else None
        matrix = travel_matrices(network, lat, lon, mode, cache_dir=cache_dir, progress=report)
        # A location must be near a road of every mode that goes there: clients' homes for
        # every mode, a worker's start and end for that worker's mode.
        relevant, records = [], []
        for i, located in enumerate(users):
            here = [u for u in located if u[3] is None or u[3] == mode]
            if here:
                relevant.append(i)
                records.append(here[0][:3])
        sub = type(matrix.snap)(matrix.snap.node[relevant], matrix.snap.distance_m[relevant])
        try:
            check_snaps(sub, records, limit_m=snap_limit_m, network_name=network.name, mode=mode)
        except PlanError as exc:
            problems += exc.problems
        matrices[mode] = matrix
    if problems:
        raise PlanError(problems)
    return PlanTravel(locations, matrices, network.name, users)
