"""Reading and writing records: keyword-only functions that the routes and the solver processes call.

Writes go through :meth:`api.db.Database.write` (one transaction each); reads take
a session. Plans and rosters never change once stored, so their parsed forms are
kept in a small in-memory cache (:class:`ParsedCache`).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, undefer

from api.db import Database
from api.errors import QueueFull
from api.models import (
    ApiKey,
    AuditRecord,
    JobRecord,
    PlanMember,
    PlanRecord,
    RosterPublication,
    RosterRecord,
    ScenarioRecord,
    utcnow,
)
from api.security import Principal, check_role, new_key, secret_matches, split_key
from scheduler.model import Plan
from scheduler.text import printable
from scheduler.roster import Roster

#: Job states in which a job holds no solver process and never will again.
FINISHED_STATES = ("succeeded", "failed", "cancelled", "interrupted")
#: Job states a job can be re-run from.
RERUNNABLE_STATES = ("failed", "cancelled", "interrupted")
#: Roster purposes that count as a day's roster (scenarios do not; ``frontdoor``: a booking or cancellation;
#: ``import``: a roster solved elsewhere, ``POST /plans/{id}/rosters``).
DAY_PURPOSES = ("solve", "reoptimise", "frontdoor", "import")


def new_id(prefix: str) -> str:
    """Return a new random record id such as ``pl_3f9c2a71d04e8b16``."""
    return f"{prefix}_{secrets.token_hex(8)}"


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """Return ``moment`` as a UTC-aware datetime (SQLite hands back naive ones)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- keys

def create_key(*, db: Database, role: str, name: str = "", actor: str = "") -> tuple[ApiKey, str]:
    """Create an API key, and log its creation in the audit log.

    Parameters
    ----------
    db
        The database.
    role
        ``coordinator``, ``planner``, ``provider:<provider id>`` or
        ``worker:<provider id>:<worker id>`` (:func:`api.security.check_role`).
    name
        Who holds it (shown in the audit log).
    actor
        Who created it, for the audit log (``homecare keys (user)``).

    Returns
    -------
    tuple of (ApiKey, str)
        The stored record and the key itself, which is not stored and cannot be shown again.

    Raises
    ------
    ValueError
        If the role is not valid (the old form ``worker:<worker id>`` included).
    """
    check_role(role)
    key_id, key, secret_hash = new_key()
    record = ApiKey(id=key_id, name=name, role=role, secret_hash=secret_hash, created_at=utcnow())
    holder = f"{role}, {name}" if name else role
    with db.write() as session:
        session.add(record)
        session.execute(insert(AuditRecord), _audit_rows(who=None, action="create_key",
                                                         resource=f"key {key_id} ({holder})", actor=actor))
    return record, key


