"""The coordinator board's data: a roster cut to what the caller may see, and its route map.

The board page (``api/static/board.html``) draws what these functions return.
Every cut is made here, on the server: a ``provider:<id>`` key gets its own
workers' rows and its own unassigned visits only, a ``worker:<provider
id>:<worker id>`` key its own row only (that provider's worker of that id). Like the provider and worker views of :mod:`api.views`, stops carry
postcode and tasks but no client name or id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from api.changes import diff_rosters
from api.models import (
    BoardProvider,
    BoardPublic,
    BoardRow,
    BoardStop,
    BoardUnassigned,
)
from api.security import Principal
from scheduler.model import Plan, Worker
from scheduler.roster import Roster, Route
from scheduler.timeutil import ceil_minutes, format_hhmm, parse_hhmm

#: The ODbL attribution every map of OpenStreetMap data must show.
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
#: Margin around the routes within which roads are drawn (degrees of latitude, about 550 m).
MAP_MARGIN_DEG = 0.005
#: Coordinates are rounded to this many decimals (about 1 m).
COORD_DECIMALS = 5

LonLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose part of a roster the caller sees: everything, one provider's, or one worker of one provider.

    A worker is named by provider and id together: another provider's worker of
    the same id is somebody else.
    """

    provider_id: str | None = None
    worker_id: str | None = None

    @property
    def label(self) -> str:
        """``all``, ``provider:<id>`` or ``worker:<provider id>:<worker id>``."""
        if self.worker_id is not None:
            return f"worker:{self.provider_id}:{self.worker_id}"
        if self.provider_id is not None:
            return f"provider:{self.provider_id}"
        return "all"

    def shows(self, worker_id: str, provider_id: str | None) -> bool:
        """Whether a worker of ``provider_id`` is visible in this scope."""
        if self.provider_id is not None and provider_id != self.provider_id:
            return False
        return self.worker_id is None or worker_id == self.worker_id


def scope_of(who: Principal) -> Scope:
    """Return what a key may see of a roster: coordinators and planners all of it."""
    if who.kind == "provider":
        return Scope(provider_id=who.provider_id)
    if who.kind == "worker":
        return Scope(provider_id=who.provider_id, worker_id=who.worker_id)
    return Scope()


def _hhmm(seconds: int | None) -> str | None:
    return None if seconds is None else format_hhmm(seconds)


def _worker_of(plan: Plan, previous: Plan | None, worker_id: str) -> Worker | None:
    if plan.has_worker(worker_id):
        return plan.worker(worker_id)
    if previous is not None and previous.has_worker(worker_id):
        return previous.worker(worker_id)
    return None


def _row(plan: Plan, worker: Worker, route: Route | None, *, partners: Mapping[str, list[str]],
         changes: Mapping[str, str], off: bool, provider_kind: str) -> BoardRow:
    stops: list[BoardStop] = []
    for stop in route.stops if route else ():
        visit = plan.visit(stop.visit_id)
        slack = (visit.window.end - stop.start) // 60
        stops.append(BoardStop(
            kind="visit", visit_id=visit.id, arrival=format_hhmm(ceil_minutes(stop.arrival) * 60),
            start=format_hhmm(stop.start), end=format_hhmm(stop.end), travel_s=stop.travel_s,
            travel_m=stop.travel_m, visit_kind=visit.kind, window_start=format_hhmm(visit.window.start),
            window_end=format_hhmm(visit.window.end), priority=visit.priority,
            workers_required=visit.workers_required,
            partners=[w for w in partners.get(visit.id, ()) if w != worker.id],
            postcode=plan.client(visit.client_id).postcode, tasks=list(visit.tasks), slack_min=slack,
            late=stop.start > visit.window.end, change=changes.get(visit.id)))
    for rest in route.breaks if route else ():
        stops.append(BoardStop(kind="break", visit_id=None, arrival=format_hhmm(rest.start),
                               start=format_hhmm(rest.start), end=format_hhmm(rest.end), travel_s=0, travel_m=0))
    stops.sort(key=lambda s: (s.start, s.kind == "visit"))
    has_stops = route is not None and bool(route.stops)
    return BoardRow(
        worker_id=worker.id, name=worker.name, provider_id=worker.provider_id, provider_kind=provider_kind,
        travel_mode=worker.travel_mode, shift_start=format_hhmm(worker.shift.start),
        shift_end=format_hhmm(worker.shift.end), off=off,
        departure=_hhmm(route.departure) if has_stops and route else None,
        return_arrival=(format_hhmm(ceil_minutes(route.return_arrival) * 60)
                        if has_stops and route and route.return_arrival is not None else None),
        travel_s=route.travel_s if route else 0, travel_m=route.travel_m if route else 0,
        work_s=route.work_s if route else 0, stops=stops)


