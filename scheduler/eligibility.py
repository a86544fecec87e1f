"""Which workers may serve a visit, and, when none can, a reason a coordinator can act on.

A worker is eligible for a visit when they belong to the visit's provider (or,
for a visit with no provider, to a provider of the visit's kind), have every
required skill, are not excluded by the client, match the client's gender
preference, can carry the visit's demand, and their shift can hold the visit
inside its window. Travel is not considered here; the solver does that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scheduler.model import Plan, Visit, Worker
from scheduler.shifts import stints
from scheduler.timeutil import format_hhmm


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The workers who may serve a visit, or why too few can.

    ``reason`` and ``code`` are set when fewer than ``workers_required`` workers
    are eligible; ``code`` is one of ``no_provider``, ``skill``, ``excluded``,
    ``gender``, ``capacity``, ``working_time``, ``shift``, ``pinned``.
    """

    worker_ids: tuple[str, ...]
    reason: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        """Whether enough workers are eligible."""
        return self.reason is None


def serves_kind(plan: Plan, worker: Worker, visit: Visit) -> bool:
    """Return whether ``worker`` belongs to the visit's provider, or to one of its kind."""
    if visit.provider_id is not None:
        return worker.provider_id == visit.provider_id
    return plan.provider(worker.provider_id).kind == visit.kind


def shift_can_hold(worker: Worker, visit: Visit) -> bool:
    """Return whether the visit can start in its window and end inside one of the worker's stints."""
    for stint in stints(worker):
        earliest = max(visit.window.start, stint.start)
        if earliest <= visit.window.end and earliest + visit.duration_s <= stint.end:
            return True
    return False


def _has_time_for(plan: Plan, worker: Worker, visit: Visit) -> bool:
    limit = plan.day_limit_min(worker)
    return (limit is None or limit >= visit.duration_min) and worker.max_visits != 0


def _time_left(plan: Plan, worker: Worker) -> str:
    if worker.max_visits == 0:
        return f"{worker.id} (max_visits 0)"
    limit = plan.day_limit_min(worker)
    cap = plan.provider(worker.provider_id).weekly_cap_min
    return f"{worker.id} ({limit} min left today, {worker.week_worked_min / 60:g} h of {cap / 60:g} h worked this week)"


