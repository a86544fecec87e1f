"""Derive plans from plans: the day's changes (re-optimise) and what-if scenarios.

Both work on the plan's contract JSON, so that the derived plan goes through the
same loader and validator as a submitted one and any problem is reported by
record and field. Also here: which stops of the previous roster to lock, what
changed between a roster and the one it was re-optimised from, and the
side-by-side KPI comparison of a scenario with its base.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from api.models import KpiComparison, Placement, RosterChange, ScenarioChanges, VisitChange
from scheduler.errors import Problem
from scheduler.model import Plan
from scheduler.roster import Roster
from scheduler.timeutil import format_hhmm

#: KPIs compared side by side, in this order.
COMPARED_KPIS = ("visits", "assigned", "unassigned", "mandatory_unassigned", "workers", "workers_used",
                 "travel_s", "travel_m", "service_s", "work_s", "idle_s", "travel_share", "visits_per_worker")


def _ids(records: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(r.get("id")) for r in records if isinstance(r, Mapping)}


def _drop_workers(data: dict[str, Any], worker_ids: set[str]) -> None:
    """Remove workers and every reference to them (client preferences, pinned visits, history)."""
    data["workers"] = [w for w in data["workers"] if str(w.get("id")) not in worker_ids]
    if isinstance(data.get("history"), list):
        data["history"] = [h for h in data["history"]
                           if not (isinstance(h, Mapping) and str(h.get("worker_id")) in worker_ids)]
    for client in data.get("clients", []):
        for field in ("preferred_worker_ids", "excluded_worker_ids"):
            if client.get(field):
                client[field] = [w for w in client[field] if w not in worker_ids]
    for visit in data["visits"]:
        if visit.get("pinned_worker_id") in worker_ids:
            visit["pinned_worker_id"] = None


def apply_roster_change(plan_data: Mapping[str, Any], change: RosterChange, *, previous: Roster | None = None,
                        locked_before: int | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """Apply the day's changes to a copy of a plan's JSON.

    With a lock time, the changed plan is a re-plan from then (its ``locked_before``
    field, which the solve reads), and a worker taken off who started a stop of
    ``previous`` before then stays in it, marked ``off_from`` the lock time: the
    stops they started are kept as done by them, and they take nothing new.

    Parameters
    ----------
    plan_data
        The plan's contract JSON.
    change
        Workers off, visits cancelled, visits (and clients) added.
    previous
        The roster being changed.
    locked_before
        The re-planning time (seconds since midnight), or ``None``.

    Returns
    -------
    tuple of (dict, list of Problem)
        The changed plan's JSON and the problems with the change itself (unknown
        ids); the changed plan still has to be validated.
    """
    data = copy.deepcopy(dict(plan_data))
    problems: list[Problem] = []
    workers = _ids(data["workers"])
    visits = _ids(data["visits"])
    for wid in change.remove_workers:
        if wid not in workers:
            problems.append(Problem("worker", wid, "changes.remove_workers", f"worker {wid!r} is not in the plan"))
    for vid in change.cancel_visits:
        if vid not in visits:
            problems.append(Problem("visit", vid, "changes.cancel_visits", f"visit {vid!r} is not in the plan"))
    started = set()
    if locked_before is not None and previous is not None:
        started = {r.worker_id for r in previous.routes if any(st.start < locked_before for st in r.stops)}
    off = [dict(w, off_from=format_hhmm(locked_before)) for w in data["workers"]
           if str(w.get("id")) in set(change.remove_workers) & started]
    _drop_workers(data, set(change.remove_workers))
    data["workers"].extend(off)
    if locked_before is not None:
        data["locked_before"] = format_hhmm(locked_before)
    cancelled = set(change.cancel_visits)
    data["visits"] = [v for v in data["visits"] if str(v.get("id")) not in cancelled]
    data.setdefault("clients", []).extend(copy.deepcopy(change.add_clients))
    data["visits"].extend(copy.deepcopy(change.add_visits))
    return data, problems


def apply_scenario(plan_data: Mapping[str, Any], changes: ScenarioChanges, *, seed: int = 0
                   ) -> tuple[dict[str, Any], list[Problem]]:
    """Apply a what-if to a copy of a plan's JSON.

    Parameters
    ----------
    plan_data
        The base plan's contract JSON.
    changes
        Workers added or removed, travel modes, demand scale.
    seed
        Seed of the visits sampled or copied when scaling demand.

    Returns
    -------
    tuple of (dict, list of Problem)
        The scenario plan's JSON and the problems with the changes (unknown ids).
    """
    data = copy.deepcopy(dict(plan_data))
    problems: list[Problem] = []
    workers = _ids(data["workers"])
    for wid in changes.remove_workers:
        if wid not in workers:
            problems.append(Problem("worker", wid, "changes.remove_workers", f"worker {wid!r} is not in the plan"))
    for wid in changes.worker_travel_modes:
        if wid not in workers or wid in changes.remove_workers:
            problems.append(Problem("worker", wid, "changes.worker_travel_modes",
                                    f"worker {wid!r} is not in the scenario"))
    _drop_workers(data, set(changes.remove_workers))
    data["workers"].extend(copy.deepcopy(changes.add_workers))
    for worker in data["workers"]:
        if not isinstance(worker, dict):
            continue
        if changes.travel_mode is not None:
            worker["travel_mode"] = changes.travel_mode
        if str(worker.get("id")) in changes.worker_travel_modes:
            worker["travel_mode"] = changes.worker_travel_modes[str(worker.get("id"))]
    data["visits"] = scale_visits(data["visits"], changes.demand_scale, seed=seed)
    return data, problems


def scale_visits(visits: list[dict[str, Any]], factor: float, *, seed: int = 0) -> list[dict[str, Any]]:
    """Scale the number of visits by ``factor``, reproducibly.

    Below 1, a seeded sample of ``round(n * factor)`` visits is kept in plan
    order; above 1, seeded picks are copied (same client, window and needs) with
    ids suffixed ``~2``, ``~3``... after the original id.

    Parameters
    ----------
    visits
        The visit records.
    factor
        How many visits to have, as a multiple of now.
    seed
        Random seed.

    Returns
    -------
    list of dict
        The new visit records.
    """
    n = len(visits)
    target = round(n * factor)
    if n == 0 or target == n:
        return visits
    rng = random.Random(seed)
    if target < n:
        keep = sorted(rng.sample(range(n), target))
        return [visits[i] for i in keep]
    taken = _ids(visits)
    copies = Counter()
    out = list(visits)
    for i in rng.choices(range(n), k=target - n):
        original = visits[i]
        copies[i] += 1
        number = copies[i] + 1
        new_id = f"{original.get('id')}~{number}"
        while new_id in taken:
            number += 1
            new_id = f"{original.get('id')}~{number}"
        taken.add(new_id)
        out.append({**copy.deepcopy(original), "id": new_id})
    return out


def choose_locks(previous: Roster, plan: Plan, *, before: int | None, keep_untouched_workers: bool,
                 touched_workers: set[str]) -> list[dict[str, Any]]:
    """Pick the stops of the previous roster that the re-optimised roster must keep.

    Parameters
    ----------
    previous
        The roster being changed.
    plan
        The changed plan: locks on workers or visits no longer in it are skipped.
    before
        Keep stops starting before this time (seconds since midnight), if given.
    keep_untouched_workers
        Also keep every stop of the workers not in ``touched_workers``.
    touched_workers
        Workers the change concerns (taken off, or losing a cancelled visit).

    Returns
    -------
    list of dict
        ``{"visit_id", "worker_id", "start"}`` per kept stop (start in seconds),
        chosen by :func:`scheduler.roster.replan_locks` as ``homecare solve --keep``
        does: every stop started before ``before`` (the solve lists one of a worker
        no longer in the plan as unassigned, code ``past``); a double-handed visit
        kept by worker only with both its stops, so that its partners still start
        together.
    """
    from scheduler.roster import replan_locks

    untouched = ({r.worker_id for r in previous.routes if r.stops} - touched_workers
                 if keep_untouched_workers else set())
    kept = replan_locks(previous, plan, before=before, worker_ids=untouched).locked
    return [{"visit_id": s.visit_id, "worker_id": s.worker_id, "start": int(s.start)}
            for s in sorted(kept, key=lambda s: (s.worker_id, s.start, s.visit_id))]


def touched_workers(previous: Roster, change: RosterChange) -> set[str]:
    """Return the workers a change concerns: those taken off and those losing a cancelled visit."""
    cancelled = set(change.cancel_visits)
    touched = set(change.remove_workers)
    touched |= {r.worker_id for r in previous.routes if any(s.visit_id in cancelled for s in r.stops)}
    return touched


def compare_kpis(base: Mapping[str, Any], scenario: Mapping[str, Any]) -> list[KpiComparison]:
    """Put two rosters' KPIs side by side, with the change (scenario minus base)."""
    rows = []
    for name in COMPARED_KPIS:
        a, b = base.get(name), scenario.get(name)
        change = None
        if isinstance(a, int | float) and isinstance(b, int | float):
            change = round(b - a, 4) if isinstance(a, float) or isinstance(b, float) else b - a
        rows.append(KpiComparison(kpi=name, base=a, scenario=b, change=change))
    return rows