def _scoped_kpis(rows: Sequence[BoardRow], unassigned: Sequence[BoardUnassigned]) -> dict[str, Any]:
    """Headline figures of the visible rows only (a provider's or worker's own part of the day)."""
    visits = [s for r in rows for s in r.stops if s.kind == "visit"]
    service_s = sum((parse_hhmm(s.end) - parse_hhmm(s.start)) for s in visits)
    between_s = sum(s.travel_s for r in rows for s in [x for x in r.stops if x.kind == "visit"][1:])
    return {
        "visits": len({s.visit_id for s in visits}) + len(unassigned),
        "assigned": len({s.visit_id for s in visits}),
        "unassigned": len(unassigned),
        "mandatory_unassigned": sum(1 for u in unassigned if u.priority == "mandatory"),
        "workers": sum(1 for r in rows if not r.off),
        "workers_used": sum(1 for r in rows if any(s.kind == "visit" for s in r.stops)),
        "travel_s": sum(r.travel_s for r in rows),
        "travel_m": sum(r.travel_m for r in rows),
        "service_s": service_s,
        "work_s": sum(r.work_s for r in rows),
        "travel_share": round(between_s / (between_s + service_s), 4) if service_s else 0.0,
    }


def board_view(plan: Plan, roster: Roster, *, roster_id: str, plan_id: str, purpose: str,
               created_at: dt.datetime, kpis: Mapping[str, Any], violations: Sequence[str],
               scope: Scope, can_reoptimise: bool, previous_roster_id: str | None = None,
               previous: tuple[Plan, Roster] | None = None) -> BoardPublic:
    """Return a roster as the board shows it, cut to ``scope``.

    Parameters
    ----------
    plan
        The roster's plan.
    roster
        The roster.
    roster_id, plan_id, purpose, created_at, kpis, violations
        From the roster's record.
    scope
        What the caller may see.
    can_reoptimise
        Whether the caller may re-optimise (the board shows the actions then).
    previous_roster_id
        The roster this one was re-optimised from, if any.
    previous
        That roster and its plan: the board then lists what changed, and shows
        workers taken off the day since as empty rows marked ``off``.

    Returns
    -------
    BoardPublic
        Rows by provider and worker, unassigned visits, KPIs (the roster's own
        for everybody's view; for a provider or worker, figures of their own
        rows) and the changes, each cut to ``scope``.
    """
    previous_plan = previous[0] if previous else None
    all_changes = diff_rosters(previous[1], roster, plan) if previous else []
    change_of = {c.visit_id: c.change for c in all_changes}
    partners: dict[str, list[str]] = {}
    for route in roster.routes:
        for stop in route.stops:
            partners.setdefault(stop.visit_id, []).append(route.worker_id)

    def provider_of(worker_id: str) -> str | None:
        worker = _worker_of(plan, previous_plan, worker_id)
        return worker.provider_id if worker else None

    def kind_of(provider_id: str) -> str:
        for source in (plan, previous_plan):
            if source is not None and any(p.id == provider_id for p in source.providers):
                return source.provider(provider_id).kind
        return ""

    visible = {r.worker_id for r in roster.routes if scope.shows(r.worker_id, provider_of(r.worker_id))}
    partners = {v: sorted(w for w in ws if w in visible) for v, ws in partners.items()}
    rows = []
    for route in roster.routes:
        worker = _worker_of(plan, previous_plan, route.worker_id)
        if worker is None or route.worker_id not in visible:
            continue
        rows.append(_row(plan, worker, route, partners=partners, changes=change_of, off=False,
                         provider_kind=kind_of(worker.provider_id)))
    if previous is not None:
        gone = [r.worker_id for r in previous[1].routes
                if not plan.has_worker(r.worker_id) and roster.route(r.worker_id) is None]
        for worker_id in gone:
            worker = _worker_of(plan, previous_plan, worker_id)
            if worker is not None and scope.shows(worker_id, worker.provider_id):
                rows.append(_row(plan, worker, None, partners=partners, changes=change_of, off=True,
                                 provider_kind=kind_of(worker.provider_id)))
    rows.sort(key=lambda r: (r.provider_id, r.worker_id))

    # A provider sees its own unassigned visits, and those its workers lost; a worker none.
    dropped_from = {c.visit_id: {p.worker_id for p in c.before} for c in all_changes}
    unassigned = []
    for item in roster.unassigned:
        if not plan.has_visit(item.visit_id):
            continue
        visit = plan.visit(item.visit_id)
        if scope.worker_id is not None:
            continue
        if scope.provider_id is not None and visit.provider_id != scope.provider_id and not (
                dropped_from.get(visit.id, set()) & visible):
            continue
        unassigned.append(BoardUnassigned(
            visit_id=visit.id, code=item.code, reason=item.reason, visit_kind=visit.kind,
            provider_id=visit.provider_id, window_start=format_hhmm(visit.window.start),
            window_end=format_hhmm(visit.window.end), duration_min=visit.duration_min, priority=visit.priority,
            workers_required=visit.workers_required, postcode=plan.client(visit.client_id).postcode,
            change=change_of.get(visit.id)))

    shown_visits = {s.visit_id for r in rows for s in r.stops} | {u.visit_id for u in unassigned}
    changes = [c for c in all_changes if c.visit_id in shown_visits
               or {p.worker_id for p in [*c.before, *c.after]} & visible]
    if scope.label != "all":  # other providers' workers stay out of sight
        changes = [c.model_copy(update={"before": [p for p in c.before if p.worker_id in visible],
                                        "after": [p for p in c.after if p.worker_id in visible]})
                   for c in changes]
    shown_providers = {r.provider_id for r in rows} | {scope.provider_id}
    providers = [BoardProvider(id=p.id, name=p.name, kind=p.kind) for p in plan.providers
                 if scope.label == "all" or p.id in shown_providers]
    return BoardPublic(
        roster_id=roster_id, plan_id=plan_id, previous_roster_id=previous_roster_id, purpose=purpose,
        date=roster.date, created_at=created_at, scope=scope.label, can_reoptimise=can_reoptimise,
        providers=providers, rows=rows, unassigned=unassigned,
        kpis=dict(kpis) if scope.label == "all" else _scoped_kpis(rows, unassigned),
        violations=list(violations) if scope.label == "all" else [], changes=changes)