def list_keys(*, session: Session) -> list[ApiKey]:
    """Return every API key record, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(*, db: Database, key_id: str, actor: str = "") -> bool:
    """Revoke a key; return whether a live key had that id (its revocation is then audited, by ``actor``)."""
    with db.write() as session:
        result = session.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                                 .values(revoked_at=utcnow()))
        if result.rowcount != 1:
            return False
        session.execute(insert(AuditRecord), _audit_rows(who=None, action="revoke_key", resource=f"key {key_id}",
                                                         actor=actor))
        return True


def authenticate(*, session: Session, key: str) -> Principal | None:
    """Return who holds ``key``, or ``None`` if it is malformed, unknown or revoked."""
    parts = split_key(key)
    if parts is None:
        return None
    record = session.get(ApiKey, parts[0])
    if record is None or record.revoked_at is not None or not secret_matches(parts[1], record.secret_hash):
        return None
    return Principal(record.id, record.name, record.role)


# --------------------------------------------------------------------------- audit

#: Longest ``action`` and ``resource`` the audit table holds (longer ones are cut, never refused).
AUDIT_ACTION_CHARS = 40
AUDIT_RESOURCE_CHARS = 100


def _audit_rows(*, who: Principal | None, action: str, resource: str, client_ids: Iterable[str] = (),
                actor: str = "") -> list[dict[str, Any]]:
    """Return the audit rows of one action (see :func:`audit`); ``actor`` names a caller with no key."""
    resource = printable(resource)  # a refused request's path is logged as sent
    if len(resource) > AUDIT_RESOURCE_CHARS:
        resource = resource[:AUDIT_RESOURCE_CHARS - 1] + "…"
    base = {"at": utcnow(), "key_id": who.key_id if who else None, "key_name": who.name if who else actor,
            "role": who.role if who else "", "action": action[:AUDIT_ACTION_CHARS], "resource": resource}
    return [{**base, "client_id": c} for c in sorted(set(client_ids))] or [{**base, "client_id": None}]


def audit(*, db: Database, who: Principal | None, action: str, resource: str,
          client_ids: Iterable[str] = ()) -> None:
    """Record an action: one row per client whose data it returned, or one row without a client.

    Parameters
    ----------
    db
        The database.
    who
        The caller (``None`` for a request without a valid key).
    action
        What was done (``read_roster``, ``submit_plan``, ``refused_403`` ...).
    resource
        What it was done to (``roster ro_...``); cut to 100 characters.
    client_ids
        Clients whose data the answer held.
    """
    rows = _audit_rows(who=who, action=action, resource=resource, client_ids=client_ids)
    with db.write() as session:
        session.execute(insert(AuditRecord), rows)


def list_audit(*, session: Session, client_id: str | None = None, key_id: str | None = None,
               limit: int = 100, offset: int = 0) -> tuple[list[AuditRecord], int]:
    """Return audit rows, newest first, and how many match."""
    query = select(AuditRecord)
    if client_id is not None:
        query = query.where(AuditRecord.client_id == client_id)
    if key_id is not None:
        query = query.where(AuditRecord.key_id == key_id)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit).offset(offset))
    return list(rows), count


# --------------------------------------------------------------------------- plans

def _members(plan: Plan) -> set[tuple[str, str, str]]:
    members = {("provider", p.id, p.id) for p in plan.providers}
    members |= {("worker", w.id, w.provider_id) for w in plan.workers}
    return members


def create_plan(*, db: Database, plan: Plan, data: dict[str, Any], created_by: str | None,
                purpose: str = "submitted", base_plan_id: str | None = None,
                changes: dict[str, Any] | None = None, inherit_members: bool = False,
                session: Session | None = None) -> PlanRecord:
    """Store a validated plan (in ``session``'s transaction when one is given).

    Parameters
    ----------
    db
        The database.
    plan
        The validated plan.
    data
        Its contract JSON (``scheduler.io.plan_to_dict``).
    created_by
        Key id of the caller.
    purpose
        ``submitted``, ``reoptimise`` or ``scenario``.
    base_plan_id
        The plan this one was derived from.
    changes
        How it differs from its base.
    inherit_members
        Also list the base plan's providers and workers as members, so that a
        worker taken off the day still finds (an empty) day in the new roster.
    session
        A write session whose transaction also stores what the plan was made
        for (its jobs), so that both are stored or neither is.

    Returns
    -------
    PlanRecord
        The stored record.
    """
    record = PlanRecord(id=new_id("pl"), created_at=utcnow(), created_by=created_by, date=plan.date,
                        network=plan.network, visits=len(plan.visits), workers=len(plan.workers),
                        purpose=purpose, base_plan_id=base_plan_id, changes=changes, data=data)
    if session is not None:
        _store_plan(session, record, _members(plan), inherit_members=inherit_members)
        return record
    with db.write() as s:
        _store_plan(s, record, _members(plan), inherit_members=inherit_members)
    return record


def _store_plan(session: Session, record: PlanRecord, members: set[tuple[str, str, str]], *,
                inherit_members: bool) -> None:
    if inherit_members and record.base_plan_id:
        old = session.execute(select(PlanMember.kind, PlanMember.member_id, PlanMember.provider_id)
                              .where(PlanMember.plan_id == record.base_plan_id))
        known = {(k, m) for k, m, _ in members}
        members |= {(k, m, p) for k, m, p in old if (k, m) not in known}
    session.add(record)
    session.flush()
    session.execute(insert(PlanMember), [{"plan_id": record.id, "kind": k, "member_id": m, "provider_id": p}
                                         for k, m, p in sorted(members)])


def get_plan(*, session: Session, plan_id: str, with_data: bool = False) -> PlanRecord | None:
    """Return a plan record (its ``data`` loaded only when asked), or ``None``."""
    options = [undefer(PlanRecord.data)] if with_data else []
    return session.get(PlanRecord, plan_id, options=options)


def list_plans(*, session: Session, date: dt.date | None = None, limit: int = 100,
               offset: int = 0) -> tuple[list[PlanRecord], int]:
    """Return plans, newest first, and how many match."""
    query = select(PlanRecord)
    if date is not None:
        query = query.where(PlanRecord.date == date)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(PlanRecord.created_at.desc(), PlanRecord.id).limit(limit).offset(offset))
    return list(rows), count


def member_provider(*, session: Session, plan_id: str, worker_id: str) -> str | None:
    """Return the provider of a worker listed in a plan (or its base), or ``None``.

    Worker ids are unique inside one plan, so within a plan this is unambiguous;
    across plans only the pair (provider, worker) names a worker.
    """
    return session.scalar(select(PlanMember.provider_id).where(
        PlanMember.plan_id == plan_id, PlanMember.kind == "worker", PlanMember.member_id == worker_id))


def plan_providers(*, session: Session, plan_id: str) -> list[str]:
    """Return the providers listed in a plan (or its base), sorted."""
    return list(session.scalars(select(PlanMember.member_id).where(
        PlanMember.plan_id == plan_id, PlanMember.kind == "provider").order_by(PlanMember.member_id)))


def lists_provider(*, session: Session, plan_id: str, provider_id: str) -> bool:
    """Whether a plan (or its base) lists a provider."""
    return session.scalar(select(func.count()).select_from(PlanMember).where(
        PlanMember.plan_id == plan_id, PlanMember.kind == "provider", PlanMember.member_id == provider_id)) == 1


def lists_worker(*, session: Session, plan_id: str, provider_id: str, worker_id: str) -> bool:
    """Whether a plan (or its base) lists ``worker_id`` as a worker **of** ``provider_id``."""
    return session.scalar(select(func.count()).select_from(PlanMember).where(
        PlanMember.plan_id == plan_id, PlanMember.kind == "worker", PlanMember.member_id == worker_id,
        PlanMember.provider_id == provider_id)) == 1


# --------------------------------------------------------------------------- jobs

#: Times a job may lose its solver process (killed from outside, out of memory) before it fails.
MAX_ATTEMPTS = 2
#: Retry-After of a full queue when no job is running to estimate a free solver process from (s).
QUEUE_RETRY_FALLBACK_S = 30


def database_now(session: Session) -> dt.datetime:
    """Return the database server's current time (UTC-aware), the one clock every server of a database shares.

    SQLite is a file on this host, so this host's clock is its clock.
    """
    if session.get_bind().dialect.name == "postgresql":
        return aware(session.scalar(select(func.clock_timestamp())))  # type: ignore[return-value]
    return utcnow()


def _check_queue_room(session: Session, max_queued: int) -> None:
    """Raise :class:`~api.errors.QueueFull` if ``max_queued`` jobs are queued already."""
    queued = session.scalar(select(func.count()).select_from(JobRecord).where(JobRecord.state == "queued")) or 0
    if queued < max_queued:
        return
    now = database_now(session)
    ends = [aware(started) + dt.timedelta(seconds=limit)  # type: ignore[operator]
            for started, limit in session.execute(select(JobRecord.started_at, JobRecord.time_limit_s)
                                                  .where(JobRecord.state == "running",
                                                         JobRecord.started_at.is_not(None)))]
    wait = min((end - now).total_seconds() for end in ends) if ends else QUEUE_RETRY_FALLBACK_S
    raise QueueFull(max_queued, max(1, math.ceil(wait)))


def create_job(*, db: Database, kind: str, plan_id: str, time_limit_s: float, max_queued: int | None,
               seed: int = 0, params: dict[str, Any] | None = None, created_by: str | None = None,
               locks: Sequence[dict[str, Any]] = (),
               previous_roster_id: str | None = None, rerun_of: str | None = None,
               session: Session | None = None) -> JobRecord:
    """Store a queued job (in ``session``'s transaction when one is given).

    Parameters
    ----------
    max_queued
        Most jobs the queue may hold (over every server of the database), or
        ``None`` for no limit. Counted in the same write transaction as the insert;
        on PostgreSQL two servers storing at the same moment may each see the
        last free place, so the limit holds within the number of servers.

    Raises
    ------
    api.errors.QueueFull
        If the queue already holds ``max_queued`` jobs (nothing is stored).
    """
    record = JobRecord(id=new_id("jb"), kind=kind, plan_id=plan_id, state="queued", created_at=utcnow(),
                       created_by=created_by, time_limit_s=time_limit_s, seed=seed, params=params or None,
                       locks=list(locks),
                       previous_roster_id=previous_roster_id, rerun_of=rerun_of, attempts=0)
    if session is not None:
        if max_queued is not None:
            _check_queue_room(session, max_queued)
        session.add(record)
        session.flush()
        return record
    with db.write() as s:
        if max_queued is not None:
            _check_queue_room(s, max_queued)
        s.add(record)
    return record


def create_reoptimise(*, db: Database, plan: Plan, data: dict[str, Any], base_plan_id: str,
                      changes: dict[str, Any], previous_roster_id: str, locks: Sequence[dict[str, Any]],
                      time_limit_s: float, seed: int, created_by: str | None,
                      max_queued: int | None) -> tuple[PlanRecord, JobRecord]:
    """Store a re-optimisation's plan and queue its job, in one transaction.

    The plan lists its base's providers and workers as members too (``inherit_members``).

    Returns
    -------
    tuple of PlanRecord and JobRecord
        The stored plan and the queued job.

    Raises
    ------
    api.errors.QueueFull
        If the job queue has no room (``max_queued``); nothing is stored, not even the plan.
    """
    with db.write() as session:
        record = create_plan(db=db, session=session, plan=plan, data=data, created_by=created_by,
                             purpose="reoptimise", base_plan_id=base_plan_id, changes=changes,
                             inherit_members=True)
        job = create_job(db=db, session=session, kind="reoptimise", plan_id=record.id,
                         time_limit_s=time_limit_s, seed=seed, created_by=created_by, locks=locks,
                         previous_roster_id=previous_roster_id, max_queued=max_queued)
    return record, job


def get_job(*, session: Session, job_id: str) -> JobRecord | None:
    """Return a job, or ``None``."""
    return session.get(JobRecord, job_id)


def list_jobs(*, session: Session, state: str | None = None, plan_id: str | None = None,
              limit: int = 100, offset: int = 0) -> tuple[list[JobRecord], int]:
    """Return jobs, newest first, and how many match."""
    query = select(JobRecord)
    if state is not None:
        query = query.where(JobRecord.state == state)
    if plan_id is not None:
        query = query.where(JobRecord.plan_id == plan_id)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(JobRecord.created_at.desc(), JobRecord.id).limit(limit).offset(offset))
    return list(rows), count


def count_jobs(*, session: Session, state: str) -> int:
    """Return how many jobs are in ``state``."""
    return session.scalar(select(func.count()).select_from(JobRecord).where(JobRecord.state == state)) or 0


def claim_job(*, db: Database, owner: str, lease_s: float, pid: int) -> JobRecord | None:
    """Claim the oldest queued job for a server: it becomes ``running``, leased to ``owner``.

    Atomic: of servers claiming at once, one gets each job. SQLite runs one write
    transaction at a time; on PostgreSQL the row is locked (``FOR UPDATE SKIP
    LOCKED``, so other servers claim the next job instead of waiting) and the
    update is conditional on the job still being queued.

    Parameters
    ----------
    db
        The database.
    owner
        The claiming server (:attr:`api.jobs.JobRunner.owner`).
    lease_s
        How long the job stays the server's without a renewal (seconds).
    pid
        The solver process that will run it.

    Returns
    -------
    JobRecord or None
        The claimed job, or ``None`` if none is queued.
    """
    with db.write() as session:
        now = database_now(session)
        job_id = session.scalar(select(JobRecord.id).where(JobRecord.state == "queued")
                                .order_by(JobRecord.created_at, JobRecord.id).limit(1)
                                .with_for_update(skip_locked=True))
        if job_id is None:
            return None
        claimed = session.execute(
            update(JobRecord).where(JobRecord.id == job_id, JobRecord.state == "queued")
            .values(state="running", owner=owner, lease_expires_at=now + dt.timedelta(seconds=lease_s), pid=pid,
                    started_at=now, attempts=JobRecord.attempts + 1, stage="network", progress_at=now,
                    error=None))
        if claimed.rowcount != 1:
            return None
        job = session.get(JobRecord, job_id, populate_existing=True)
        assert job is not None
        return job


def renew_leases(*, db: Database, owner: str, job_ids: Iterable[str], lease_s: float) -> set[str]:
    """Extend the leases of a server's running jobs; return those that were stopped from outside.

    A job stopped from outside was cancelled (possibly through another server)
    or taken over after its lease ran out: its solver process must stop. A job
    its own solver process has just finished is not among them.
    """
    ids = list(job_ids)
    if not ids:
        return set()
    with db.write() as session:
        until = database_now(session) + dt.timedelta(seconds=lease_s)
        held = set(session.scalars(update(JobRecord).where(JobRecord.id.in_(ids), JobRecord.owner == owner,
                                                           JobRecord.state == "running")
                                   .values(lease_expires_at=until).returning(JobRecord.id)))
        others = [i for i in ids if i not in held]
        if not others:
            return set()
        rows = session.execute(select(JobRecord.id, JobRecord.state, JobRecord.owner)
                               .where(JobRecord.id.in_(others)))
        return {i for i, state, by in rows if by != owner or state not in ("succeeded", "failed")}


def _interrupt(jobs: Iterable[JobRecord], now: dt.datetime, why: str) -> list[str]:
    done = []
    for job in jobs:
        job.error = {"message": f"{why} while this job was {job.state}; re-run it with POST /jobs/{job.id}/rerun",
                     "problems": []}
        job.state = "interrupted"
        job.finished_at = now
        job.lease_expires_at = None
        done.append(job.id)
    return done


def take_over_expired(*, db: Database) -> list[str]:
    """Mark running jobs whose lease ran out (their server stopped renewing it) interrupted.

    A job is never taken over while its lease holds, so a server starting, or any
    other server, leaves the running jobs of live servers alone. Jobs running
    without a lease (left by a server of an earlier version) count as expired.

    Returns
    -------
    list of str
        Ids of the jobs marked.
    """
    with db.write() as session:
        now = database_now(session)
        jobs = session.scalars(select(JobRecord).where(
            JobRecord.state == "running",
            or_(JobRecord.lease_expires_at.is_(None), JobRecord.lease_expires_at < now))
            .with_for_update(skip_locked=True))
        return _interrupt(list(jobs), now, "the server running it stopped (its lease ran out)")


def interrupt_own(*, db: Database, owner: str) -> list[str]:
    """Mark a stopping server's running jobs interrupted (and no other server's).

    Returns
    -------
    list of str
        Ids of the jobs marked.
    """
    with db.write() as session:
        now = database_now(session)
        jobs = session.scalars(select(JobRecord).where(JobRecord.state == "running", JobRecord.owner == owner))
        return _interrupt(list(jobs), now, "the server stopped")


def cancel_job(*, db: Database, job_id: str) -> bool:
    """Mark a queued or running job cancelled; return whether it was still queued or running."""
    with db.write() as session:
        job = session.get(JobRecord, job_id)
        if job is None or job.state not in ("queued", "running"):
            return False
        job.state = "cancelled"
        job.finished_at = database_now(session)
        job.lease_expires_at = None
        job.error = {"message": "cancelled on request", "problems": []}
        return True


def lost_job(*, db: Database, job_id: str, owner: str) -> str | None:
    """Handle a job whose solver process ended without finishing it (killed from outside, out of memory).

    The job is queued again (for any server) if it has run fewer than
    :data:`MAX_ATTEMPTS` times, else failed. A job that is no longer running
    under ``owner`` (finished, cancelled, taken over) is left as it is.

    Returns
    -------
    str or None
        ``queued`` or ``failed``; ``None`` if the job was left alone.
    """
    with db.write() as session:
        job = session.get(JobRecord, job_id)
        if job is None or job.state != "running" or job.owner != owner:
            return None
        job.owner = job.lease_expires_at = job.pid = job.stage = None
        if job.attempts < MAX_ATTEMPTS:
            job.state = "queued"
            return "queued"
        job.state = "failed"
        job.finished_at = database_now(session)
        job.error = {"message": "the solver process died (out of memory or killed); re-run the job to try again",
                     "problems": []}
        return "failed"


def fail_job(*, db: Database, job_id: str, owner: str, message: str,
             problems: Sequence[dict[str, Any]] = ()) -> bool:
    """Mark a job running under ``owner``'s lease failed, with the reason; return whether it was."""
    with db.write() as session:
        result = session.execute(
            update(JobRecord).where(JobRecord.id == job_id, JobRecord.state == "running", JobRecord.owner == owner)
            .values(state="failed", finished_at=database_now(session), lease_expires_at=None,
                    error={"message": message, "problems": list(problems)}))
        return result.rowcount == 1


def rerun_job(*, db: Database, job: JobRecord, time_limit_s: float | None, created_by: str | None,
              max_queued: int | None) -> JobRecord:
    """Queue a new job with the inputs of a failed, cancelled or interrupted one.

    A scenario that pointed at the old job points at the new one.

    Raises
    ------
    api.errors.QueueFull
        If the queue already holds ``max_queued`` jobs.
    """
    with db.write() as session:
        new = create_job(db=db, session=session, kind=job.kind, plan_id=job.plan_id,
                         time_limit_s=time_limit_s or job.time_limit_s, seed=job.seed, params=job.params,
                         created_by=created_by,
                         locks=job.locks, previous_roster_id=job.previous_roster_id, rerun_of=job.id,
                         max_queued=max_queued)
        session.execute(update(ScenarioRecord).where(ScenarioRecord.job_id == job.id).values(job_id=new.id))
        session.execute(update(ScenarioRecord).where(ScenarioRecord.base_job_id == job.id)
                        .values(base_job_id=new.id))
    return new


# --------------------------------------------------------------------------- rosters

def get_roster(*, session: Session, roster_id: str, with_data: bool = False) -> RosterRecord | None:
    """Return a roster record (its ``data`` loaded only when asked), or ``None``."""
    options = [undefer(RosterRecord.data)] if with_data else []
    return session.get(RosterRecord, roster_id, options=options)


def list_rosters(*, session: Session, plan_id: str | None = None, date: dt.date | None = None,
                 limit: int = 100, offset: int = 0) -> tuple[list[RosterRecord], int]:
    """Return rosters, newest first, and how many match."""
    query = select(RosterRecord)
    if plan_id is not None:
        query = query.where(RosterRecord.plan_id == plan_id)
    if date is not None:
        query = query.where(RosterRecord.date == date)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(RosterRecord.created_at.desc(), RosterRecord.id)
                           .limit(limit).offset(offset))
    return list(rows), count


