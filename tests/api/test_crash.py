"""Crash recovery: kill the server mid-solve, restart it, and find plans, rosters and job states intact."""

from __future__ import annotations

import time

from tests.api.support import (
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
    from scheduler.io import load_plan, plan_to_dict
    from solver.network import load_network

    server = server_factory("crash")
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
        assert api.get(f"/plans/{done_plan}").json()["plan"] == roster_plan(api, done_plan)
        assert api.get(f"/plans/{big_plan}").json()["visits"] == 300
        roster_after = api.get(f"/rosters/{done_job['roster_id']}").json()
        assert dumps(roster_after) == dumps(roster_before)
        assert api.get(f"/jobs/{done_job['id']}").json()["state"] == "succeeded"
        interrupted = api.get(f"/jobs/{killed['id']}").json()
        assert interrupted["state"] == "interrupted" and interrupted["roster_id"] is None
        assert "re-run it" in interrupted["error"]["message"]
        rerun = api.post(f"/jobs/{killed['id']}/rerun", json={"time_limit_s": 3})
        assert rerun.status_code == 202
        finished = wait_job(api, rerun.json()["id"], timeout_s=120)
        assert finished["state"] == "succeeded", finished
        roster = api.get(f"/rosters/{finished['roster_id']}").json()
    assert roster["violations"] == []
    assert_valid_roster(cambridge, roster["roster"], load_network(CAMBRIDGE_OSM, cache_dir=network_cache_dir))


def roster_plan(api, plan_id: str) -> dict:
    """The plan as stored (read twice must give the same records)."""
    return api.get(f"/plans/{plan_id}").json()["plan"]


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
