"""Builders for hand-made plans and rosters, shared by the unit, solver and end-to-end tests.

Plans are built as contract dicts (``docs/CONTRACT.md``) so that tests exercise the same
loader as real files: :func:`plan_dict` assembles one from :func:`provider`,
:func:`worker`, :func:`client` and :func:`visit` records, and :func:`make_plan`
turns it into a validated :class:`~scheduler.model.Plan`. Every default location is
a real street point in central London (Fitzrovia, Marylebone, Bloomsbury), inside
``fixtures/networks/london_central_drive.osm``, so plans built here can be routed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from scheduler.io import plan_from_dict
from scheduler.model import Location, Plan, Worker
from scheduler.roster import Roster, Route, Stop, Unassigned, compute_kpis, make_route
from scheduler.timeutil import parse_hhmm

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
LONDON_OSM = FIXTURES / "networks" / "london_central_drive.osm"
CAMBRIDGE_OSM = FIXTURES / "networks" / "cambridge_drive.osm"
DATE = "2026-11-24"

#: Real points in central London, each within about 110 m of a drivable road of
#: ``london_central_drive.osm``, and no two snapping to the same node.
LONDON: dict[str, tuple[float, float]] = {
    "great_portland_st": (51.5235, -0.1440),
    "fitzroy_sq": (51.5226, -0.1397),
    "warren_st": (51.5246, -0.1384),
    "gordon_sq": (51.5245, -0.1300),
    "russell_sq": (51.5218, -0.1262),
    "goodge_st": (51.5205, -0.1347),
    "marylebone": (51.5200, -0.1500),
    "portland_pl": (51.5215, -0.1452),
    "bedford_sq": (51.5193, -0.1305),
    "euston_sq": (51.5258, -0.1357),
    "tavistock_sq": (51.5250, -0.1285),
    "park_crescent": (51.5232, -0.1460),
    "queen_sq": (51.5222, -0.1228),
    "harley_st": (51.5207, -0.1480),
    "grafton_way": (51.5232, -0.1365),
}
LONDON_NAMES = tuple(LONDON)


def loc(where: str | tuple[float, float] | Mapping[str, float] = "great_portland_st") -> dict[str, float]:
    """Return a contract location ``{"lat", "lon"}`` from a :data:`LONDON` name or a pair."""
    if isinstance(where, str):
        where = LONDON[where]
    if isinstance(where, Mapping):
        return {"lat": float(where["lat"]), "lon": float(where["lon"])}
    lat, lon = where
    return {"lat": float(lat), "lon": float(lon)}


def _window(value: tuple[str, str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(value, Mapping):
        return dict(value)
    start, end = value
    return {"start": start, "end": end}


#: Test providers take no rest breaks unless a test asks: the default rule (20 min past
#: 6 h) would otherwise apply to the 8-hour test shifts and to every hand-made roster.
NO_BREAKS = {"after_min": 24 * 60}


def provider(id: str = "care-1", kind: str = "care", *, name: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return a provider record (with no break rule unless ``break`` is given); ``extra`` keys are added as they are."""
    return {"id": id, "name": name if name is not None else id, "kind": kind, "break": NO_BREAKS, **extra}


