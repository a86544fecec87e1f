"""Solve jobs: a queue in the database, each running job in a solver process of its own, leases with a heartbeat.

How a job runs
    A route stores the job as ``queued`` (refused with 429 when
    ``max_queued_jobs`` are queued already) and wakes the :class:`JobRunner`.
    The queue is the ``jobs`` table, shared by every server of the database: a
    runner with a free solver process (at most ``solve_workers``) *claims* the
    oldest queued job (:func:`api.crud.claim_job`, atomic, so only one server
    runs a given job), which makes it ``running`` under the runner's ``owner``
    id (host, process id and a random part) with a lease, and hands it to a
    solver process of its own. The solver process (:func:`run_job`) solves with
    a :class:`DbReporter` writing stage, search time, best objective and places
    filled to the job row, through :func:`solver.run` (the pipeline of
    ``homecare solve``, which also checks the roster with
    :func:`scheduler.validate.check_roster` and the job's locks), then writes the roster and
    ``succeeded`` in **one** transaction, and only while its server still holds
    the lease: a roster is never half stored, a job is never reported done
    without its roster, and a job taken over is never finished twice. The event
    loop never waits for a solve; reads stay fast.

Solver processes
    The runner keeps at most ``solve_workers`` solver processes
    (``multiprocessing``, ``spawn``), each its own: a job runs in one of them,
    which nothing else shares while it runs, so stopping one job can never harm
    another. (A :class:`~concurrent.futures.ProcessPoolExecutor` cannot do
    this: killing one of its workers breaks the whole pool, and every other
    running job with it.) A process that finished a job waits, with the solver
    imported, for the next; one that died is replaced. Each runs in its own
    process group at a lower priority (:data:`SOLVER_NICE`: requests first when
    they share a core with a search), ignores Ctrl-C (the server handles it)
    and exits by itself when its server dies.

Leases and heartbeat
    Every ``job_heartbeat_s`` the runner renews the leases of its running jobs
    for ``job_lease_s`` (times from the database's clock), stops the solver
    process of any job it no longer holds (cancelled through another server, or
    taken over), marks jobs whose lease ran out ``interrupted`` (their server
    died or stopped answering), and claims jobs queued through other servers.
    A running job is **taken over only when its lease has expired**: a server
    starting, or any other server, leaves the jobs of live servers alone.
    A taken-over job is marked ``interrupted`` rather than queued again: its
    server may have died of that very job (a plan too big for its memory), and
    re-running it is the caller's choice (``POST /jobs/{id}/rerun``).

How cancel works
    ``cancel`` marks the job ``cancelled`` in the database first (only if it is
    still queued or running, in a write transaction, so it cannot race the final
    write of the solver process), then kills the process solving it (SIGKILL to
    its process group) if this server runs it; a job running on another server
    is stopped by that server's next heartbeat, and its solver process can no
    longer write progress or a roster meanwhile. OR-Tools gives our progress
    callback no way to stop the search, and a callback is only called on
    improving solutions, so a cooperative flag could wait for the whole time
    limit; killing the process stops the search at once and frees its memory.
    A solver process that dies without being cancelled (killed from outside,
    out of memory) has its job queued again once, then failed.

Stop and restart
    A stopping server kills its solver processes and marks its own running jobs
    ``interrupted`` (other servers' jobs are not touched); queued jobs stay
    queued for any server. A crashed server's running jobs are marked
    ``interrupted`` once their leases run out, by whichever server of the
    database notices first (a restarted one included). Plans are stored when
    submitted and rosters in the same transaction that finishes their job, so
    neither is lost.

Several ``homecare serve`` processes may share one database (PostgreSQL, or a
SQLite file on one host); their clocks need not agree, as leases are timed by
the database's clock. Each is one server process with one runner (and its own
``solve_workers`` solver processes); ``homecare serve --workers N`` starts N of
them on one port.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from api import crud
from api.db import Database
from api.models import JobRecord, PlanRecord, RosterRecord, utcnow

log = logging.getLogger("homecare.api.jobs")

#: Least time between two writes of search progress (seconds).
PROGRESS_EVERY_S = 0.5
#: Niceness a solver process adds to its own (and gives whatever it starts): the server's requests (a quote,
#: a read) run first when they and a search want the same core; a search is time-limited and takes the rest.
SOLVER_NICE = 10


class JobStopped(Exception):
    """The job is no longer running (cancelled or interrupted): stop working on it."""


# --------------------------------------------------------------------------- in the solver process

_PROCESS_DB: dict[str, Database] = {}


def _process_database(url: str) -> Database:
    """One engine per solver process and database URL."""
    if url not in _PROCESS_DB:
        _PROCESS_DB[url] = Database(url)
    return _PROCESS_DB[url]


def _watch_parent(parent_pid: int) -> None:
    """Exit this solver process as soon as the server that started it is gone."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(1)