def _names(ids: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def eligibility(plan: Plan, visit: Visit) -> Eligibility:
    """Find the workers who may serve ``visit``, or say why too few can.

    Rules are applied in order (provider or kind, skills, exclusions, gender,
    capacity, working time left today, shift); the first that leaves fewer than ``workers_required``
    workers is the one reported. A visit with ``pinned_worker_id`` keeps only
    that worker (a double-handed one keeps the others for its second place),
    and fails with code ``pinned`` if that worker breaks a rule.

    Parameters
    ----------
    plan
        A validated plan.
    visit
        One of its visits.

    Returns
    -------
    Eligibility
        Eligible worker ids, and a reason when fewer than ``workers_required`` are eligible.
    """
    client = plan.client(visit.client_id)
    need = visit.workers_required
    who = f"provider {visit.provider_id!r}" if visit.provider_id else f"a {visit.kind} provider"
    skills = sorted(visit.required_skills)
    skill_text = f"skill{'s' if len(skills) > 1 else ''} {', '.join(repr(s) for s in skills)}"

    def ids(workers: Sequence[Worker]) -> str:
        return _names([w.id for w in workers])

    def double(requirement: str, kept: Sequence[Worker]) -> str:
        have = f"only {ids(kept)} {'is' if len(kept) == 1 else 'are'}" if kept else "none is"
        return f"double-handed visit needs 2 workers {requirement}; {have}"

    # Each rule: code, test, message when nobody passes, requirement for a double-up.
    rules: list[tuple[str, Callable[[Worker], bool], Callable[[list[Worker]], str], str]] = [
        ("no_provider", lambda w: serves_kind(plan, w, visit),
         lambda left: f"no worker of {who} is in the plan", f"of {who} in the plan"),
        ("skill", lambda w: visit.required_skills <= w.skills,
         lambda left: f"no worker of {who} has {skill_text}", f"of {who} with {skill_text}"),
        ("excluded", lambda w: w.id not in client.excluded_worker_ids,
         lambda left: f"client {client.id!r} excludes {ids(left)}, every worker who could serve it",
         f"not excluded by client {client.id!r}"),
        ("gender", lambda w: client.gender_preference is None or w.gender == client.gender_preference,
         lambda left: (f"client {client.id!r} prefers gender {client.gender_preference!r} and none of the "
                       f"workers who could serve it ({ids(left)}) is"),
         f"of gender {client.gender_preference!r} (client {client.id!r}'s preference)"),
        ("capacity", lambda w: w.capacity is None or w.capacity >= visit.demand,
         lambda left: (f"demand {visit.demand} exceeds the capacity of every worker who could take it "
                       f"(largest {max((w.capacity or 0) for w in left)})"),
         f"able to carry demand {visit.demand}"),
        ("working_time", lambda w: _has_time_for(plan, w, visit),
         lambda left: (f"every worker who could serve it has used up their working time: "
                       + _names([_time_left(plan, w) for w in left])),
         "with working time left"),
        ("shift", lambda w: shift_can_hold(w, visit),
         lambda left: (f"no worker who could serve it is on shift to start in {visit.window} "
                       f"({visit.duration_min} min); their shifts: " + _names([f"{w.id} {w.shift}" for w in left])),
         f"on shift to start in {visit.window} ({visit.duration_min} min)"),
    ]
    pool = list(plan.workers)
    for code, keep, alone, requirement in rules:
        left = pool
        pool = [w for w in pool if keep(w)]
        if len(pool) < need:
            reason = double(requirement, pool) if need == 2 and pool else alone(left)
            return Eligibility(tuple(w.id for w in pool), reason, code)
    pinned = visit.pinned_worker_id
    if pinned is not None:
        if pinned not in {w.id for w in pool}:
            worker = plan.worker(pinned)
            why = [message for _, message in is_eligible(plan, worker, visit)]
            if not why:
                why = [f"their shift {worker.shift} cannot hold a start in {visit.window} "
                       f"({visit.duration_min} min)"]
            return Eligibility((), f"pinned worker {pinned!r} cannot serve it: {'; '.join(why)}", "pinned")
        if need == 1:
            return Eligibility((pinned,))
    return Eligibility(tuple(w.id for w in pool))


def is_eligible(plan: Plan, worker: Worker, visit: Visit) -> list[tuple[str, str]]:
    """List the rules ``worker`` breaks by serving ``visit`` (empty when eligible).

    Parameters
    ----------
    plan
        A validated plan.
    worker
        The worker.
    visit
        The visit.

    Returns
    -------
    list of (rule, message)
        One entry per broken rule: ``provider``, ``skills``, ``excluded``, ``gender`` or ``capacity``.
    """
    client = plan.client(visit.client_id)
    broken = []
    if not serves_kind(plan, worker, visit):
        want = f"provider {visit.provider_id!r}" if visit.provider_id else f"a {visit.kind} provider"
        broken.append(("provider", f"worker {worker.id!r} of provider {worker.provider_id!r} is not of {want}"))
    missing = visit.required_skills - worker.skills
    if missing:
        broken.append(("skills", f"worker {worker.id!r} lacks skill {', '.join(sorted(missing))}"))
    if worker.id in client.excluded_worker_ids:
        broken.append(("excluded", f"client {client.id!r} excludes worker {worker.id!r}"))
    if client.gender_preference is not None and worker.gender != client.gender_preference:
        broken.append(
            ("gender", f"client {client.id!r} prefers gender {client.gender_preference!r}, "
                       f"worker {worker.id!r} is {worker.gender!r}")
        )
    if worker.capacity is not None and visit.demand > worker.capacity:
        broken.append(("capacity", f"demand {visit.demand} exceeds worker {worker.id!r}'s capacity {worker.capacity}"))
    return broken


def describe_window(visit: Visit) -> str:
    """Return ``start HH:MM-HH:MM, N min`` for messages."""
    return f"start {format_hhmm(visit.window.start)}-{format_hhmm(visit.window.end)}, {visit.duration_min} min"