def latest_plan_roster(*, session: Session, plan_id: str) -> RosterRecord | None:
    """Return the newest roster of a plan, or ``None``."""
    return session.scalar(select(RosterRecord).where(RosterRecord.plan_id == plan_id)
                          .order_by(RosterRecord.created_at.desc()).limit(1))


# --------------------------------------------------------------------------- publications and day look-ups
# A provider's roster of a date is the one a coordinator published for it last
# (its newest ``roster_publications`` row). Provider and worker views read only
# that roster; every look-up of a worker matches its provider as well as its id.

def _current_publications(date: dt.date | None = None) -> Any:
    """Select the newest publication row of each (date, provider), optionally of one date."""
    newest = select(func.max(RosterPublication.id)).group_by(RosterPublication.date, RosterPublication.provider_id)
    if date is not None:
        newest = newest.where(RosterPublication.date == date)
    return select(RosterPublication).where(RosterPublication.id.in_(newest))


def publish_roster(*, db: Database, roster: RosterRecord, provider_ids: Sequence[str],
                   published_by: str | None) -> None:
    """Make ``roster`` the roster of the day of each provider in ``provider_ids``.

    For each of them it replaces the roster published before; other providers
    keep theirs. The caller checks that the roster may be published and that
    the providers are its plan's.
    """
    now = utcnow()
    with db.write() as session:
        session.execute(insert(RosterPublication), [
            {"date": roster.date, "provider_id": p, "roster_id": roster.id, "published_at": now,
             "published_by": published_by} for p in sorted(set(provider_ids))])


