"""Check plans (cross-record rules) and rosters (every rule of ``docs/CONTRACT.md``).

:func:`validate_plan` raises one :class:`~scheduler.errors.PlanError` listing
every problem. :func:`check_roster` returns every :class:`Violation`; an empty
list means the roster obeys the contract.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Protocol

from scheduler.eligibility import eligibility, is_eligible
from scheduler.errors import PlanError, Problem, UnknownReferenceError
from scheduler.model import Location, Plan, Visit, Worker
from scheduler.roster import LockedStop, Roster, Route, Stop, plan_locked_before, worker_off_from
from scheduler.shifts import break_needs, free_time, gaps, stints
from scheduler.timeutil import DAY_S, format_hhmm


def validate_plan(plan: Plan, *, unloaded: Mapping[str, Container[str]] | None = None) -> None:
    """Check the rules that span records of a plan.

    Parameters
    ----------
    plan
        A plan whose records are each well-formed.
    unloaded
        Per record kind (``provider``, ``worker``, ``client``), ids of records that
        exist in the source but could not be read; references to them are not
        reported as unknown, and a visit's kind is not checked while a provider is
        unreadable. Lets a loader report these problems alongside its own.

    Raises
    ------
    UnknownReferenceError
        If a record refers to a missing id (every problem is listed, with any others).
    PlanError
        If the plan has no providers, workers or visits (record ``plan``, that
        field), ids repeat, a visit's kind has no provider, or records contradict
        each other.
    """
    problems: list[Problem] = []
    unknown = False
    unloaded = unloaded or {}
    no_ids: frozenset[str] = frozenset()
    lost_providers = unloaded.get("provider", no_ids)
    lost_workers = unloaded.get("worker", no_ids)
    lost_clients = unloaded.get("client", no_ids)

    for name, kind, records, why in (
            ("providers", "provider", plan.providers, "every worker and visit belongs to one"),
            ("workers", "worker", plan.workers, "someone must make the visits"),
            ("visits", "visit", plan.visits, "there is nothing to schedule")):
        lost = unloaded.get(kind, no_ids)
        some_unreadable = not isinstance(lost, Sized) or len(lost) > 0  # records there, but unreadable
        if not records and not some_unreadable:
            problems.append(Problem("plan", None, name, f"the plan has no {name}: {why}"))

    for kind, records in (("provider", plan.providers), ("worker", plan.workers),
                          ("client", plan.clients), ("visit", plan.visits)):
        for rid, n in Counter(r.id for r in records).items():
            if n > 1:
                problems.append(Problem(kind, rid, "id", f"id {rid!r} is used by {n} {kind}s"))

    providers = {p.id: p for p in plan.providers}
    workers = {w.id: w for w in plan.workers}
    clients = {c.id: c for c in plan.clients}
    kinds = {p.kind for p in plan.providers}
    visits_by_id = {v.id: v for v in plan.visits}

    for w in plan.workers:
        if w.provider_id not in providers and w.provider_id not in lost_providers:
            problems.append(Problem("worker", w.id, "provider_id", f"provider_id {w.provider_id!r} is not a provider in the plan"))
            unknown = True
    for c in plan.clients:
        for field in ("preferred_worker_ids", "excluded_worker_ids"):
            for wid in sorted(getattr(c, field)):
                if wid not in workers and wid not in lost_workers:
                    problems.append(Problem("client", c.id, field, f"{field} names {wid!r}, which is not a worker in the plan"))
                    unknown = True
        both = set(c.preferred_worker_ids) & c.excluded_worker_ids
        for wid in sorted(both):
            problems.append(Problem("client", c.id, "excluded_worker_ids", f"worker {wid!r} is both preferred and excluded"))
    for v in plan.visits:
        if v.client_id not in clients and v.client_id not in lost_clients:
            problems.append(Problem("visit", v.id, "client_id", f"client_id {v.client_id!r} is not a client in the plan"))
            unknown = True
        if v.provider_id is not None:
            provider = providers.get(v.provider_id)
            if provider is None and v.provider_id in lost_providers:
                pass
            elif provider is None:
                problems.append(Problem("visit", v.id, "provider_id", f"provider_id {v.provider_id!r} is not a provider in the plan"))
                unknown = True
            elif provider.kind != v.kind:
                problems.append(Problem("visit", v.id, "kind", f"kind {v.kind!r} differs from provider {provider.id!r}'s kind {provider.kind!r}"))
        elif v.kind not in kinds and not lost_providers:
            problems.append(Problem("visit", v.id, "kind", f"kind {v.kind!r} has no provider in the plan"))
        if v.pinned_worker_id is not None and v.pinned_worker_id not in workers \
                and v.pinned_worker_id not in lost_workers:
            problems.append(Problem("visit", v.id, "pinned_worker_id",
                                    f"pinned_worker_id {v.pinned_worker_id!r} is not a worker in the plan"))
            unknown = True
        for field, link in (("after", v.after), ("before", v.before)):
            if link is None:
                continue
            other = visits_by_id.get(link.visit_id)
            if other is None:
                problems.append(Problem("visit", v.id, f"{field}.visit_id",
                                        f"{field} names {link.visit_id!r}, which is not a visit in the plan"))
                unknown = True
            elif other.id == v.id:
                problems.append(Problem("visit", v.id, f"{field}.visit_id", f"{field} links the visit to itself"))
            elif other.client_id != v.client_id:
                problems.append(Problem("visit", v.id, f"{field}.visit_id",
                                        f"{field} links to visit {other.id!r} of client {other.client_id!r}; "
                                        f"linked visits must be at the same client ({v.client_id!r})"))
        if v.window.start + v.duration_s > DAY_S:
            problems.append(Problem("visit", v.id, "duration_min", f"a {v.duration_min} min visit starting at {format_hhmm(v.window.start)} ends after midnight"))
    for i, h in enumerate(plan.history):
        for kind, rid, known, lost in (("client", h.client_id, clients, lost_clients),
                                       ("worker", h.worker_id, workers, lost_workers)):
            if rid not in known and rid not in lost:
                problems.append(Problem("history", f"#{i + 1}", f"{kind}_id",
                                        f"{kind}_id {rid!r} is not a {kind} in the plan"))
                unknown = True
    if problems:
        raise (UnknownReferenceError if unknown else PlanError)(problems)


# --------------------------------------------------------------------------- rosters

class TravelOracle(Protocol):
    """Road-network travel between two points for a worker's travel mode."""

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return travel time (seconds) and distance (metres) from ``origin`` to ``destination``."""
        ...


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule of a roster.

    ``rule`` is one of ``reference``, ``coverage``, ``reason``, ``mandatory``,
    ``window``, ``duration``, ``shift``, ``order``, ``travel``, ``provider``,
    ``skills``, ``excluded``, ``gender``, ``double_handed``, ``capacity``, ``date``,
    ``locked``, ``pinned``, ``link``, ``working_time``, ``max_visits``, ``break``,
    ``availability``, ``past``, ``off``.
    """

    rule: str
    record_kind: str
    record_id: str | None
    message: str

    def __str__(self) -> str:
        """Return ``[rule] kind 'id': message``."""
        who = self.record_kind if self.record_id is None else f"{self.record_kind} {self.record_id!r}"
        return f"[{self.rule}] {who}: {self.message}"