def warm_up() -> None:
    """Import the solver in a fresh solver process, so that its job starts at once."""
    import scheduler.io  # noqa: F401
    import scheduler.validate  # noqa: F401
    import solver.search  # noqa: F401


def init_solver_process(parent_pid: int) -> None:
    """Prepare a solver process: own process group, lower priority, die with the server, ignore Ctrl-C (the
    server handles it).
    """
    os.setpgrp()  # a kill of the group also stops any process the solver starts
    os.nice(SOLVER_NICE)  # requests first: a search sharing a core with them takes what they leave
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-parent").start()


def solver_process_main(conn: Connection, parent_pid: int) -> None:
    """Body of a solver process: get ready, then solve the jobs it is given, one at a time.

    Parameters
    ----------
    conn
        Receives the arguments of :func:`run_job` (``None`` or end of file: exit), and
        answers each job with :func:`run_job`'s result once the job is over.
    parent_pid
        The server's process id.
    """
    init_solver_process(parent_pid)
    warm_up()
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(run_job(*task))


class DbReporter:
    """A :class:`solver.Reporter` that writes a job's progress to its row.

    Parameters
    ----------
    db
        The database.
    job_id
        The job.
    owner
        The server running it: progress is written only while the job is its.
    """

    def __init__(self, db: Database, job_id: str, owner: str) -> None:
        self.db = db
        self.job_id = job_id
        self.owner = owner
        self._last = 0.0

    def _write(self, **values: Any) -> bool:
        with self.db.write() as session:
            result = session.execute(update(JobRecord).where(JobRecord.id == self.job_id,
                                                             JobRecord.state == "running",
                                                             JobRecord.owner == self.owner)
                                     .values(progress_at=utcnow(), **values))
            return result.rowcount == 1

    def stage(self, name: str, detail: str = "") -> None:
        """Record the stage; raise :class:`JobStopped` if the job was cancelled or taken over meanwhile."""
        if not self._write(stage=name):
            raise JobStopped(self.job_id)

    def advance(self, name: str, done: float, total: float) -> None:
        """Matrix progress is not recorded (the stage says ``matrix``)."""

    def search(self, progress: Any) -> None:
        """Record search time, best objective and places filled (at most every 0.5 s)."""
        now = time.monotonic()
        if now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        # Never raise inside the OR-Tools callback: a cancelled job's process is killed.
        self._write(elapsed_s=round(progress.elapsed_s, 3), best_objective=int(progress.objective),
                    assigned_places=progress.assigned_nodes, total_places=progress.total_nodes,
                    solutions=progress.solutions)


def _start(db: Database, job_id: str, owner: str) -> tuple[dict[str, Any], JobRecord] | None:
    """Read a job claimed by ``owner`` and its plan; ``None`` if it is no longer running as ``owner``'s."""
    with db.session() as session:
        job = session.get(JobRecord, job_id)
        if job is None or job.state != "running" or job.owner != owner:
            return None
        plan = crud.get_plan(session=session, plan_id=job.plan_id, with_data=True)
        assert plan is not None  # foreign key
        session.expunge(job)
        return plan.data, job