def roster_states(*, session: Session, rosters: Sequence[RosterRecord]) -> dict[str, tuple[str, list[str]]]:
    """Return each roster's state (``draft``, ``published``, ``superseded``) and the providers it is published for."""
    ids = [r.id for r in rosters]
    if not ids:
        return {}
    dates = {r.date for r in rosters}
    current: dict[str, list[str]] = {}
    newest = select(func.max(RosterPublication.id)).where(RosterPublication.date.in_(dates)).group_by(
        RosterPublication.date, RosterPublication.provider_id)
    for roster_id, provider_id in session.execute(
            select(RosterPublication.roster_id, RosterPublication.provider_id)
            .where(RosterPublication.id.in_(newest), RosterPublication.roster_id.in_(ids))
            .order_by(RosterPublication.provider_id)):
        current.setdefault(roster_id, []).append(provider_id)
    ever = set(session.scalars(select(RosterPublication.roster_id).where(RosterPublication.roster_id.in_(ids))))
    return {i: ("published", current[i]) if i in current else ("superseded" if i in ever else "draft", [])
            for i in ids}


def published_roster(*, session: Session, date: dt.date, provider_id: str) -> RosterRecord | None:
    """Return the roster published for a provider on a date, or ``None``."""
    return session.scalar(
        select(RosterRecord).join(RosterPublication, RosterPublication.roster_id == RosterRecord.id)
        .where(RosterPublication.date == date, RosterPublication.provider_id == provider_id)
        .order_by(RosterPublication.id.desc()).limit(1))