def _placements(roster: Roster) -> dict[str, list[Placement]]:
    places: dict[str, list[Placement]] = {}
    for route in roster.routes:
        for stop in route.stops:
            places.setdefault(stop.visit_id, []).append(Placement(worker_id=route.worker_id,
                                                                  start=format_hhmm(stop.start)))
    for found in places.values():
        found.sort(key=lambda p: (p.worker_id, p.start))
    return places


def diff_rosters(previous: Roster, current: Roster, plan: Plan) -> list[VisitChange]:
    """List the visits whose place differs between a roster and its re-optimised successor.

    Parameters
    ----------
    previous
        The roster that was changed.
    current
        The re-optimised roster.
    plan
        The plan of ``current`` (a cancelled visit is no longer in it).

    Returns
    -------
    list of VisitChange
        One entry per visit that moved (same workers, another start), was
        reassigned (other workers), dropped (now unassigned), assigned (was
        unassigned), cancelled or added; by visit id. Visits that stayed put
        are left out.
    """
    before, after = _placements(previous), _placements(current)
    was_unassigned = {u.visit_id for u in previous.unassigned}
    now_unassigned = {u.visit_id for u in current.unassigned}
    known = set(before) | was_unassigned
    changes = []
    for visit_id in sorted(known | set(after) | now_unassigned):
        old, new = before.get(visit_id, []), after.get(visit_id, [])
        if visit_id not in known:
            change = "added"
        elif not plan.has_visit(visit_id):
            change = "cancelled"
        elif old and not new:
            change = "dropped" if visit_id in now_unassigned else "cancelled"
        elif new and not old:
            change = "assigned"
        elif {p.worker_id for p in old} != {p.worker_id for p in new}:
            change = "reassigned"
        elif old != new:
            change = "moved"
        else:
            continue
        changes.append(VisitChange(visit_id=visit_id, change=change, before=old, after=new))
    return changes
