"""Crash recovery: kill the server mid-solve and around the roster write, restart it, and find plans,
rosters and job states intact: a finished job has its whole roster, an unfinished one none."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy

from tests.api.support import (
    FINISHED,
    assert_valid_roster,
    create_keys,
    dumps,
    process_alive,
    solve,
    submit,
    two_provider_plan,
    wait_job,
    wait_searching,
)
from tests.helpers import CAMBRIDGE_OSM

DATE = "2026-12-09"


def test_crash_kill_mid_solve_then_restart_keeps_everything(server_factory, london_network, network_cache_dir):
    """SIGKILL the server while a solve searches: its solver process exits by itself; after a restart the
    plans and the finished roster are intact, the finished job still succeeded, the killed job is
    ``interrupted`` and re-runs to a valid roster."""
    from scheduler.io import load_plan, plan_from_dict, plan_to_dict
    from solver.network import load_network

    server = server_factory("crash", HOMECARE_JOB_LEASE_S="3", HOMECARE_JOB_HEARTBEAT_S="1")
    key = create_keys(server.db_url, ["coordinator"])["coordinator"]
    server.start()
    with server.client(key) as api:
        done_data = two_provider_plan(DATE)
        done_plan = submit(api, done_data)
        done_job = solve(api, done_plan)
        roster_before = api.get(f"/rosters/{done_job['roster_id']}").json()
        # The bundled Cambridge weekday (300 visits), searching for up to 60 s when killed.
        cambridge = plan_to_dict(load_plan(CAMBRIDGE_OSM.parents[1] / "plans" / "cambridge_weekday.json"))
        cambridge["network"] = CAMBRIDGE_OSM.name  # by name, from the server's network folder
        big_plan = submit(api, cambridge)
        killed = api.post(f"/plans/{big_plan}/jobs", json={"time_limit_s": 60}).json()
        wait_searching(api, killed["id"], timeout_s=90)
    pid = server.job_row(killed["id"])["pid"]
    assert process_alive(pid)

    server.kill()
    t0 = time.monotonic()
    while process_alive(pid) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    assert not process_alive(pid), "the solver process outlived its server"

    server.start()
    with server.client(key) as api:
        # The plans as submitted, read the way the service reads them (plan_from_dict, plan_to_dict).
        assert api.get(f"/plans/{done_plan}").json()["plan"] == plan_to_dict(plan_from_dict(done_data))
        big = api.get(f"/plans/{big_plan}").json()
        assert big["visits"] == 300 and big["plan"] == plan_to_dict(plan_from_dict(cambridge))
        roster_after = api.get(f"/rosters/{done_job['roster_id']}").json()
        assert dumps(roster_after) == dumps(roster_before)
        assert api.get(f"/jobs/{done_job['id']}").json()["state"] == "succeeded"
        interrupted = wait_job(api, killed["id"], timeout_s=15)  # once its 3 s lease runs out
        assert interrupted["state"] == "interrupted" and interrupted["roster_id"] is None
        assert "re-run it" in interrupted["error"]["message"]
        rerun = api.post(f"/jobs/{killed['id']}/rerun", json={"time_limit_s": 3})
        assert rerun.status_code == 202
        finished = wait_job(api, rerun.json()["id"], timeout_s=120)
        assert finished["state"] == "succeeded", finished
        roster = api.get(f"/rosters/{finished['roster_id']}").json()
    assert roster["violations"] == []
    assert_valid_roster(cambridge, roster["roster"], load_network(CAMBRIDGE_OSM, cache_dir=network_cache_dir))


#: When to kill the server and its solver process together, as a power cut would, after the job's stage
#: turns ``decode`` (the search is over: the roster is decoded, checked and stored in one transaction),
#: as shares of the time from then until ``succeeded`` measured on the first job, which is killed just
#: after it succeeded. Every kill costs a server restart (a few seconds).
KILL_AT_SHARES = (0.0, 0.6, 0.95)


def test_crash_kill_around_the_roster_write_leaves_a_whole_roster_or_none(server_factory, london_network):
    """SIGKILL the server and its solver process just as a job finishes, from the end of the search to
    just after the roster is stored: after each restart the job either succeeded with its roster stored
    whole (valid by ``check_roster``) or is ``interrupted`` with no roster stored at all. While the jobs
    run, the database never shows a roster without its succeeded job or a succeeded job without it."""
    server = server_factory("crash-write")
    key = create_keys(server.db_url, ["coordinator"])["coordinator"]
    data = two_provider_plan("2026-12-11")
    engine = sqlalchemy.create_engine(server.db_url)
    outcomes: list[tuple[float | None, str, str]] = []
    window_s = 0.0
    try:
        server.start()
        with server.client(key) as api:
            plan_id = submit(api, data)
        for share in (None, *KILL_AT_SHARES):
            with server.client(key) as api:
                started = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 0.5, "seed": 1})
                assert started.status_code == 202, started.text
                job_id = started.json()["id"]
            row = poll_job_row(engine, job_id, lambda r: r["stage"] == "decode" or r["state"] in FINISHED)
            if share is None:  # the first job: how long from decode to stored, then kill at once
                t0 = time.monotonic()
                row = poll_job_row(engine, job_id, lambda r: r["state"] in FINISHED)
                window_s = time.monotonic() - t0
            elif share:
                time.sleep(share * window_s)
            crash(server, row["pid"])

            server.start()
            with server.client(key) as api:
                # Waits too for a restarted server that takes over a crashed server's job only later.
                job = wait_job(api, job_id, timeout_s=180)
                outcomes.append((share, row["stage"], job["state"]))
                check_whole_roster_or_none(api, engine, job, data, london_network)
    finally:
        server.stop()
        engine.dispose()
    states = {state for _, _, state in outcomes}
    # Both sides of the write were hit: the test did kill around it, not only before or after.
    assert states == {"succeeded", "interrupted"}, (window_s, outcomes)


def poll_job_row(engine: sqlalchemy.Engine, job_id: str, done: Callable[[dict[str, Any]], bool], *,
                 timeout_s: float = 120.0) -> dict[str, Any]:
    """Read a job's row straight from the database, as fast as it goes, until ``done`` holds; return it.

    Every read also checks that the job has a stored roster exactly when it succeeded.
    """
    query = sqlalchemy.text("SELECT j.state, j.stage, j.pid, j.roster_id, "
                            "(SELECT count(*) FROM rosters r WHERE r.job_id = j.id) AS rosters "
                            "FROM jobs j WHERE j.id = :id")
    deadline = time.monotonic() + timeout_s
    row: dict[str, Any] = {}
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            row = dict(conn.execute(query, {"id": job_id}).mappings().one())
            conn.rollback()  # see the next commit of the solver process
            assert row["rosters"] == (1 if row["state"] == "succeeded" else 0), row
            if done(row):
                return row
    raise AssertionError(f"job {job_id} did not get there in {timeout_s} s: {row}")


def crash(server, solver_pid: int | None) -> None:
    """SIGKILL the solver process (if it still runs) and the server at once; wait until both are gone."""
    if solver_pid is not None:
        try:
            os.kill(solver_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.kill()
    deadline = time.monotonic() + 10
    while solver_pid is not None and process_alive(solver_pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert solver_pid is None or not process_alive(solver_pid)


def check_whole_roster_or_none(api, engine: sqlalchemy.Engine, job: dict[str, Any], plan_data: dict[str, Any],
                               network: Any) -> None:
    """A succeeded job has exactly its one roster, whole and valid; an interrupted one has no roster at all."""
    with engine.connect() as conn:
        stored = list(conn.execute(sqlalchemy.text("SELECT id FROM rosters WHERE job_id = :id"),
                                   {"id": job["id"]}).scalars())
    assert job["state"] in {"succeeded", "interrupted"}, job
    if job["state"] == "interrupted":
        assert job["roster_id"] is None and stored == [], (job, stored)
        return
    assert job["roster_id"] is not None and stored == [job["roster_id"]], (job, stored)
    response = api.get(f"/rosters/{job['roster_id']}")
    assert response.status_code == 200, response.text
    roster = response.json()
    assert roster["violations"] == []
    assert roster["kpis"]["visits"] == len(plan_data["visits"])
    assert_valid_roster(plan_data, roster["roster"], network)


def test_crash_graceful_stop_interrupts_running_jobs(server_factory, network_cache_dir):
    """Stopping the server (Ctrl-C) kills running solves and marks them interrupted at once."""
    server = server_factory("graceful")
    key = create_keys(server.db_url, ["planner"])["planner"]
    server.start()
    with server.client(key) as api:
        plan_id = submit(api, two_provider_plan(DATE))
        job = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 60}).json()
        wait_searching(api, job["id"])
    pid = server.job_row(job["id"])["pid"]
    server.stop()
    assert server.process.returncode is not None
    assert not process_alive(pid)
    assert server.job_row(job["id"])["state"] == "interrupted"
