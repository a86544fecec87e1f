"""Solve jobs: run in a process pool, report progress through the database, stop on request.

How a job runs
    A route stores the job as ``queued`` and hands its id to :class:`JobRunner`,
    which keeps at most ``solve_workers`` jobs in a
    :class:`~concurrent.futures.ProcessPoolExecutor` (``spawn`` start method) and
    the rest in its own queue. The solver process (:func:`run_job`) marks the job
    ``running`` with its process id, solves with a :class:`DbReporter` writing
    stage, search time, best objective and places filled to the job row, checks
    the roster with :func:`scheduler.validate.check_roster`, then writes the
    roster and ``succeeded`` in **one** transaction: a roster is never half
    stored, and a job is never reported done without its roster. The event loop
    never waits for a solve; reads stay fast.

How cancel works
    ``cancel`` marks the job ``cancelled`` in the database first (only if it is
    still queued or running, in a write transaction, so it cannot race the final
    write of the solver process), then kills the process solving it with SIGKILL.
    OR-Tools gives our progress callback no way to stop the search, and a
    callback is only called on improving solutions, so a cooperative flag could
    wait for the whole time limit; killing the process stops the search at once
    and frees its memory. A killed worker breaks the pool, so the runner starts a
    new one; any other job that was running in the broken pool (only possible
    with ``solve_workers > 1``) is put back in the queue once. A solver process
    that finds its job no longer ``running`` drops its result.

How a restart recovers
    On start, every job still ``queued`` or ``running`` belonged to a server that
    stopped: it is marked ``interrupted`` and can be re-run (``POST
    /jobs/{id}/rerun``). Plans are stored when submitted and rosters in the same
    transaction that finishes their job, so neither is lost. A solver process
    whose server died notices (its parent process changes) and exits.

One server process runs the jobs of a database: start ``homecare serve`` once
per database (uvicorn ``--workers`` is not supported).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import update

from api import crud
from api.db import Database
from api.models import JobRecord, PlanRecord, RosterRecord, utcnow

log = logging.getLogger("homecare.api.jobs")

#: Least time between two writes of search progress (seconds).
PROGRESS_EVERY_S = 0.5


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
    """Import the solver in a fresh solver process, so that the first job starts at once."""
    import scheduler.io  # noqa: F401
    import scheduler.validate  # noqa: F401
    import solver.routing  # noqa: F401


def init_solver_process(parent_pid: int) -> None:
    """Prepare a solver process: die with the server, ignore Ctrl-C (the server handles it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-parent").start()


class DbReporter:
    """A :class:`solver.Reporter` that writes a job's progress to its row.

    Parameters
    ----------
    db
        The database.
    job_id
        The job.
    """

    def __init__(self, db: Database, job_id: str) -> None:
        self.db = db
        self.job_id = job_id
        self._last = 0.0

    def _write(self, **values: Any) -> bool:
        with self.db.write() as session:
            result = session.execute(update(JobRecord).where(JobRecord.id == self.job_id,
                                                             JobRecord.state == "running")
                                     .values(progress_at=utcnow(), **values))
            return result.rowcount == 1

    def stage(self, name: str, detail: str = "") -> None:
        """Record the stage; raise :class:`JobStopped` if the job was cancelled meanwhile."""
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


def _start(db: Database, job_id: str) -> tuple[dict[str, Any], JobRecord] | None:
    with db.write() as session:
        job = session.get(JobRecord, job_id)
        if job is None or job.state != "queued":
            return None
        job.state = "running"
        job.pid = os.getpid()
        job.started_at = utcnow()
        job.attempts += 1
        job.stage = "network"
        plan = crud.get_plan(session=session, plan_id=job.plan_id, with_data=True)
        assert plan is not None  # foreign key
        session.flush()
        session.expunge(job)
        return plan.data, job


def _finish(db: Database, job: JobRecord, roster: dict[str, Any], violations: list[str], kind: str) -> str | None:
    purpose = "scenario" if kind == "scenario" else ("reoptimise" if kind == "reoptimise" else "solve")
    roster_id = crud.new_id("ro")
    with db.write() as session:
        plan_date = session.get(PlanRecord, job.plan_id).date  # type: ignore[union-attr]
        done = session.execute(
            update(JobRecord).where(JobRecord.id == job.id, JobRecord.state == "running")
            .values(state="succeeded", finished_at=utcnow(), roster_id=roster_id, stage="done", progress_at=utcnow()))
        if done.rowcount != 1:
            return None  # cancelled or interrupted meanwhile: drop the result
        session.add(RosterRecord(id=roster_id, plan_id=job.plan_id, job_id=job.id, purpose=purpose,
                                 previous_roster_id=job.previous_roster_id, date=plan_date, created_at=utcnow(),
                                 kpis=roster["kpis"], violations=violations, data=roster))
    return roster_id


def run_job(job_id: str, database_url: str, cache_dir: str | None) -> str | None:
    """Solve one job (in a solver process) and store its roster.

    Parameters
    ----------
    job_id
        The job, which must be ``queued``.
    database_url
        Where the job, its plan and the roster live.
    cache_dir
        Network and matrix cache folder.

    Returns
    -------
    str or None
        The new roster's id; ``None`` if the job was not queued, was cancelled or
        interrupted meanwhile, or failed (its row then says why).
    """
    from scheduler.errors import PlanError, SchedulerError
    from scheduler.io import plan_from_dict, roster_to_dict
    from scheduler.validate import check_roster
    from api.intake import plan_network_path
    from solver import SolveParams, network_for, solve, travel_for

    db = _process_database(database_url)
    started = _start(db, job_id)
    if started is None:
        return None
    plan_data, job = started
    cache = Path(cache_dir) if cache_dir else None
    try:
        plan = plan_from_dict(plan_data)
        params = SolveParams(time_limit_s=job.time_limit_s, seed=job.seed)
        reporter = DbReporter(db, job_id)
        road = network_for(plan, plan_network_path(plan), cache_dir=cache)
        reporter.stage("matrix")
        travel = travel_for(plan, road, params=params, cache_dir=cache, reporter=reporter)
        options: dict[str, Any] = {}
        if job.locks:
            from scheduler.roster import LockedStop

            options["locked"] = tuple(LockedStop(l["visit_id"], l["worker_id"], int(l["start"])) for l in job.locks)
        result = solve(plan, params=params, travel=travel, reporter=reporter, **options)
        violations = [str(v) for v in check_roster(plan, result.roster, travel=travel)]
        if violations:
            log.error("job %s: roster has %d violation(s): %s", job_id, len(violations), violations[:5])
        return _finish(db, job, roster_to_dict(result.roster), violations, job.kind)
    except JobStopped:
        return None
    except PlanError as exc:
        crud.fail_job(db=db, job_id=job_id, message=f"the plan cannot be solved: {len(exc.problems)} problem(s)",
                      problems=[_problem(p) for p in exc.problems])
    except SchedulerError as exc:
        crud.fail_job(db=db, job_id=job_id, message=str(exc))
    except Exception as exc:  # noqa: BLE001 - recorded on the job, which is what the caller sees
        log.exception("job %s failed", job_id)
        crud.fail_job(db=db, job_id=job_id, message=f"unexpected error: {type(exc).__name__}: {exc}")
    return None


def _problem(p: Any) -> dict[str, Any]:
    return {"record_kind": p.record_kind, "record_id": p.record_id, "field": p.field, "message": p.message}


# --------------------------------------------------------------------------- in the server

class JobRunner:
    """Runs queued jobs in a process pool, at most ``workers`` at a time.

    Parameters
    ----------
    db
        The database.
    workers
        Solver processes running at once.
    cache_dir
        Network and matrix cache folder for the solver processes.
    """

    def __init__(self, db: Database, *, workers: int = 1, cache_dir: Path | None = None) -> None:
        self.db = db
        self.workers = workers
        self.cache_dir = cache_dir
        self._lock = threading.RLock()
        self._queue: deque[str] = deque()
        self._running: dict[str, Future[str | None]] = {}
        self._cancelling: set[str] = set()
        self._requeued: set[str] = set()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    # -- life cycle

    def start(self) -> list[str]:
        """Mark jobs left unfinished by a previous server interrupted, and open the pool.

        Returns
        -------
        list of str
            Ids of the jobs marked interrupted.
        """
        interrupted = crud.interrupt_unfinished(db=self.db)
        if interrupted:
            log.warning("marked %d unfinished job(s) interrupted: %s", len(interrupted), ", ".join(interrupted))
        with self._lock:
            self._executor = self._new_executor()
            self._executor.submit(warm_up)
        return interrupted

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=init_solver_process, initargs=(os.getpid(),))

    def shutdown(self) -> None:
        """Stop the solver processes; their jobs are marked interrupted (they can be re-run)."""
        with self._lock:
            self._closed = True
            pids = self._pool_pids()
            executor, self._executor = self._executor, None
            self._queue.clear()
        for pid in pids:
            _kill(pid)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        crud.interrupt_unfinished(db=self.db)

    # -- jobs

    @property
    def running(self) -> int:
        """Jobs in the pool."""
        return len(self._running)

    @property
    def queued(self) -> int:
        """Jobs waiting for a solver process."""
        return len(self._queue)

    def submit(self, job_id: str) -> None:
        """Queue a stored ``queued`` job."""
        with self._lock:
            self._queue.append(job_id)
            self._dispatch()

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job and stop its solver process.

        Returns
        -------
        bool
            Whether the job was queued or running.
        """
        with self._lock:
            changed, pid = crud.cancel_job(db=self.db, job_id=job_id)
            if not changed:
                return False
            if job_id in self._queue:
                self._queue.remove(job_id)
            if job_id in self._running and pid is not None:
                self._cancelling.add(job_id)
                if pid in self._pool_pids():
                    _kill(pid)
                    log.info("job %s cancelled: killed solver process %d", job_id, pid)
            # A job submitted but not yet started finds itself cancelled and returns at once.
            return True

    def _pool_pids(self) -> set[int]:
        return {p.pid for p in multiprocessing.active_children() if p.pid is not None}

    def _dispatch(self) -> None:
        while self._queue and len(self._running) < self.workers and not self._closed:
            if self._executor is None:
                return
            job_id = self._queue.popleft()
            try:
                future = self._executor.submit(run_job, job_id, self.db.url,
                                               str(self.cache_dir) if self.cache_dir else None)
            except BrokenProcessPool:
                self._queue.appendleft(job_id)
                self._executor = self._new_executor()
                continue
            self._running[job_id] = future
            future.add_done_callback(partial(self._done, job_id))

    def _done(self, job_id: str, future: Future[str | None]) -> None:
        with self._lock:
            self._running.pop(job_id, None)
            cancelled = job_id in self._cancelling
            self._cancelling.discard(job_id)
            exc = None if future.cancelled() else future.exception()
            if isinstance(exc, BrokenProcessPool) and not self._closed:
                # The executor has no public "broken" flag; a submit to a broken one raises.
                if self._executor is not None and getattr(self._executor, "_broken", True):
                    self._executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = self._new_executor()
                    self._executor.submit(warm_up)
                if not cancelled:
                    self._lost_process(job_id)
            elif exc is not None and not self._closed:
                log.error("job %s: %s", job_id, exc)
                crud.fail_job(db=self.db, job_id=job_id, message=f"solver process error: {exc}")
            self._dispatch()

    def _lost_process(self, job_id: str) -> None:
        """A running job lost its process without being cancelled: queue it again once, then fail it."""
        if job_id not in self._requeued and crud.requeue_job(db=self.db, job_id=job_id):
            self._requeued.add(job_id)
            self._queue.appendleft(job_id)
            log.warning("job %s lost its solver process; queued again", job_id)
            return
        crud.fail_job(db=self.db, job_id=job_id,
                      message="the solver process died (out of memory or killed); re-run the job to try again")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