def latest_published_roster(*, session: Session, date: dt.date) -> RosterRecord | None:
    """Return the roster of a date published most recently (for any provider), or ``None``."""
    current = _current_publications(date).subquery()
    return session.scalar(
        select(RosterRecord).join(current, current.c.roster_id == RosterRecord.id)
        .order_by(current.c.id.desc()).limit(1))


def published_worker_providers(*, session: Session, date: dt.date, worker_id: str) -> list[str]:
    """Return the providers whose published roster of a date lists a worker ``worker_id`` of theirs, sorted.

    More than one means several providers have a worker of that id that day.
    """
    current = _current_publications(date).subquery()
    return sorted(set(session.scalars(
        select(current.c.provider_id).join(RosterRecord, RosterRecord.id == current.c.roster_id)
        .join(PlanMember, PlanMember.plan_id == RosterRecord.plan_id)
        .where(PlanMember.kind == "worker", PlanMember.member_id == worker_id,
               PlanMember.provider_id == current.c.provider_id))))


def day_roster(*, session: Session, date: dt.date, provider_id: str, worker_id: str | None = None,
               roster_id: str | None = None, published_only: bool = True) -> RosterRecord | None:
    """Return the roster a day view shows, or ``None`` when there is none to show.

    This is the one look-up behind every provider and worker view (visit lists,
    a worker's day and calendar, the board and its map).

    Parameters
    ----------
    session
        A read session.
    date
        The day.
    provider_id
        The provider whose roster it is.
    worker_id
        A worker of that provider: the roster's plan must list this worker **as
        a worker of** ``provider_id`` (another provider's worker of the same id
        does not count).
    roster_id
        A roster of that day to show instead of the published one; it must be a
        solved or re-optimised roster (never a what-if) whose plan lists the
        provider (and worker).
    published_only
        Whether only the roster published for the provider may be shown (every
        provider and worker key); coordinators may name any other with ``roster_id``.

    Returns
    -------
    RosterRecord or None
        ``None`` if nothing matches, or the caller may not see what does.
    """
    published = published_roster(session=session, date=date, provider_id=provider_id)
    if roster_id is None or (published is not None and published.id == roster_id):
        record = published
    elif published_only:
        return None
    else:
        record = get_roster(session=session, roster_id=roster_id)
        if record is None or record.date != date or record.purpose not in DAY_PURPOSES or not lists_provider(
                session=session, plan_id=record.plan_id, provider_id=provider_id):
            return None
    if record is None:
        return None
    if worker_id is not None and not lists_worker(session=session, plan_id=record.plan_id,
                                                  provider_id=provider_id, worker_id=worker_id):
        return None
    return record