def _finish(db: Database, job: JobRecord, owner: str, roster: dict[str, Any], violations: list[str],
            kind: str) -> str | None:
    """Store the roster and mark the job succeeded, in one transaction, if ``owner`` still holds its lease."""
    purpose = "scenario" if kind == "scenario" else ("reoptimise" if kind == "reoptimise" else "solve")
    roster_id = crud.new_id("ro")
    with db.write() as session:
        now = crud.database_now(session)
        plan_date = session.get(PlanRecord, job.plan_id).date  # type: ignore[union-attr]
        done = session.execute(
            update(JobRecord).where(JobRecord.id == job.id, JobRecord.state == "running", JobRecord.owner == owner,
                                    JobRecord.lease_expires_at > now)
            .values(state="succeeded", finished_at=now, roster_id=roster_id, stage="done", progress_at=now,
                    lease_expires_at=None))
        if done.rowcount != 1:
            return None  # cancelled, taken over or lease run out meanwhile: drop the result
        session.add(RosterRecord(id=roster_id, plan_id=job.plan_id, job_id=job.id, purpose=purpose,
                                 previous_roster_id=job.previous_roster_id, date=plan_date, created_at=utcnow(),
                                 kpis=roster["kpis"], violations=violations, data=roster))
    return roster_id


def run_job(job_id: str, owner: str, database_url: str, cache_dir: str | None) -> str | None:
    """Solve one job (in a solver process) and store its roster.

    Parameters
    ----------
    job_id
        The job, which must be ``running`` under ``owner``'s lease (:func:`api.crud.claim_job`).
    owner
        The server that claimed it.
    database_url
        Where the job, its plan and the roster live.
    cache_dir
        Network and matrix cache folder.

    Returns
    -------
    str or None
        The new roster's id; ``None`` if the job was not ``owner``'s, was cancelled or
        taken over meanwhile, or failed (its row then says why).
    """
    from api.intake import plan_network_path
    from scheduler.errors import PlanError, SchedulerError
    from scheduler.io import plan_from_dict, roster_to_dict
    from scheduler.roster import LockedStop
    from solver import SolveParams, run

    db = _process_database(database_url)
    started = _start(db, job_id, owner)
    if started is None:
        return None
    plan_data, job = started
    cache = Path(cache_dir) if cache_dir else None
    try:
        plan = plan_from_dict(plan_data)
        params = SolveParams.from_dict({**(job.params or {}), "time_limit_s": job.time_limit_s, "seed": job.seed})
        locked = tuple(LockedStop(l["visit_id"], l["worker_id"], int(l["start"])) for l in job.locks or ())
        # The pipeline of ``homecare solve``: plan checks, stages network, matrix, model, search, decode; roster check.
        result = run(plan, params=params, network=plan_network_path(plan), cache_dir=cache,
                     reporter=DbReporter(db, job_id, owner), locked=locked)
        violations = [str(v) for v in result.violations]
        if violations:
            log.error("job %s: roster has %d violation(s): %s", job_id, len(violations), violations[:5])
        return _finish(db, job, owner, roster_to_dict(result.roster), violations, job.kind)
    except JobStopped:
        return None
    except PlanError as exc:
        crud.fail_job(db=db, job_id=job_id, owner=owner, message=plan_failure(exc),
                      problems=[_problem(p) for p in exc.problems])
    except SchedulerError as exc:
        crud.fail_job(db=db, job_id=job_id, owner=owner, message=str(exc))
    except Exception as exc:  # noqa: BLE001 - recorded on the job, which is what the caller sees
        log.exception("job %s failed", job_id)
        crud.fail_job(db=db, job_id=job_id, owner=owner, message=f"unexpected error: {type(exc).__name__}: {exc}")
    return None


#: Problems a failed job's message spells out (``error.problems`` lists them all).
MESSAGE_PROBLEMS = 3


def plan_failure(exc: Any) -> str:
    """Return a failed job's message for a plan that fails its checks, naming record and field.

    Parameters
    ----------
    exc
        The :class:`~scheduler.errors.PlanError`.

    Returns
    -------
    str
        ``the plan cannot be solved (1 problem): client 'c2': location is 4.6 km ...``;
        beyond :data:`MESSAGE_PROBLEMS` problems, how many more ``error.problems`` lists.
    """
    from scheduler.text import counted

    problems = exc.problems
    shown = "; ".join(str(p) for p in problems[:MESSAGE_PROBLEMS])
    more = len(problems) - MESSAGE_PROBLEMS
    rest = f"; and {more} more (see error.problems)" if more > 0 else ""
    return f"the plan cannot be solved ({counted(len(problems), 'problem')}): {shown}{rest}"