def check_roster(
    plan: Plan,
    roster: Roster,
    *,
    travel: TravelOracle | None = None,
    tolerance_s: int = 1,
    locked: Iterable[LockedStop] = (),
    locked_before: int | None = None,
) -> list[Violation]:
    """Check a roster against every rule of ``docs/CONTRACT.md``.

    Parameters
    ----------
    plan
        The plan the roster claims to serve.
    roster
        The roster to check.
    travel
        Road-network travel times; without it, ``travel_s`` is trusted as given and
        the mandatory-visit rule is not checked.
    tolerance_s
        How far a stop's ``travel_s`` may differ from the network (seconds);
        ``travel_m`` may differ by as many metres.
    locked
        Stops that must appear exactly as given (same worker and start).
    locked_before
        The re-planning time (seconds); by default the roster's own, else the
        plan's ``locked_before`` field. No stop that is not locked may start
        before it, and no worker without a locked stop before it may leave
        home before it. Stops marked ``locked`` in the roster must be among
        ``locked`` when that is given.

    Returns
    -------
    list of Violation
        Every violation found; empty for a valid roster.
    """
    out: list[Violation] = []

    def bad(rule: str, kind: str, rid: str | None, message: str) -> None:
        out.append(Violation(rule, kind, rid, message))

    if roster.date != plan.date:
        bad("date", "roster", None, f"roster date {roster.date} differs from plan date {plan.date}")

    served: dict[str, list[tuple[str, Stop]]] = defaultdict(list)
    seen_workers: set[str] = set()
    for route in roster.routes:
        wid = route.worker_id
        if not plan.has_worker(wid):
            bad("reference", "route", wid, f"worker {wid!r} is not in the plan")
            continue
        if wid in seen_workers:
            bad("reference", "route", wid, f"worker {wid!r} has more than one route")
        seen_workers.add(wid)
        worker = plan.worker(wid)
        _check_route(plan, worker, route.stops, travel, tolerance_s, bad, route.end_travel_s)
        _check_order(worker, route, bad)
        _check_day(plan, worker, route, bad)
        for stop in route.stops:
            if plan.has_visit(stop.visit_id):
                served[stop.visit_id].append((wid, stop))

    unassigned = Counter(u.visit_id for u in roster.unassigned)
    for u in roster.unassigned:
        if not plan.has_visit(u.visit_id):
            bad("reference", "unassigned", u.visit_id, f"visit {u.visit_id!r} is not in the plan")
        elif not u.reason.strip():
            bad("reason", "visit", u.visit_id, "unassigned without a reason")

    for visit in plan.visits:
        stops = served.get(visit.id, [])
        n_unassigned = unassigned.get(visit.id, 0)
        if n_unassigned:
            if stops:
                bad("coverage", "visit", visit.id, f"listed as unassigned but served by {', '.join(w for w, _ in stops)}")
            if n_unassigned > 1:
                bad("coverage", "visit", visit.id, f"listed {n_unassigned} times as unassigned")
            continue
        if len(stops) != visit.workers_required:
            bad("coverage", "visit", visit.id,
                f"served {len(stops)} times, needs {visit.workers_required} worker(s) or an unassigned entry")
        if visit.workers_required == 2 and len(stops) == 2:
            (w1, s1), (w2, s2) = stops
            if w1 == w2:
                bad("double_handed", "visit", visit.id, f"both places of the double-handed visit go to worker {w1!r}")
            if s1.start // 60 != s2.start // 60:
                bad("double_handed", "visit", visit.id,
                    f"double-handed visit starts at {format_hhmm(s1.start)} ({w1}) and {format_hhmm(s2.start)} ({w2})")

    for visit in plan.visits:
        for first_id, then_id, low, high in visit.links():
            if served.get(first_id) and served.get(then_id):
                first_end = min(st.end for _, st in served[first_id])
                then_start = min(st.start for _, st in served[then_id])
                gap = (then_start - first_end) // 60
                if gap < low or (high is not None and gap > high):
                    want = f"{low}-{high}" if high is not None else f"at least {low}"
                    bad("link", "visit", visit.id,
                        f"visit {then_id!r} starts {gap} min after {first_id!r} ends; the link asks {want} min")
    locked = tuple(locked)
    lock_time = _check_lock_time(plan, roster, locked, locked_before, bad)
    past = _in_the_past(plan, roster, locked, lock_time, bad)
    for lock in locked:
        if lock.visit_id in past:
            continue
        kept = [st for wid, st in served.get(lock.visit_id, []) if wid == lock.worker_id]
        if not any(st.start == lock.start for st in kept):
            now = ", ".join(f"{wid} at {format_hhmm(st.start)}" for wid, st in served.get(lock.visit_id, [])) or "unassigned"
            bad("locked", "visit", lock.visit_id,
                f"locked to worker {lock.worker_id!r} at {format_hhmm(lock.start)}, but the roster has it {now}")
    for visit in plan.visits:
        if visit.pinned_worker_id and served.get(visit.id) \
                and visit.pinned_worker_id not in [wid for wid, _ in served[visit.id]]:
            bad("pinned", "visit", visit.id, f"pinned to worker {visit.pinned_worker_id!r} but served by "
                + ", ".join(wid for wid, _ in served[visit.id]))
    if travel is not None:
        for visit_id in unassigned:
            if plan.has_visit(visit_id) and plan.visit(visit_id).priority == "mandatory" and visit_id not in past:
                slot = free_slot(plan, roster.routes, plan.visit(visit_id), travel, not_before=lock_time)
                if slot:
                    bad("mandatory", "visit", visit_id, f"mandatory visit is unassigned but {slot}")
    return out