def board_client_ids(plan: Plan, board: BoardPublic) -> set[str]:
    """Return the clients whose visits a board shows (for the audit log)."""
    visit_ids = [s.visit_id for r in board.rows for s in r.stops if s.visit_id] + [
        u.visit_id for u in board.unassigned]
    return {plan.visit(v).client_id for v in visit_ids if plan.has_visit(v)}


def visible_roster(roster: Roster, board: BoardPublic) -> Roster:
    """Return the roster with only the routes of a board's rows (for its map)."""
    shown = {r.worker_id for r in board.rows}
    return replace(roster, routes=tuple(r for r in roster.routes if r.worker_id in shown))


# --------------------------------------------------------------------------- map (GeoJSON)

def straight_paths(plan: Plan, roster: Roster) -> dict[str, list[list[LonLat]]]:
    """Return each worker's legs as straight lines: home, each stop, home again.

    Parameters
    ----------
    plan
        The roster's plan.
    roster
        The roster.

    Returns
    -------
    dict
        Worker id to legs, each leg a list of ``(lon, lat)`` points.
    """
    paths: dict[str, list[list[LonLat]]] = {}
    for route in roster.routes:
        if not route.stops or not plan.has_worker(route.worker_id):
            continue
        worker = plan.worker(route.worker_id)
        points = [(worker.start_location.lon, worker.start_location.lat)]
        points += [(loc.lon, loc.lat) for loc in (plan.visit_location(plan.visit(s.visit_id)) for s in route.stops)]
        points.append((worker.end_location.lon, worker.end_location.lat))
        paths[route.worker_id] = [[a, b] for a, b in zip(points, points[1:], strict=False)]
    return paths