def worker(
    id: str = "w1",
    provider_id: str = "care-1",
    *,
    shift: tuple[str, str] | Mapping[str, str] = ("08:00", "16:00"),
    start_location: str | tuple[float, float] | Mapping[str, float] = "great_portland_st",
    end_location: str | tuple[float, float] | Mapping[str, float] | None = None,
    skills: Iterable[str] = (),
    gender: str | None = "f",
    travel_mode: str = "drive",
    capacity: int | None = None,
    name: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a worker record; the end location defaults to the start location."""
    return {
        "id": id, "provider_id": provider_id, "name": name if name is not None else id,
        "skills": list(skills), "gender": gender, "shift": _window(shift),
        "start_location": loc(start_location),
        "end_location": loc(end_location if end_location is not None else start_location),
        "travel_mode": travel_mode, "capacity": capacity, **extra,
    }


def client(
    id: str = "c1",
    *,
    location: str | tuple[float, float] | Mapping[str, float] = "fitzroy_sq",
    postcode: str = "W1T 1AA",
    gender_preference: str | None = None,
    preferred_worker_ids: Iterable[str] = (),
    excluded_worker_ids: Iterable[str] = (),
    name: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a client record."""
    return {
        "id": id, "name": name if name is not None else id, "location": loc(location),
        "postcode": postcode, "gender_preference": gender_preference,
        "preferred_worker_ids": list(preferred_worker_ids),
        "excluded_worker_ids": list(excluded_worker_ids), **extra,
    }


def visit(
    id: str = "v1",
    client_id: str = "c1",
    *,
    kind: str = "care",
    window: tuple[str, str] | Mapping[str, str] = ("08:00", "10:00"),
    duration_min: int = 30,
    required_skills: Iterable[str] = (),
    workers_required: int = 1,
    priority: str = "normal",
    provider_id: str | None = None,
    demand: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """Return a visit record."""
    return {
        "id": id, "client_id": client_id, "kind": kind, "provider_id": provider_id,
        "window": _window(window), "duration_min": duration_min,
        "required_skills": list(required_skills), "workers_required": workers_required,
        "priority": priority, "demand": demand, **extra,
    }


def plan_dict(
    *,
    providers: Sequence[Mapping[str, Any]] | None = None,
    workers: Sequence[Mapping[str, Any]] | None = None,
    clients: Sequence[Mapping[str, Any]] | None = None,
    visits: Sequence[Mapping[str, Any]] | None = None,
    date: str = DATE,
    network: str | Path | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a plan in its JSON form; each list left out gets one default record.

    The defaults make a valid one-visit plan: provider ``care-1``, worker ``w1``
    (08:00-16:00, driving from Great Portland Street), client ``c1`` at Fitzroy
    Square and visit ``v1`` (08:00-10:00, 30 min).
    """
    data: dict[str, Any] = {"date": date}
    if network is not None:
        data["network"] = str(network)
    data["providers"] = [dict(r) for r in (providers if providers is not None else [provider()])]
    data["workers"] = [dict(r) for r in (workers if workers is not None else [worker()])]
    data["clients"] = [dict(r) for r in (clients if clients is not None else [client()])]
    data["visits"] = [dict(r) for r in (visits if visits is not None else [visit()])]
    data.update(extra)
    return data


def make_plan(**kw: Any) -> Plan:
    """Build a validated :class:`Plan` from :func:`plan_dict` arguments."""
    return plan_from_dict(plan_dict(**kw))


# --------------------------------------------------------------------------- rosters

def stop(
    visit_id: str,
    start: str | int,
    duration_min: int = 30,
    *,
    travel_s: int = 0,
    travel_m: int = 0,
    arrival: str | int | None = None,
    client_id: str = "",
) -> Stop:
    """Return a stop starting at ``start`` (``HH:MM`` or seconds), arriving just in time by default."""
    start_s = parse_hhmm(start) if isinstance(start, str) else int(start)
    arrival_s = start_s if arrival is None else (parse_hhmm(arrival) if isinstance(arrival, str) else int(arrival))
    return Stop(visit_id=visit_id, arrival=arrival_s, start=start_s, end=start_s + duration_min * 60,
                travel_s=travel_s, travel_m=travel_m, client_id=client_id)


def make_roster(
    plan: Plan,
    routes: Mapping[str, Sequence[Stop]] | Iterable[Route],
    unassigned: Iterable[Unassigned | tuple[str, str]] = (),
    *,
    date: Any = None,
) -> Roster:
    """Build a :class:`Roster` with totals and KPIs from stops per worker id.

    ``unassigned`` takes :class:`Unassigned` records or ``(visit_id, reason)`` pairs.
    """
    if isinstance(routes, Mapping):
        built = tuple(make_route(wid, stops) for wid, stops in routes.items())
    else:
        built = tuple(routes)
    left = tuple(u if isinstance(u, Unassigned) else Unassigned(*u) for u in unassigned)
    return Roster(date=plan.date if date is None else date, routes=built, unassigned=left,
                  kpis=compute_kpis(plan, built, left))


def checked_roster(plan: Plan, model: Any, routes: Sequence[Sequence[int]], travel: Any) -> Roster:
    """Restore ``routes`` (visit nodes per worker) into a closed ``model``; decode as a solve does.

    Visits the routes leave out get their reasons; asserts the roster obeys every
    contract rule (:func:`scheduler.validate.check_roster`) and returns it.
    """
    from scheduler.validate import check_roster
    from solver.decode import decode
    from solver.explain import explain_unassigned
    from solver.model import restore

    assignment = restore(model, routes)
    assert assignment is not None, "OR-Tools rejected the routes"
    built, left = decode(model, assignment)
    roster = make_roster(plan, built, explain_unassigned(plan, built, left, travel))
    violations = check_roster(plan, roster, travel=travel)
    assert violations == [], [str(v) for v in violations]
    return roster


# --------------------------------------------------------------------------- travel oracles

def haversine_m(a: Location, b: Location) -> float:
    """Return the great-circle distance between two locations (metres)."""
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


class FixedTravel:
    """A fake :class:`~scheduler.validate.TravelOracle`: every leg between distinct points
    takes ``seconds`` and ``metres``; staying put takes nothing."""

    def __init__(self, seconds: int = 300, metres: int = 1500) -> None:
        self.seconds = seconds
        self.metres = metres
        self.calls: list[tuple[str, Location, Location]] = []

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return (seconds, metres) of the leg."""
        self.calls.append((worker.id, origin, destination))
        if origin == destination:
            return 0, 0
        return self.seconds, self.metres


class NetworkTravel:
    """A :class:`~scheduler.validate.TravelOracle` over a real road network (one leg at a time)."""

    def __init__(self, network: Any) -> None:
        self.network = network

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return the road-network (seconds, metres) of the leg in the worker's travel mode."""
        from solver.matrix import travel_matrices

        m = travel_matrices(self.network, [origin.lat, destination.lat], [origin.lon, destination.lon],
                            worker.travel_mode)
        return int(m.time_s[0, 1]), int(m.distance_m[0, 1])


# --------------------------------------------------------------------------- hand-made OSM files

def write_osm(
    path: Path,
    nodes: Mapping[int, tuple[float, float]],
    ways: Iterable[tuple[int, Sequence[int], Mapping[str, str]]],
) -> Path:
    """Write a tiny OSM XML file: ``nodes`` maps id to (lat, lon); ``ways`` are (id, node ids, tags)."""
    from xml.sax.saxutils import quoteattr

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="homecare tests">']
    lines += [f'  <node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}"/>' for i, (lat, lon) in nodes.items()]
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- independent routing

def osmnx_graph(path: Path) -> Any:
    """Load an OSM XML file with OSMnx alone, unsimplified, with OSMnx's speeds and travel times.

    Roads with no ``maxspeed`` get :data:`solver.network.UK_SPEEDS_KPH`. Used as an
    independent check of :mod:`solver.network` and :mod:`solver.matrix`.
    """
    import osmnx as ox

    from solver.network import FALLBACK_KPH, UK_SPEEDS_KPH

    saved = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved, "motor_vehicle", "motorcar", "foot", "bicycle"]))
    try:
        G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = saved
    G = ox.add_edge_speeds(G, hwy_speeds=UK_SPEEDS_KPH, fallback=FALLBACK_KPH)
    return ox.add_edge_travel_times(G)