def _in_the_past(plan: Plan, roster: Roster, locked: Sequence[LockedStop], lock: int | None,
                 bad) -> set[str]:  # noqa: ANN001
    """Return the visits rightly unassigned as ``past``, and report those wrongly so.

    A visit is in the past at a re-plan when its window closed before the lock
    time, or when a kept stop of it started before then by a worker who is no
    longer in the plan.
    """
    out = set()
    for u in roster.unassigned:
        if u.code != "past" or not plan.has_visit(u.visit_id):
            continue
        visit = plan.visit(u.visit_id)
        gone = any(lk.visit_id == visit.id and not plan.has_worker(lk.worker_id)
                   and lock is not None and lk.start < lock for lk in locked)
        if lock is not None and (visit.window.end < lock or gone):
            out.add(visit.id)
        else:
            bad("reason", "visit", visit.id, "unassigned as past, but its window is still open at the re-plan time "
                + (format_hhmm(lock) if lock is not None else "(none given)") + " and no kept stop of it is gone")
    return out


def _check_lock_time(plan: Plan, roster: Roster, locked: Sequence[LockedStop], locked_before: int | None,
                     bad) -> int | None:  # noqa: ANN001
    """Check a re-optimised roster: nothing new before the re-plan time, and off workers take nothing new.

    Returns the re-plan time used, or ``None``.
    """
    lock = locked_before if locked_before is not None else roster.locked_before
    if lock is None:
        try:
            lock = plan_locked_before(plan)
        except PlanError as exc:
            bad("past", "plan", None, str(exc.problems[0]))
    given = {(lk.visit_id, lk.worker_id, lk.start) for lk in locked}
    for route in roster.routes:
        wid = route.worker_id
        is_locked = [st.locked or (st.visit_id, wid, st.start) in given for st in route.stops]
        for st, held in zip(route.stops, is_locked, strict=True):
            if st.locked and locked and (st.visit_id, wid, st.start) not in given:
                bad("locked", "visit", st.visit_id, f"worker {wid!r}'s stop at {format_hhmm(st.start)} is marked "
                    "locked but is not one of the stops to keep")
            if lock is not None and not held and st.start < lock:
                bad("past", "visit", st.visit_id, f"worker {wid!r} starts it at {format_hhmm(st.start)}, before the "
                    f"re-plan time {format_hhmm(lock)}, and it is not a kept stop")
        if lock is not None and route.stops and route.departure is not None and route.departure < lock \
                and not any(held and st.start < lock for st, held in zip(route.stops, is_locked, strict=True)):
            bad("past", "worker", wid, f"leaves home at {format_hhmm(route.departure)}, before the re-plan time "
                f"{format_hhmm(lock)}, with no kept stop before it")
        if plan.has_worker(wid):
            try:
                off = worker_off_from(plan.worker(wid))
            except PlanError as exc:
                bad("off", "worker", wid, str(exc.problems[0]))
                continue
            for st, held in zip(route.stops, is_locked, strict=True):
                if off is not None and st.start >= off and not held:
                    bad("off", "visit", st.visit_id, f"worker {wid!r} is off from {format_hhmm(off)} but starts it "
                        f"at {format_hhmm(st.start)}")
    return lock


