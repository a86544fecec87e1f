"""The roster: each worker's stops for the day, the unassigned visits and KPIs.

Times are ``int`` seconds since midnight; the JSON form (``CONTRACT.md``) shows
them as ``HH:MM``. Stops start on whole minutes.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from scheduler.model import Plan


@dataclass(frozen=True, slots=True)
class Stop:
    """A worker's visit: when they arrive, start and finish, and the leg that led there.

    ``travel_s`` and ``travel_m`` are the road-network time (seconds) and distance
    (metres) from the previous stop, or from the worker's start location for the
    first stop, in the worker's travel mode.
    """

    visit_id: str
    arrival: int
    start: int
    end: int
    travel_s: int
    travel_m: int
    client_id: str = ""

    @property
    def wait_s(self) -> int:
        """Time spent waiting between arrival and start (seconds)."""
        return self.start - self.arrival


@dataclass(frozen=True, slots=True)
class Break:
    """A rest break in a worker's day (seconds since midnight); shown in JSON as a stop of kind ``break``."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Route:
    """One worker's day.

    ``departure`` is when the worker leaves the start location and
    ``return_arrival`` when they reach the end location after the last stop;
    ``travel_s``/``travel_m`` include the legs from and back to home
    (``end_travel_s``/``end_travel_m`` is the last one). ``work_s`` is the time
    from the first stop's arrival to the last stop's end: visits, the travel
    between them and the waiting in between; ``idle_s`` is the waiting part.
    """

    worker_id: str
    stops: tuple[Stop, ...]
    travel_s: int
    travel_m: int
    work_s: int
    service_s: int = 0
    idle_s: int = 0
    departure: int | None = None
    return_arrival: int | None = None
    end_travel_s: int = 0
    end_travel_m: int = 0
    breaks: tuple[Break, ...] = ()


@dataclass(frozen=True, slots=True)
class LockedStop:
    """A stop that re-optimising must keep exactly: same visit, worker and start (seconds)."""

    visit_id: str
    worker_id: str
    start: int


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A visit that no worker got, and why, in words a coordinator can act on."""

    visit_id: str
    reason: str
    code: str = "unassigned"


@dataclass(frozen=True, slots=True)
class Kpis:
    """Headline figures of a roster.

    ``assigned`` counts visits fully served (both workers for double-handed
    visits); ``travel_share`` is the travel between visits over that travel plus
    the time spent on visits (0 when nobody works): the share of paid contact
    and travel time lost to the road, leaving out commutes from home and the
    unpaid gaps of split shifts.
    """

    visits: int
    assigned: int
    unassigned: int
    mandatory_unassigned: int
    workers: int
    workers_used: int
    travel_s: int
    travel_m: int
    service_s: int
    work_s: int
    idle_s: int
    travel_share: float
    visits_per_worker: float
    continuity: float | None = None
    distinct_workers_per_client: float = 0.0
    workload_spread_min: float = 0.0
    workload_std_min: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the KPIs as a flat dict (``extra`` merged in)."""
        data = asdict(self)
        extra = data.pop("extra")
        data.update(extra)
        return data


@dataclass(frozen=True, slots=True)
class Roster:
    """A roster for one plan's day.

    ``meta`` holds how it was made (solver status, objective, time limit,
    network and its attribution) and is written out as-is.
    """

    date: dt.date
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpis: Kpis
    meta: Mapping[str, Any] = field(default_factory=dict)

    def route(self, worker_id: str) -> Route | None:
        """Return this worker's route, or ``None`` if the roster has none."""
        return next((r for r in self.routes if r.worker_id == worker_id), None)

    def summary(self) -> str:
        """Return a one-line summary: visits assigned, travel and its share."""
        k = self.kpis
        return (
            f"{k.assigned}/{k.visits} visits assigned ({k.mandatory_unassigned} mandatory unassigned), "
            f"{k.workers_used}/{k.workers} workers used, travel {k.travel_s / 3600:.1f} h "
            f"({k.travel_share:.0%} of visit and travel time)"
        )


def make_route(
    worker_id: str,
    stops: Iterable[Stop],
    *,
    departure: int | None = None,
    end_travel_s: int = 0,
    end_travel_m: int = 0,
    breaks: Iterable[Break] = (),
) -> Route:
    """Build a :class:`Route` and its totals from its stops.

    Parameters
    ----------
    worker_id
        The worker whose day it is.
    stops
        The stops in order.
    departure
        When the worker leaves the start location (seconds); by default just in
        time for the first stop's arrival.
    end_travel_s, end_travel_m
        The leg from the last stop to the end location (seconds, metres).
    breaks
        Rest breaks taken during the day.

    Returns
    -------
    Route
        The route with ``travel_s``, ``travel_m``, ``work_s``, ``service_s`` and ``idle_s``.
    """
    stops = tuple(stops)
    breaks = tuple(sorted(breaks, key=lambda b: b.start))
    if not stops:
        return Route(worker_id=worker_id, stops=(), travel_s=0, travel_m=0, work_s=0, breaks=breaks)
    service_s = sum(s.end - s.start for s in stops)
    idle_s = sum(s.wait_s for s in stops)
    if departure is None:
        departure = stops[0].arrival - stops[0].travel_s
    return Route(
        worker_id=worker_id,
        stops=stops,
        travel_s=sum(s.travel_s for s in stops) + end_travel_s,
        travel_m=sum(s.travel_m for s in stops) + end_travel_m,
        work_s=stops[-1].end - stops[0].arrival,
        service_s=service_s,
        idle_s=idle_s,
        departure=departure,
        return_arrival=stops[-1].end + end_travel_s,
        end_travel_s=end_travel_s,
        end_travel_m=end_travel_m,
        breaks=breaks,
    )