def _problem(p: Any) -> dict[str, Any]:
    return {"record_kind": p.record_kind, "record_id": p.record_id, "field": p.field, "message": p.message}


# --------------------------------------------------------------------------- in the server

def new_owner_id() -> str:
    """Return an id for a server process: host name, process id and a random part."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


class _SolverProcess:
    """A solver process of the runner and its end of the pipe to it."""

    def __init__(self, context: Any, parent_pid: int) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(target=solver_process_main, args=(child, parent_pid),
                                                    name="homecare-solver")
        self.process.start()
        child.close()  # the process's death then ends the pipe (EOFError here)

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.process.pid is not None
        return self.process.pid

    def kill(self) -> None:
        """Stop the process and whatever it started, at once (SIGKILL to its process group)."""
        if self.process.exitcode is None:  # not yet reaped, so its id is still its own
            _kill(self.pid)

    def close(self) -> None:
        """Reap the (dead or dying) process and close the pipe."""
        self.process.join(timeout=10)
        self.conn.close()


class JobRunner:
    """Claims queued jobs from the database and runs each in a solver process of its own.

    At most ``workers`` solver processes exist at a time, each running one job at
    a time; one that finishes a job waits, warm, for the next. A process that
    dies (killed on cancel, or from outside) takes no other job with it, and is
    replaced.

    Parameters
    ----------
    db
        The database.
    workers
        Solver processes running at once.
    cache_dir
        Network and matrix cache folder for the solver processes.
    lease_s
        How long a running job stays this server's without a renewal (seconds).
    heartbeat_s
        How often leases are renewed and the shared queue looked at (seconds).
    """

    def __init__(self, db: Database, *, workers: int = 1, cache_dir: Path | None = None, lease_s: float = 30.0,
                 heartbeat_s: float = 5.0) -> None:
        self.db = db
        self.workers = workers
        self.cache_dir = cache_dir
        self.lease_s = lease_s
        self.heartbeat_s = heartbeat_s
        #: This server's id in the ``owner`` column of the jobs it runs.
        self.owner = new_owner_id()
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._running: dict[str, _SolverProcess] = {}
        self._idle: list[_SolverProcess] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._queued = 0

    # -- life cycle

    def start(self) -> list[str]:
        """Mark running jobs whose lease ran out interrupted, start a solver process and the heartbeat.

        Jobs of live servers (their leases renewed) are left alone; queued jobs
        are claimed as solver processes come free.

        Returns
        -------
        list of str
            Ids of the jobs marked interrupted.
        """
        interrupted = crud.take_over_expired(db=self.db)
        if interrupted:
            log.warning("marked %d job(s) whose lease ran out interrupted: %s", len(interrupted),
                        ", ".join(interrupted))
        with self._lock:
            self._idle.append(self._new_process())
        self._thread = threading.Thread(target=self._loop, daemon=True, name="job-runner")
        self._thread.start()
        return interrupted

    def shutdown(self) -> None:
        """Stop this server's solver processes; its running jobs (and only those) are marked interrupted."""
        with self._lock:
            self._closed = True
            processes = list(self._running.values()) + self._idle
            self._idle = []
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        # Interrupted first: a solver process finishing now can no longer store its roster.
        crud.interrupt_own(db=self.db, owner=self.owner)
        for solver in processes:
            solver.kill()
        for solver in processes:
            solver.close()

    # -- jobs

    @property
    def running(self) -> int:
        """Jobs running in this server's solver processes."""
        return len(self._running)

    @property
    def queued(self) -> int:
        """Jobs queued in the database (for every server), as last seen by this runner."""
        return self._queued

    def submit(self, job_id: str) -> None:
        """Tell the runner that a ``queued`` job was stored (it is claimed from the database)."""
        self._wake.set()

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job and stop its solver process (no other).

        A job running on another server of the database is stopped by that
        server's next heartbeat.

        Returns
        -------
        bool
            Whether the job was queued or running.
        """
        if not crud.cancel_job(db=self.db, job_id=job_id):
            return False
        with self._lock:
            solver = self._running.get(job_id)
            if solver is not None:
                solver.kill()
                log.info("job %s cancelled: killed solver process %d", job_id, solver.pid)
        return True

    # -- the runner thread

    def _loop(self) -> None:
        next_beat = 0.0
        while not self._closed:
            self._wake.clear()
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.heartbeat_s
                    self._heartbeat()
                self._fill()
            except SQLAlchemyError:
                log.exception("job runner: the database did not answer; trying again in %.1f s", self.heartbeat_s)
            self._wake.wait(timeout=max(0.0, next_beat - time.monotonic()))

    def _heartbeat(self) -> None:
        """Renew this server's leases, stop jobs it lost, take over jobs whose lease ran out."""
        with self._lock:
            mine = list(self._running)
        stopped = crud.renew_leases(db=self.db, owner=self.owner, job_ids=mine, lease_s=self.lease_s)
        for job_id in stopped:
            with self._lock:
                solver = self._running.get(job_id)
                if solver is not None:
                    solver.kill()
                    log.warning("job %s is no longer this server's (cancelled or taken over): killed solver "
                                "process %d", job_id, solver.pid)
        taken = crud.take_over_expired(db=self.db)
        if taken:
            log.warning("marked %d job(s) whose lease ran out interrupted: %s", len(taken), ", ".join(taken))

    def _fill(self) -> None:
        """Claim queued jobs while this server has free solver processes."""
        while True:
            with self._lock:
                if self._closed or len(self._running) >= self.workers:
                    break
                solver = self._take_idle()
                job = crud.claim_job(db=self.db, owner=self.owner, lease_s=self.lease_s, pid=solver.pid)
                if job is None:
                    self._idle.append(solver)
                    break
                self._running[job.id] = solver
                try:
                    solver.conn.send((job.id, self.owner, self.db.url,
                                      str(self.cache_dir) if self.cache_dir else None))
                except OSError:
                    solver.kill()  # it died meanwhile: its waiter hands the job back
                threading.Thread(target=self._wait_for, args=(job.id, solver), daemon=True,
                                 name=f"job-{job.id}").start()
        with self.db.session() as session:
            self._queued = crud.count_jobs(session=session, state="queued")

    def _take_idle(self) -> _SolverProcess:
        """Return a live idle solver process, starting one if there is none."""
        while self._idle:
            solver = self._idle.pop()
            if solver.process.is_alive():
                return solver
            solver.close()
        return self._new_process()

    def _new_process(self) -> _SolverProcess:
        return _SolverProcess(self._context, os.getpid())

    def _wait_for(self, job_id: str, solver: _SolverProcess) -> None:
        """Wait until a job's solver process answers or dies; hand back a job it left unfinished."""
        try:
            solver.conn.recv()
            died = False
        except (EOFError, OSError):
            died = True
            solver.close()
        with self._lock:
            self._running.pop(job_id, None)
            closed = self._closed
            if not closed and not died:
                self._idle.append(solver)
            elif not closed and not self._idle and len(self._running) < self.workers:
                self._idle.append(self._new_process())  # a warm process for the next job
        if not closed:
            try:
                outcome = crud.lost_job(db=self.db, job_id=job_id, owner=self.owner)
            except SQLAlchemyError:
                log.exception("job %s: could not check how its solver process left it", job_id)
                outcome = None
            if outcome is not None:
                log.warning("job %s: its solver process %s without finishing it (exit code %s); %s", job_id,
                            "died" if died else "returned", solver.process.exitcode,
                            "queued again" if outcome == "queued" else "failed")
        self._wake.set()


def _kill(pid: int) -> None:
    """SIGKILL a solver process's group (itself and whatever it started), or the process if it has none yet."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
            return
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