def _check_day(plan: Plan, worker: Worker, route: Route, bad) -> None:  # noqa: ANN001
    """Check stints (split shifts), rest breaks and that travel fits the time left between them."""
    wid = worker.id
    periods = stints(worker)
    blocks = sorted([(g.start, g.end) for g in gaps(worker)] + [(b.start, b.end) for b in route.breaks])
    stops = [s for s in route.stops if plan.has_visit(s.visit_id)]
    for b in route.breaks:
        for s in stops:
            if b.start < s.end and s.start < b.end:
                bad("break", "worker", wid, f"break {format_hhmm(b.start)}-{format_hhmm(b.end)} overlaps visit "
                    f"{s.visit_id!r} ({format_hhmm(s.start)}-{format_hhmm(s.end)})")
    previous_end = None
    for s in stops:
        inside = [p for p in periods if p.start <= s.start and s.end <= p.end]
        if worker.availability and not inside:
            bad("availability", "visit", s.visit_id, f"worker {wid!r} serves it {format_hhmm(s.start)}-"
                f"{format_hhmm(s.end)}, outside their availability "
                + ", ".join(str(p) for p in periods))
        since = previous_end if previous_end is not None else (inside[0].start if inside else periods[0].start)
        if blocks and free_time(since, s.start, blocks) < s.travel_s:
            bad("availability" if worker.availability else "break", "visit", s.visit_id,
                f"worker {wid!r} has {free_time(since, s.start, blocks)} s free before {format_hhmm(s.start)} "
                f"for {s.travel_s} s of travel, once breaks and gaps in availability are taken out")
        previous_end = s.end
    if not stops:
        return
    day_from = route.departure if route.departure is not None else stops[0].arrival - stops[0].travel_s
    day_to = route.return_arrival if route.return_arrival is not None else stops[-1].end + route.end_travel_s
    rule = plan.provider(worker.provider_id).break_rule
    for need in break_needs(plan, worker):
        if min(day_to, need.stint.end) - max(day_from, need.stint.start) <= rule.after_min * 60:
            continue  # the day in this stint is not long enough to owe a break
        if not any(b.end - b.start >= need.duration_s and need.window.start <= b.start <= need.window.end
                   for b in route.breaks):
            bad("break", "worker", wid, f"works in {need.stint} (over "
                f"{plan.provider(worker.provider_id).break_rule.after_min // 60} h) without a "
                f"{need.duration_s // 60}-min break starting in {need.window}")