def compute_kpis(
    plan: Plan, routes: Iterable[Route], unassigned: Iterable[Unassigned], **extra: Any
) -> Kpis:
    """Compute a roster's KPIs from its routes and unassigned visits.

    Parameters
    ----------
    plan
        The plan the roster serves.
    routes
        Every worker's route.
    unassigned
        The visits left unassigned.
    **extra
        Further KPIs to carry along (for example solver figures).

    Returns
    -------
    Kpis
        The headline figures.
    """
    routes = tuple(routes)
    unassigned = tuple(unassigned)
    served: dict[str, int] = {}
    for route in routes:
        for stop in route.stops:
            served[stop.visit_id] = served.get(stop.visit_id, 0) + 1
    assigned = sum(
        1 for v in plan.visits if served.get(v.id, 0) >= v.workers_required
    )
    unassigned_ids = {u.visit_id for u in unassigned}
    mandatory_unassigned = sum(
        1 for v in plan.visits if v.id in unassigned_ids and v.priority == "mandatory"
    )
    travel_s = sum(r.travel_s for r in routes)
    between_travel_s = sum(s.travel_s for r in routes for s in r.stops[1:])
    service_s = sum(r.service_s for r in routes)
    work_s = sum(r.work_s for r in routes)
    idle_s = sum(r.idle_s for r in routes)
    used = sum(1 for r in routes if r.stops)
    places = [(plan.visit(s.visit_id).client_id, r.worker_id) for r in routes for s in r.stops
              if plan.has_visit(s.visit_id)]
    continuity = (round(sum(plan.familiar(c, w) for c, w in places) / len(places), 4)
                  if plan.history and places else None)
    seen: dict[str, set[str]] = {}
    for c, w in places:
        seen.setdefault(c, set()).add(w)
    distinct = round(sum(len(ws) for ws in seen.values()) / len(seen), 3) if seen else 0.0
    load = {r.worker_id: (r.service_s + sum(s.travel_s for s in r.stops[1:])) / 60 for r in routes}
    by_provider: dict[str, list[float]] = {}
    for w in plan.workers:
        by_provider.setdefault(w.provider_id, []).append(load.get(w.id, 0.0))
    spreads = [max(v) - min(v) for v in by_provider.values()]
    stds = [statistics.pstdev(v) for v in by_provider.values()]
    return Kpis(
        visits=len(plan.visits),
        assigned=assigned,
        unassigned=len(unassigned),
        mandatory_unassigned=mandatory_unassigned,
        workers=len(plan.workers),
        workers_used=used,
        travel_s=travel_s,
        travel_m=sum(r.travel_m for r in routes),
        service_s=service_s,
        work_s=work_s,
        idle_s=idle_s,
        travel_share=round(between_travel_s / (between_travel_s + service_s), 4) if service_s else 0.0,
        visits_per_worker=round(sum(len(r.stops) for r in routes) / used, 2) if used else 0.0,
        continuity=continuity,
        distinct_workers_per_client=distinct,
        workload_spread_min=round(max(spreads), 1) if spreads else 0.0,
        workload_std_min=round(sum(stds) / len(stds), 1) if stds else 0.0,
        extra=dict(extra),
    )


def locks_from_roster(
    roster: Roster,
    *,
    before: int | None = None,
    visit_ids: Iterable[str] | None = None,
    worker_ids: Iterable[str] | None = None,
) -> tuple[LockedStop, ...]:
    """Choose stops of an existing roster to keep when re-optimising.

    A stop is kept if it starts before ``before`` (done or under way), or is one
    of ``visit_ids`` (published), or belongs to one of ``worker_ids``.

    Parameters
    ----------
    roster
        The roster in force.
    before
        Keep stops starting before this time (seconds since midnight).
    visit_ids
        Keep the stops of these visits.
    worker_ids
        Keep every stop of these workers.

    Returns
    -------
    tuple of LockedStop
        The stops to keep, in roster order.
    """
    visits = set(visit_ids or ())
    workers = set(worker_ids or ())
    return tuple(
        LockedStop(s.visit_id, r.worker_id, s.start)
        for r in roster.routes for s in r.stops
        if (before is not None and s.start < before) or s.visit_id in visits or r.worker_id in workers
    )