def car_ok(data: Mapping[str, Any]) -> bool:
    """Whether a car may use an OSMnx edge, read straight from its OSM tags."""
    def values(key: str) -> set[str]:
        value = data.get(key)
        return set(value) if isinstance(value, list) else ({value} if value else set())

    motor = values("motor_vehicle") | values("motorcar")
    if values("highway") & {"busway", "bus_guideway"} or motor & {"no", "private"}:
        return False
    return not (values("access") & {"no", "private"}) or bool(motor - {"no", "private"})


def osmnx_drive_digraph(G_multi: Any) -> Any:
    """The OSMnx graph as a NetworkX DiGraph of car-open edges, fastest parallel edge kept."""
    import networkx as nx

    G = nx.DiGraph()
    for u, v, data in G_multi.edges(data=True):
        if u == v or not car_ok(data):
            continue
        t = float(data["travel_time"])
        if not G.has_edge(u, v) or G[u][v]["time"] > t:
            G.add_edge(u, v, time=t, length=float(data["length"]))
    return G


# --------------------------------------------------------------------------- solving

def solve_checked(plan: Plan | Mapping[str, Any], network: Any, params: Any,
                  *, locked: Sequence[Any] = ()) -> tuple[Plan, Roster, Any]:
    """Solve a plan (or its dict) on a road network and assert the roster obeys every contract rule.

    Returns (plan, roster, travel), the travel being the plan's network matrices.
    """
    from scheduler.validate import check_roster
    from solver import solve, travel_for

    if not isinstance(plan, Plan):
        plan = plan_from_dict(plan)
    travel = travel_for(plan, network)
    roster = solve(plan, params=params, travel=travel, locked=locked).roster
    violations = check_roster(plan, roster, travel=travel, locked=locked)
    assert violations == [], [str(v) for v in violations]
    return plan, roster, travel