def _check_order(worker: Worker, route: Route, bad) -> None:  # noqa: ANN001
    """Check the contract's rule in listed order: each entry (visit or break) starts no earlier than the one
    before it, and arrives no earlier than the previous entry's end (or the shift start) plus its travel."""
    previous_end, previous_start, previous = worker.shift.start, None, "the shift start"
    for n, entry in enumerate(route.entries(), start=1):
        is_visit = isinstance(entry, Stop)
        kind, rid = ("visit", entry.visit_id) if is_visit else ("worker", worker.id)
        what = f"worker {worker.id!r} stop {n}" + ("" if is_visit else f" (break {format_hhmm(entry.start)})")
        arrival = entry.arrival if is_visit else entry.start
        travel_s = entry.travel_s if is_visit else 0
        if previous_start is not None and entry.start < previous_start:
            bad("order", kind, rid, f"{what} starts at {format_hhmm(entry.start)}, before the stop listed before it "
                f"({format_hhmm(previous_start)}): stops are listed in time order")
        if arrival < previous_end + travel_s:
            bad("order", kind, rid, f"{what} arrives at {format_hhmm(arrival)}, before the previous end "
                f"{format_hhmm(previous_end)} plus {travel_s} s travel ({previous})")
        previous_end, previous_start = entry.end, entry.start
        previous = f"visit {entry.visit_id!r}" if is_visit else "the break before it"


