"""Road geometry of a roster: each leg as a line over the roads, and the road network as lines.

:func:`route_paths` follows each leg of each worker's day (home, stop 1, …, end)
over the same road graph and the same snapping the solver used
(:meth:`solver.network.RoadNetwork.mode` and :meth:`~solver.network.RoadNetwork.snap`),
so a leg's line is the fastest route whose time and distance the roster's
``travel_s`` and ``travel_m`` give. Shortest paths come from one compiled
:func:`scipy.sparse.csgraph.dijkstra` call per travel mode, from the distinct
origins of the roster's legs only, whose predecessor trees are walked back.

:func:`network_lines` returns the roads as line segments for drawing a base map.

Points are ``(lon, lat)`` pairs in degrees (x before y, as in GeoJSON). Lines join
road junctions with straight segments: the network keeps no curve geometry
between junctions. Map data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csgraph

from scheduler.errors import NetworkError, Problem, UnknownReferenceError
from scheduler.model import Location, Plan
from scheduler.roster import Roster

if TYPE_CHECKING:
    from solver.network import RoadNetwork

__all__ = ["Leg", "network_lines", "route_legs", "route_paths"]

#: A polyline: ``(lon, lat)`` points in degrees.
Polyline = list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of a worker's day as a path over the road network.

    ``nodes`` index :attr:`RoadNetwork.lat`/``lon``: the origin's snapped node
    first and the destination's last (twice the same node when both ends snap to
    it). ``length_m`` and ``time_s`` are the path's length (metres) and travel
    time (seconds) summed over its edges in the worker's travel mode.
    """

    worker_id: str
    origin: str
    destination: str
    nodes: np.ndarray
    length_m: float
    time_s: float


def _load(plan: Plan, network: str | Path | RoadNetwork | None, cache_dir: Path | None
          ) -> RoadNetwork:
    from solver import network_for

    return network_for(plan, network, cache_dir=cache_dir)


def _stops_of(plan: Plan, roster: Roster) -> dict[str, list[tuple[str, Location]]]:
    """Return, per worker with a route, the named places of its day: start, stops, end.

    Raises
    ------
    UnknownReferenceError
        If the roster names workers or visits the plan does not have (every one listed).
    """
    problems = []
    places: dict[str, list[tuple[str, Location]]] = {}
    for route in roster.routes:
        if not plan.has_worker(route.worker_id):
            problems.append(Problem(
                "worker", route.worker_id, None,
                f"the roster routes worker {route.worker_id!r}, who is not in the plan"))
            continue
        worker = plan.worker(route.worker_id)
        day = [("start", worker.start_location)]
        for stop in route.stops:
            if not plan.has_visit(stop.visit_id):
                problems.append(Problem(
                    "visit", stop.visit_id, None,
                    f"worker {route.worker_id!r} visits {stop.visit_id!r}, not in the plan"))
                continue
            day.append((stop.visit_id, plan.visit_location(plan.visit(stop.visit_id))))
        places[route.worker_id] = day + [("end", worker.end_location)] if route.stops else []
    if problems:
        raise UnknownReferenceError(problems)
    return places