def _coords(points: Iterable[Sequence[float]]) -> list[list[float]]:
    return [[round(float(p[0]), COORD_DECIMALS), round(float(p[1]), COORD_DECIMALS)] for p in points]


def bbox_of(plan: Plan, roster: Roster, *, margin_deg: float = MAP_MARGIN_DEG) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)`` around the workers' homes and stops of a roster, with a margin.

    Raises
    ------
    ValueError
        If the roster has no stop and no worker of the plan.
    """
    points = []
    for route in roster.routes:
        if plan.has_worker(route.worker_id):
            worker = plan.worker(route.worker_id)
            points += [worker.start_location, worker.end_location]
        points += [plan.visit_location(plan.visit(s.visit_id)) for s in route.stops if plan.has_visit(s.visit_id)]
    if not points:
        raise ValueError("the roster has no stop and no worker to frame")
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    return (min(lons) - margin_deg * 1.6, min(lats) - margin_deg, max(lons) + margin_deg * 1.6,
            max(lats) + margin_deg)


def board_map(plan: Plan, roster: Roster, *, paths: Mapping[str, Sequence[Sequence[LonLat]]],
              roads: Iterable[Sequence[LonLat]], bbox: tuple[float, float, float, float],
              routes_follow_roads: bool) -> dict[str, Any]:
    """Return a roster's map as a GeoJSON FeatureCollection.

    Parameters
    ----------
    plan
        The roster's plan.
    roster
        The roster, already cut to what the caller may see.
    paths
        Worker id to legs (lists of ``(lon, lat)``), such as :func:`straight_paths`.
    roads
        Road lines to draw under the routes, ``(lon, lat)`` points each.
    bbox
        ``(west, south, east, north)`` of the map (degrees).
    routes_follow_roads
        Whether ``paths`` follow the road network (``False``: straight lines between stops).

    Returns
    -------
    dict
        Features with a ``layer`` property: ``road`` (one MultiLineString of every
        road line), ``route`` (a MultiLineString of legs per worker), ``home`` and
        ``stop`` (Points; stops carry ``visit_id`` and ``order``). Foreign members
        ``bbox``, ``attribution`` and ``routes_follow_roads``.
    """
    features: list[dict[str, Any]] = [{
        "type": "Feature", "properties": {"layer": "road"},
        "geometry": {"type": "MultiLineString", "coordinates": [_coords(line) for line in roads]}}]
    for route in roster.routes:
        if not plan.has_worker(route.worker_id):
            continue
        worker = plan.worker(route.worker_id)
        props = {"worker_id": worker.id, "provider_id": worker.provider_id,
                 "provider_kind": plan.provider(worker.provider_id).kind}
        features.append({"type": "Feature", "properties": {"layer": "home", **props},
                         "geometry": {"type": "Point", "coordinates": _coords(
                             [(worker.start_location.lon, worker.start_location.lat)])[0]}})
        if route.stops:
            features.append({"type": "Feature", "properties": {"layer": "route", **props},
                             "geometry": {"type": "MultiLineString",
                                          "coordinates": [_coords(leg) for leg in paths.get(worker.id, ())]}})
        for order, stop in enumerate(route.stops, start=1):
            location = plan.visit_location(plan.visit(stop.visit_id))
            features.append({"type": "Feature",
                             "properties": {"layer": "stop", **props, "visit_id": stop.visit_id, "order": order,
                                            "start": format_hhmm(stop.start)},
                             "geometry": {"type": "Point", "coordinates": _coords([(location.lon, location.lat)])[0]}})
    return {"type": "FeatureCollection", "bbox": [round(b, COORD_DECIMALS) for b in bbox],
            "attribution": OSM_ATTRIBUTION, "routes_follow_roads": routes_follow_roads, "features": features}
