"""Check plans (cross-record rules) and rosters (every rule of ``docs/CONTRACT.md``).

:func:`validate_plan` raises one :class:`~scheduler.errors.PlanError` listing
every problem. :func:`check_roster` returns every :class:`Violation`; an empty
list means the roster obeys the contract. The rules themselves live in
:mod:`scheduler.rules`, one module each; ``Violation`` and ``TravelOracle`` are
re-exported from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass

from scheduler.day import WorkerDay, pairs
from scheduler.eligibility import eligibility
from scheduler.errors import PlanError, Problem, UnknownReferenceError
from scheduler.model import Plan, Visit
from scheduler.roster import LockedStop, Roster, Route
from scheduler.rules import ROSTER_RULES, RosterView, TravelOracle, Violation, equipment
from scheduler.timeutil import DAY_S, format_hhmm

__all__ = ["Gap", "TravelOracle", "Violation", "check_roster", "free_places", "free_slot", "validate_plan"]


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

def check_roster(
    plan: Plan,
    roster: Roster,
    *,
    travel: TravelOracle | None = None,
    tolerance_s: int = 1,
    locked: Iterable[LockedStop] = (),
    locked_before: int | None = None,
) -> list[Violation]:
    """Check a roster against every rule of ``docs/CONTRACT.md``: each of :data:`scheduler.rules.ROSTER_RULES`.

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
        Every violation found, rule by rule in the list's order; empty for a valid roster.
    """
    view = RosterView(plan, roster, travel=travel, tolerance_s=tolerance_s, locked=tuple(locked),
                      locked_before=locked_before, free_slot=free_slot)
    return [violation for rule in ROSTER_RULES for violation in rule.check(view)]


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
    the re-plan's lock time and ``off_from``, the visit's links to visits
    already served and the equipment it needs (in place, or installed by a
    served visit). For a double-handed visit, two workers have room at one
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
    elig = eligibility(plan, visit)
    if not elig.ok:
        return
    busy = {r.worker_id: r for r in routes}
    starts: dict[str, int] = {}
    for r in routes:
        for s in r.stops:
            starts[s.visit_id] = min(s.start, starts.get(s.visit_id, s.start))
    ends = equipment.served_ends(routes)
    answers = [WorkerDay(plan, plan.worker(wid), busy.get(wid), travel, not_before=not_before)
               .ask(visit, starts=starts, ends=ends, why=False) for wid in elig.worker_ids]
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