# --------------------------------------------------------------------------- scenarios

def create_scenario(*, db: Database, name: str, base_plan_id: str, plan: Plan, data: dict[str, Any],
                    changes: dict[str, Any], base_roster_id: str | None, time_limit_s: float, seed: int,
                    created_by: str | None, max_queued: int | None) -> ScenarioRecord:
    """Store a scenario's plan and the scenario, and queue its solve (and the base's, when it has no
    roster to compare with), all in one transaction.

    Parameters
    ----------
    plan, data
        The scenario's validated plan and its contract JSON (the base plan with the changes).

    Raises
    ------
    api.errors.QueueFull
        If the job queue has no room for its jobs (``max_queued``); nothing is stored, not even the plan.
    """
    with db.write() as session:
        plan_id = create_plan(db=db, session=session, plan=plan, data=data, created_by=created_by,
                              purpose="scenario", base_plan_id=base_plan_id, changes=changes).id
        job = create_job(db=db, session=session, kind="scenario", plan_id=plan_id, time_limit_s=time_limit_s,
                         seed=seed, created_by=created_by, max_queued=max_queued)
        base_job = None
        if base_roster_id is None:
            base_job = create_job(db=db, session=session, kind="solve", plan_id=base_plan_id,
                                  time_limit_s=time_limit_s, seed=seed, created_by=created_by,
                                  max_queued=max_queued)
        record = ScenarioRecord(id=new_id("sc"), name=name, created_at=utcnow(), created_by=created_by,
                                base_plan_id=base_plan_id, plan_id=plan_id, base_roster_id=base_roster_id,
                                base_job_id=base_job.id if base_job else None, job_id=job.id, changes=changes)
        session.add(record)
    return record