def _check_route(plan: Plan, worker: Worker, stops: Sequence[Stop], travel: TravelOracle | None,
                 tolerance_s: int, bad, end_travel_s: int = 0) -> None:  # noqa: ANN001
    wid = worker.id
    previous_end = worker.shift.start
    previous_loc = worker.start_location
    load = 0
    for n, stop in enumerate(stops, start=1):
        sid = stop.visit_id
        if not plan.has_visit(sid):
            bad("reference", "stop", sid, f"worker {wid!r} stop {n}: visit {sid!r} is not in the plan")
            continue
        visit = plan.visit(sid)
        where = f"worker {wid!r} stop {n}"
        if not visit.window.start <= stop.start <= visit.window.end:
            bad("window", "visit", sid, f"{where} starts at {format_hhmm(stop.start)}, outside window {visit.window}")
        if stop.end - stop.start != visit.duration_s:
            bad("duration", "visit", sid, f"{where} lasts {(stop.end - stop.start) / 60:g} min, not {visit.duration_min}")
        if stop.start < worker.shift.start or stop.end > worker.shift.end:
            bad("shift", "visit", sid, f"{where} {format_hhmm(stop.start)}-{format_hhmm(stop.end)} is outside shift {worker.shift}")
        if stop.arrival > stop.start:
            bad("order", "visit", sid, f"{where} starts at {format_hhmm(stop.start)} before arriving at {format_hhmm(stop.arrival)}")
        location = plan.visit_location(visit)
        if travel is not None:
            want_s, want_m = travel.leg(worker, previous_loc, location)
            if abs(stop.travel_s - want_s) > tolerance_s:
                bad("travel", "visit", sid, f"{where} travel_s {stop.travel_s} differs from the network's {want_s} s ({worker.travel_mode})")
            if abs(stop.travel_m - want_m) > tolerance_s:
                bad("travel", "visit", sid, f"{where} travel_m {stop.travel_m} differs from the network's {want_m} m ({worker.travel_mode})")
        for rule, message in is_eligible(plan, worker, visit):
            bad(rule, "visit", sid, f"{where}: {message}")
        load += visit.demand
        previous_end = max(previous_end, stop.end)
        previous_loc = location
    if worker.capacity is not None and load > worker.capacity:
        bad("capacity", "worker", wid, f"stops carry demand {load}, more than capacity {worker.capacity}")
    if worker.max_visits is not None and len(stops) > worker.max_visits:
        bad("max_visits", "worker", wid, f"{len(stops)} visits, more than max_visits {worker.max_visits}")
    limit = plan.day_limit_min(worker)
    if limit is not None and stops:
        back = travel.leg(worker, previous_loc, worker.end_location)[0] if travel is not None else end_travel_s
        worked = sum(s.end - s.start + s.travel_s for s in stops) + back
        if worked > limit * 60:
            cap = plan.provider(worker.provider_id).weekly_cap_min
            bad("working_time", "worker", wid,
                f"works {worked / 60:.0f} min on visits and travel, more than the {limit} min allowed today "
                f"(max_working_min {worker.max_working_min}, {worker.week_worked_min} of {cap} min worked this week)")