def _edge_weights(matrix, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:  # noqa: ANN001 - CSR matrix
    """Return ``matrix[tails[i], heads[i]]`` for every i, from the CSR arrays (0 where no edge)."""
    if len(tails) == 0:
        return np.zeros(0)
    return np.asarray(matrix[tails, heads]).ravel()


def route_legs(
    plan: Plan,
    roster: Roster,
    *,
    network: str | Path | RoadNetwork | None = None,
    cache_dir: Path | None = None,
) -> dict[str, list[Leg]]:
    """Return every leg of every worker's day as a path of road-network nodes.

    Parameters
    ----------
    plan
        The plan the roster serves.
    roster
        The roster.
    network
        A loaded network, or a file, instead of the plan's own (as for :func:`solver.solve`).
    cache_dir
        Network cache folder, or ``None``.

    Returns
    -------
    dict of str to list of Leg
        Per worker id of the roster's routes, in roster order: ``len(stops) + 1``
        legs (from the start location to the first stop, between stops, and from
        the last stop to the end location), or none for a route with no stops.

    Raises
    ------
    UnknownReferenceError
        If the roster names workers or visits the plan does not have.
    NetworkError
        If the network cannot be loaded, or two snapped nodes have no route between them.
    """
    places = _stops_of(plan, roster)
    road = _load(plan, network, cache_dir)
    legs: dict[str, list[Leg]] = {wid: [] for wid in places}
    by_mode: dict[str, list[str]] = {}
    for wid, day in places.items():
        if day:
            by_mode.setdefault(plan.worker(wid).travel_mode, []).append(wid)
    for mode, workers in by_mode.items():
        graph = road.mode(mode)
        points = [loc for wid in workers for _, loc in places[wid]]
        snapped = road.snap([p.lat for p in points], [p.lon for p in points], mode).node
        ends: list[tuple[str, int, int]] = []
        k = 0
        for wid in workers:
            n = len(places[wid])
            ends += [(wid, int(snapped[k + i]), int(snapped[k + i + 1])) for i in range(n - 1)]
            k += n
        sources = np.unique([a for _, a, _ in ends])
        _, pred = csgraph.dijkstra(graph.time_s, directed=True, indices=sources,
                                   return_predecessors=True)
        row = {int(s): i for i, s in enumerate(sources)}
        paths = [_walk_back(pred[row[a]], a, b, road.name, mode) for _, a, b in ends]
        # Edge lengths and times along every path at once, from the mode's CSR matrices.
        tails = np.concatenate([p[:-1] for p in paths])
        heads = np.concatenate([p[1:] for p in paths])
        cuts = np.cumsum([len(p) - 1 for p in paths])[:-1]
        metres = np.split(_edge_weights(graph.length_m, tails, heads), cuts)
        seconds = np.split(_edge_weights(graph.time_s, tails, heads), cuts)
        names = {wid: [name for name, _ in places[wid]] for wid in workers}
        seen: dict[str, int] = {}
        for (wid, _, _), path, m, s in zip(ends, paths, metres, seconds, strict=True):
            i = seen[wid] = seen.get(wid, -1) + 1
            legs[wid].append(Leg(wid, names[wid][i], names[wid][i + 1], path,
                                 float(m.sum()), float(s.sum())))
    return legs


def _walk_back(pred: np.ndarray, source: int, target: int, network_name: str, mode: str
               ) -> np.ndarray:
    """Return the nodes of the shortest path from ``source`` to ``target`` in a predecessor row."""
    if source == target:
        return np.array([source, source])
    path = [target]
    while path[-1] != source:
        parent = int(pred[path[-1]])
        if parent < 0:
            raise NetworkError(f"network {network_name}: no {mode} route between snapped nodes "
                               f"{source} and {target}")
        path.append(parent)
    return np.array(path[::-1])


def route_paths(
    plan: Plan,
    roster: Roster,
    *,
    network: str | Path | RoadNetwork | None = None,
    cache_dir: Path | None = None,
) -> dict[str, list[Polyline]]:
    """Return each worker's legs as lines over the roads, for drawing.

    Parameters
    ----------
    plan
        The plan the roster serves.
    roster
        The roster.
    network
        A loaded network, or a file, instead of the plan's own.
    cache_dir
        Network cache folder, or ``None``.

    Returns
    -------
    dict of str to list of list of (float, float)
        Per worker id of the roster's routes: one polyline per leg (start
        location to the first stop, …, last stop to the end location), each a
        list of ``(lon, lat)`` road junctions (degrees) from the origin's snapped
        node to the destination's; a leg whose ends snap to one node is a
        two-point line on that node. A route with no stops has no legs.

    Raises
    ------
    UnknownReferenceError
        If the roster names workers or visits the plan does not have.
    NetworkError
        If the network cannot be loaded.
    """
    road = _load(plan, network, cache_dir)
    legs = route_legs(plan, roster, network=road)
    lon, lat = road.lon, road.lat
    return {wid: [list(zip(lon[leg.nodes].tolist(), lat[leg.nodes].tolist(), strict=True))
                  for leg in day]
            for wid, day in legs.items()}


def network_lines(
    network: RoadNetwork | Plan,
    *,
    bbox: Sequence[float] | None = None,
    mode: str | None = None,
    cache_dir: Path | None = None,
) -> np.ndarray:
    """Return the roads of a network as line segments, for drawing a base map.

    Each road between two junctions appears once, whatever its directions. The
    result depends only on ``network.digest``, ``mode`` and ``bbox``, so callers
    may cache it under those.

    Parameters
    ----------
    network
        A loaded network, or a plan whose network to load.
    bbox
        ``(west, south, east, north)`` in degrees (OSMnx's order): keep the
        segments whose own bounding box meets it. ``None`` keeps all.
    mode
        Keep only roads open to ``drive``, ``walk`` or ``cycle``; ``None`` keeps
        every road of the network file.
    cache_dir
        Network cache folder when ``network`` is a plan.

    Returns
    -------
    numpy.ndarray
        ``(n, 2, 2)`` floats: segment, end, ``(lon, lat)`` (degrees), ready for
        :class:`matplotlib.collections.LineCollection`.

    Raises
    ------
    NetworkError
        If ``mode`` is unknown, or a plan's network cannot be loaded.
    ValueError
        If ``bbox`` is not four numbers with west <= east and south <= north.
    """
    road = _load(network, None, cache_dir) if isinstance(network, Plan) else network
    keep = {None: None, "drive": road.car_ok, "walk": road.foot_ok, "cycle": road.bike_ok}
    if mode not in keep:
        raise NetworkError(f"unknown travel mode {mode!r}; use drive, walk or cycle")
    u, v = road.u, road.v
    if keep[mode] is not None:
        u, v = u[keep[mode]], v[keep[mode]]
    pairs = np.unique(np.column_stack([np.minimum(u, v), np.maximum(u, v)]), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    lon, lat = road.lon[pairs], road.lat[pairs]
    if bbox is not None:
        west, south, east, north = (float(b) for b in bbox)
        if not (west <= east and south <= north):
            raise ValueError("`bbox` must be (west, south, east, north) with west <= east and "
                             f"south <= north, got {tuple(bbox)}")
        inside = ((lon.min(axis=1) <= east) & (lon.max(axis=1) >= west)
                  & (lat.min(axis=1) <= north) & (lat.max(axis=1) >= south))
        lon, lat = lon[inside], lat[inside]
    return np.stack([lon, lat], axis=-1)