def get_scenario(*, session: Session, scenario_id: str) -> ScenarioRecord | None:
    """Return a scenario, or ``None``."""
    return session.get(ScenarioRecord, scenario_id)


# --------------------------------------------------------------------------- parsed cache

class ParsedCache:
    """Parsed plans and rosters by id (both immutable once stored), least recently used dropped.

    Parameters
    ----------
    size
        How many plans (and as many rosters) to keep.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._plans: OrderedDict[str, Plan] = OrderedDict()
        self._rosters: OrderedDict[str, tuple[Roster, dict[str, Any]]] = OrderedDict()
        self._views: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, table: OrderedDict, key: str) -> Any:
        with self._lock:
            if key in table:
                table.move_to_end(key)
                return table[key]
        return None

    def _put(self, table: OrderedDict, key: Any, value: Any, size: int | None = None) -> None:
        with self._lock:
            table[key] = value
            while len(table) > (size or self.size):
                table.popitem(last=False)

    def view(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """Return a value derived from immutable records (a serialised answer), built once.

        Parameters
        ----------
        key
            What the value is, such as ``("roster", roster_id)``; it must name only
            records that never change.
        build
            Makes the value on a miss; a ``None`` result is not kept.
        """
        found = self._get(self._views, key)
        if found is None:
            found = build()
            if found is not None:
                self._put(self._views, key, found, size=self.size * 8)
        return found

    def plan(self, *, session: Session, plan_id: str) -> Plan | None:
        """Return the parsed plan, or ``None`` if there is no such plan."""
        from scheduler.io import plan_from_dict

        found = self._get(self._plans, plan_id)
        if found is None:
            record = get_plan(session=session, plan_id=plan_id, with_data=True)
            if record is None:
                return None
            found = plan_from_dict(record.data)
            self._put(self._plans, plan_id, found)
        return found

    def roster(self, *, session: Session, roster_id: str) -> tuple[Roster, dict[str, Any]] | None:
        """Return the parsed roster and its contract JSON, or ``None`` if there is no such roster."""
        from scheduler.io import roster_from_dict

        found = self._get(self._rosters, roster_id)
        if found is None:
            record = get_roster(session=session, roster_id=roster_id, with_data=True)
            if record is None:
                return None
            found = (roster_from_dict(record.data), record.data)
            self._put(self._rosters, roster_id, found)
        return found