@dataclass(frozen=True, slots=True)
class Gap:
    """Room for a visit in one worker's day as it stands (see :func:`free_places`).

    The visit may start at any whole minute from ``earliest`` to ``latest``
    (seconds since midnight) when put before the route's stop number
    ``position`` (0: before the first stop; the number of stops: after the last),
    counting only stops of visits in the plan; there it adds ``travel_s`` of travel.
    """

    worker_id: str
    position: int
    earliest: int
    latest: int
    travel_s: int = 0


def free_places(plan: Plan, routes: Sequence[Route], visit: Visit, travel: TravelOracle, *,
                not_before: int | None = None) -> Iterator[tuple[int, tuple[Gap, ...]]]:
    """Yield every place the roster as it stands has room for ``visit``, in the order :func:`free_slot` tries them.

    Other stops keep their times; each eligible worker's day is asked with every
    rule of the day (:class:`scheduler.day.WorkerDay`): window, stints and gaps in
    availability, rest breaks (and the break a first visit in a long stint calls
    for), travel both ways, capacity, ``max_visits``, the day's working time,
    the re-plan's lock time and ``off_from``, and the visit's links to visits
    already served. For a double-handed visit, two workers have room at one
    common minute.

    Parameters
    ----------
    plan
        The plan.
    routes
        The roster's routes as they stand.
    visit
        A visit not in them.
    travel
        Road-network travel.
    not_before
        A re-plan's lock time (seconds; by default the plan's ``locked_before``):
        the visit may not start before it, nor may a worker with no stop before
        it leave home earlier. Workers ``off_from`` a time start nothing after it.

    Yields
    ------
    tuple of (int, tuple of Gap)
        The earliest start (seconds since midnight) and the gap of each of the
        ``workers_required`` workers: eligible workers in the plan's order, each
        one's gaps through the day; for a double-handed visit, pairs of workers
        by id whose gaps share a minute.
    """
    from scheduler.day import Answer, WorkerDay, link_bounds, pairs  # noqa: PLC0415 - the rules above this module's Gap move to scheduler.rules

    elig = eligibility(plan, visit)
    if not elig.ok:
        return
    busy = {r.worker_id: r for r in routes}
    starts: dict[str, int] = {}
    for r in routes:
        for s in r.stops:
            starts[s.visit_id] = min(s.start, starts.get(s.visit_id, s.start))
    lo, hi, links = link_bounds(plan, visit, starts)
    answers = [Answer(wid, tuple(WorkerDay(plan, plan.worker(wid), busy.get(wid), travel, not_before=not_before)
                                 .places(visit, within=(lo, hi) if links else None)))
               for wid in elig.worker_ids]
    if visit.workers_required == 1:
        for answer in answers:
            for p in answer.places:
                yield p.earliest, (Gap(answer.worker_id, p.position, p.earliest, p.latest, p.travel_s),)
        return
    for start, p1, p2, w1, w2 in pairs(answers):
        yield start, (Gap(w1, p1.position, p1.earliest, p1.latest, p1.travel_s),
                      Gap(w2, p2.position, p2.earliest, p2.latest, p2.travel_s))


def free_slot(plan: Plan, routes: Sequence[Route], visit: Visit, travel: TravelOracle, *,
              not_before: int | None = None) -> str | None:
    """Find room for ``visit`` in the roster as it stands, proving it could be served.

    The first of :func:`free_places` (see there for the rules and parameters).

    Returns
    -------
    str or None
        Who could take it and when, or ``None`` when nobody has room.
    """
    for start, room in free_places(plan, routes, visit, travel, not_before=not_before):
        if len(room) == 1:
            return f"worker {room[0].worker_id!r} is free to start it at {format_hhmm(start)}"
        return (f"workers {room[0].worker_id!r} and {room[1].worker_id!r} are both free to start it at "
                f"{format_hhmm(start)}")
    return None
