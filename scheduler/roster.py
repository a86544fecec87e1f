"""The roster: each worker's stops for the day, the unassigned visits and KPIs.

Times are ``int`` seconds since midnight; the JSON form (``docs/CONTRACT.md``) shows
them as ``HH:MM``. Stops start on whole minutes.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from scheduler.errors import PlanError, Problem
from scheduler.model import Plan, Worker
from scheduler.shifts import free_time
from scheduler.timeutil import parse_hhmm


#: A wait between two visits at least this long (seconds) is the worker's own
#: time, shown as ``off_s`` rather than ``idle_s`` (as the pay check counts it).
OFF_AFTER_S = 3600


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
    #: When the worker leaves the previous place (or home) for this stop: as late as
    #: the stop's start allows, so that any waiting happens before leaving.
    departure: int | None = None
    #: Waiting before ``departure`` since the previous stop ended (seconds), rest
    #: breaks and availability gaps left out; a wait of :data:`OFF_AFTER_S` or more
    #: is the worker's own time and counted in ``off_s`` instead.
    idle_s: int = 0
    off_s: int = 0
    #: Kept exactly from the roster in force when re-optimising (same worker and start).
    locked: bool = False

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
    between them and the waiting in between; ``idle_s`` is the waiting part
    (rest breaks and availability gaps left out), of which ``off_s`` is the
    waits of :data:`OFF_AFTER_S` or more (the worker's own time).
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
    off_s: int = 0
    #: Stops and breaks in the order a roster file listed them (read rosters only).
    listed: tuple[Stop | Break, ...] = field(default=(), compare=False, repr=False)

    def entries(self) -> list[Stop | Break]:
        """Return the stops and rest breaks as listed, or in the order they happen (by start; a break first at a tie)."""
        if self.listed:
            return list(self.listed)
        rows: list[Stop | Break] = [*self.stops, *self.breaks]
        return sorted(rows, key=lambda e: (e.start, isinstance(e, Stop)))


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
    #: Re-optimised at this time (seconds since midnight): nothing new starts before it.
    locked_before: int | None = None

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
    gaps: Iterable[tuple[int, int]] = (),
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
    gaps
        The worker's gaps between availability intervals, as ``(start, end)`` seconds: like
        rest breaks, time in them is not waiting, at the door (a visit at the start of a
        stint, reached before the gap) or elsewhere.

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
    held = sorted([(b.start, b.end) for b in breaks] + list(gaps))
    idle_s = sum(free_time(s.arrival, s.start, held) + s.idle_s + s.off_s for s in stops)
    if departure is None:
        departure = stops[0].departure if stops[0].departure is not None else stops[0].arrival - stops[0].travel_s
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
        off_s=sum(s.off_s for s in stops),
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


def _time_field(value: Any, kind: str, rid: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_hhmm(value)
    except (TypeError, ValueError) as exc:
        raise PlanError([Problem(kind, rid, name, f"{name} {value!r} is not a time HH:MM ({exc})")]) from None


def plan_locked_before(plan: Plan) -> int | None:
    """Return the plan's re-planning time (its optional ``locked_before`` field, seconds), or ``None``.

    Raises
    ------
    PlanError
        If the field is not a time ``HH:MM``.
    """
    return _time_field(plan.extra.get("locked_before"), "plan", None, "locked_before")


def worker_off_from(worker: Worker) -> int | None:
    """Return when a worker went off (their optional ``off_from`` field, seconds), or ``None``.

    A worker off from a time keeps the stops they started before it and takes
    nothing that could start at or after it (a carer gone home sick at 09:00).

    Raises
    ------
    PlanError
        If the field is not a time ``HH:MM``.
    """
    return _time_field(worker.extra.get("off_from"), "worker", worker.id, "off_from")


@dataclass(frozen=True, slots=True)
class Replan:
    """What re-optimising a roster keeps, for :func:`solver.solve` (``locked``, ``locked_before``).

    ``locked`` are the stops to keep exactly; ``locked_before`` is the time of the
    re-plan (nothing new starts before it); ``dropped`` are stops chosen to keep
    whose visit is no longer in the plan (cancelled), or which were chosen by
    visit or worker after the lock time for a worker no longer in the plan.
    """

    locked: tuple[LockedStop, ...]
    locked_before: int | None
    dropped: tuple[LockedStop, ...] = ()


def replan_locks(
    previous: Roster,
    plan: Plan,
    *,
    before: int | None = None,
    visit_ids: Iterable[str] | None = None,
    worker_ids: Iterable[str] | None = None,
) -> Replan:
    """Choose what re-optimising ``previous`` for the changed ``plan`` keeps (CLI and API alike).

    Every stop that started before ``before`` is kept as it happened, even one of
    a worker no longer in the plan: the solve then lists its visit as unassigned
    with code ``past`` (keep such a worker in the plan with ``off_from`` to show
    the visit as done by them). Stops kept by visit or worker must still fit the
    plan: a double-handed visit is kept only with both its places.

    Parameters
    ----------
    previous
        The roster in force.
    plan
        The changed plan (a worker off, a visit cancelled or added).
    before
        The re-planning time (seconds since midnight), or ``None``.
    visit_ids, worker_ids
        Also keep these visits' stops, and every stop of these workers.

    Returns
    -------
    Replan
        The stops to keep, the lock time, and the stops that could not be kept.
    """
    chosen = locks_from_roster(previous, before=before, visit_ids=visit_ids, worker_ids=worker_ids)
    past = [lk for lk in chosen if before is not None and lk.start < before]
    rest = [lk for lk in chosen if lk not in past]
    kept = [lk for lk in past if plan.has_visit(lk.visit_id)]
    rest = [lk for lk in rest if plan.has_visit(lk.visit_id) and plan.has_worker(lk.worker_id)]
    places: dict[str, int] = {}
    for lk in rest:
        places[lk.visit_id] = places.get(lk.visit_id, 0) + 1
    kept += [lk for lk in rest if places[lk.visit_id] == plan.visit(lk.visit_id).workers_required]
    keep_set = set(kept)
    return Replan(tuple(lk for lk in chosen if lk in keep_set), before,
                  tuple(lk for lk in chosen if lk not in keep_set))
