"""Solve jobs: progress, rosters as JSON and CSV, cancel (the search really stops), re-run."""

from __future__ import annotations

import csv
import io
import os
import time

import pytest

from api.jobs import SOLVER_NICE
from tests.api.support import (
    assert_valid_roster,
    create_keys,
    process_alive,
    solve,
    submit,
    two_provider_plan,
    wait_job,
    wait_searching,
)

DATE = "2026-12-02"


def test_jobs_solve_reports_progress_and_stores_a_valid_roster(coordinator, london_network):
    """A solve goes queued → running → succeeded, reports search progress, and its roster passes check_roster."""
    data = two_provider_plan(DATE)
    plan_id = submit(coordinator, data)
    started = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1.0})
    assert started.status_code == 202
    job = started.json()
    assert job["state"] == "queued" and job["kind"] == "solve" and job["time_limit_s"] == 1.0
    job = wait_job(coordinator, job["id"])
    assert job["state"] == "succeeded", job
    progress = job["progress"]
    assert progress["stage"] == "done"
    assert progress["best_objective"] > 0 and progress["elapsed_s"] >= 0
    assert progress["assigned_places"] == progress["total_places"] == 6  # v5 is double-handed
    roster = coordinator.get(f"/rosters/{job['roster_id']}").json()
    assert roster["plan_id"] == plan_id and roster["job_id"] == job["id"] and roster["purpose"] == "solve"
    assert roster["violations"] == []
    assert roster["kpis"]["assigned"] == 5
    assert_valid_roster(data, roster["roster"], london_network)


def test_jobs_roster_csv_has_one_row_per_stop(coordinator, london_network):
    """The CSV roster has the columns of ``homecare solve`` and one row per stop."""
    data = two_provider_plan(DATE)
    job = solve(coordinator, submit(coordinator, data))
    response = coordinator.get(f"/rosters/{job['roster_id']}/csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["worker_id", "provider_id", "stop", "visit_id", "client_id", "postcode", "arrival",
                             "start", "end", "duration_min", "travel_s", "travel_m", "workers_required", "status",
                             "reason"]
    assert sorted(r["visit_id"] for r in rows) == ["v1", "v2", "v3", "v4", "v5", "v5"]
    roster = coordinator.get(f"/rosters/{job['roster_id']}").json()["roster"]
    assert_valid_roster(data, roster, london_network)


def test_jobs_default_and_maximum_time_limits(coordinator):
    """A job without a limit gets the server default; one over the maximum answers 422 naming the setting."""
    plan_id = submit(coordinator, two_provider_plan(DATE))
    too_long = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 500})
    assert too_long.status_code == 422
    assert "HOMECARE_MAX_TIME_LIMIT_S" in too_long.json()["detail"][0]["message"]
    default = coordinator.post(f"/plans/{plan_id}/jobs")
    assert default.status_code == 202 and default.json()["time_limit_s"] == 1.0
    assert wait_job(coordinator, default.json()["id"])["state"] == "succeeded"
    bad = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": -1, "surprise": 1})
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["detail"]}
    assert fields == {"time_limit_s", "surprise"}


def test_jobs_cancel_stops_the_search_and_rerun_solves(server, coordinator, london_network):
    """Cancelling a running search kills its process at once; the pool keeps serving; a re-run succeeds.
    The search runs at a lower priority than the server (requests first).
    """
    data = two_provider_plan(DATE)
    plan_id = submit(coordinator, data)
    job = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 100}).json()
    running = wait_searching(coordinator, job["id"])
    assert running["state"] == "running" and running["progress"]["stage"] == "search"
    assert running["progress"]["assigned_places"] == 6
    pid = server.job_row(job["id"])["pid"]
    assert process_alive(pid)
    server_nice = os.getpriority(os.PRIO_PROCESS, server.process.pid)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, server_nice + SOLVER_NICE)
    t0 = time.monotonic()
    cancelled = coordinator.post(f"/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["error"]["message"] == "cancelled on request"
    while process_alive(pid) and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    assert not process_alive(pid), "the solver process still runs after cancel"
    assert time.monotonic() - t0 < 10
    # Cancelling again is a conflict; the job stays cancelled and gets no roster.
    assert coordinator.post(f"/jobs/{job['id']}/cancel").status_code == 409
    time.sleep(0.5)
    assert coordinator.get(f"/jobs/{job['id']}").json()["roster_id"] is None
    # Re-run with a short limit: a new job on the rebuilt pool.
    rerun = coordinator.post(f"/jobs/{job['id']}/rerun", json={"time_limit_s": 1})
    assert rerun.status_code == 202
    assert rerun.json()["rerun_of"] == job["id"]
    done = wait_job(coordinator, rerun.json()["id"])
    assert done["state"] == "succeeded", done
    assert_valid_roster(data, coordinator.get(f"/rosters/{done['roster_id']}").json()["roster"], london_network)
    assert coordinator.post(f"/jobs/{done['id']}/rerun").status_code == 409


def test_jobs_cancel_a_queued_job(coordinator):
    """A job still waiting for the (single) solver process is cancelled without ever running."""
    plan_id = submit(coordinator, two_provider_plan(DATE))
    first = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 100}).json()
    second = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1}).json()
    wait_searching(coordinator, first["id"])
    assert coordinator.get(f"/jobs/{second['id']}").json()["state"] == "queued"
    assert coordinator.post(f"/jobs/{second['id']}/cancel").json()["state"] == "cancelled"
    assert coordinator.post(f"/jobs/{first['id']}/cancel").json()["state"] == "cancelled"
    second = coordinator.get(f"/jobs/{second['id']}").json()
    assert second["started_at"] is None and second["roster_id"] is None
    listed = coordinator.get("/jobs", params={"plan_id": plan_id, "state": "cancelled"}).json()
    assert {j["id"] for j in listed["data"]} == {first["id"], second["id"]}


def test_jobs_reads_stay_fast_while_a_solve_runs(server, coordinator):
    """While a search runs in its process, reads answer well within a second."""
    data = two_provider_plan(DATE)
    plan_id = submit(coordinator, data)
    done = solve(coordinator, plan_id)
    job = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 100}).json()
    wait_searching(coordinator, job["id"])
    worst = 0.0
    for _ in range(20):
        t0 = time.perf_counter()
        assert coordinator.get(f"/rosters/{done['roster_id']}").status_code == 200
        worst = max(worst, time.perf_counter() - t0)
    coordinator.post(f"/jobs/{job['id']}/cancel")
    assert worst < 1.0


@pytest.fixture(scope="module")
def two_solvers(server_factory) -> tuple:
    """A server of its own with two solver processes and room for two queued jobs, and a coordinator key."""
    server = server_factory("two-solvers", HOMECARE_SOLVE_WORKERS="2", HOMECARE_MAX_QUEUED_JOBS="2",
                            HOMECARE_DEFAULT_TIME_LIMIT_S="1")
    key = create_keys(server.db_url, ["coordinator"])["coordinator"]
    server.start()
    return server, key


@pytest.fixture
def two_solvers_api(two_solvers):
    """A coordinator's client of the two-solver server; jobs a test leaves queued or running are cancelled."""
    server, key = two_solvers
    with server.client(key) as api:
        yield server, api
        for state in ("queued", "running"):
            for job in api.get("/jobs", params={"state": state}).json()["data"]:
                api.post(f"/jobs/{job['id']}/cancel")


def _cancel_and_wait_dead(server, api, job_id: str) -> None:
    pid = server.job_row(job_id)["pid"]
    cancelled = api.post(f"/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
    t0 = time.monotonic()
    while process_alive(pid) and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    assert not process_alive(pid), "the cancelled job's solver process still runs"


def test_jobs_cancel_never_harms_another_running_job(two_solvers_api, london_network):
    """With two solver processes, cancelling the job running beside another, three times over, stops only
    the cancelled jobs: the other is never restarted and succeeds with a valid roster."""
    server, api = two_solvers_api
    data = two_provider_plan(DATE)
    plan_id = submit(api, data)
    healthy = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 12}).json()
    wait_searching(api, healthy["id"])
    beside = 0
    for _ in range(3):
        victim = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 100}).json()
        wait_searching(api, victim["id"])
        beside += api.get(f"/jobs/{healthy['id']}").json()["state"] == "running"
        _cancel_and_wait_dead(server, api, victim["id"])
    assert beside >= 2, "the healthy job ended before two cancels could happen beside it"
    done = wait_job(api, healthy["id"])
    assert done["state"] == "succeeded", done
    assert server.job_row(healthy["id"])["attempts"] == 1, "the healthy job was restarted"
    roster = api.get(f"/rosters/{done['roster_id']}").json()
    assert roster["violations"] == []
    assert_valid_roster(data, roster["roster"], london_network)


def test_jobs_a_full_queue_answers_429_naming_the_limit(two_solvers_api):
    """With both solver processes busy and two jobs queued (HOMECARE_MAX_QUEUED_JOBS=2), every way of
    queueing another job answers 429 naming the limit, with a Retry-After no later than the running
    searches end, and stores nothing; a freed place is taken again."""
    _server, api = two_solvers_api
    plan_id = submit(api, two_provider_plan(DATE))
    running = [api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 100}).json() for _ in range(2)]
    for job in running:
        wait_searching(api, job["id"])
    queued = [api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1}) for _ in range(2)]
    assert [r.status_code for r in queued] == [202, 202]
    assert {api.get(f"/jobs/{r.json()['id']}").json()["state"] for r in queued} == {"queued"}
    refused = [
        api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1}),
        api.post(f"/plans/{plan_id}/scenarios", json={"name": "more", "changes": {"demand_scale": 1.0}}),
    ]
    assert api.post(f"/jobs/{queued[0].json()['id']}/cancel").status_code == 200
    assert api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1}).status_code == 202
    refused.append(api.post(f"/jobs/{queued[0].json()['id']}/rerun"))
    for response in refused:
        assert response.status_code == 429, response.text
        message = response.json()["detail"]
        assert "HOMECARE_MAX_QUEUED_JOBS" in message and "2 queued jobs" in message, message
        assert 1 <= int(response.headers["Retry-After"]) <= 100
    listed = api.get("/jobs", params={"plan_id": plan_id}).json()
    assert listed["count"] == 5  # nothing was stored for the refused requests


def test_jobs_a_refused_scenario_or_reoptimise_stores_no_plan(two_solvers_api):
    """A scenario or a re-optimisation refused with 429 (queue full) leaves no plan, job or scenario
    behind: the plan it derived is stored in the same transaction as its jobs, or not at all."""
    _server, api = two_solvers_api
    plan_id = submit(api, two_provider_plan(DATE))
    roster_id = solve(api, plan_id)["roster_id"]
    for _ in range(2):
        wait_searching(api, api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 100}).json()["id"])
    for _ in range(2):
        assert api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1}).status_code == 202
    plans = api.get("/plans").json()["count"]
    jobs = api.get("/jobs").json()["count"]
    refused = [
        api.post(f"/plans/{plan_id}/scenarios", json={"name": "more", "changes": {"demand_scale": 1.0}}),
        api.post(f"/plans/{plan_id}/scenarios", json={"name": "on the roster", "base_roster_id": roster_id,
                                                      "changes": {"demand_scale": 0.5}}),
        api.post(f"/rosters/{roster_id}/reoptimise", json={"changes": {}, "time_limit_s": 1}),
    ]
    for response in refused:
        assert response.status_code == 429, response.text
        assert "HOMECARE_MAX_QUEUED_JOBS" in response.json()["detail"]
    assert api.get("/plans").json()["count"] == plans, "a refused request left its plan stored"
    assert api.get("/jobs").json()["count"] == jobs


def test_jobs_a_client_far_from_the_roads_fails_the_job_naming_client_and_field(coordinator):
    """The job runs the CLI's plan check (solver.check_plan): a client 5 km from the network's roads
    (more than snap_limit_m) fails the job with a message and a problem naming the client and the field,
    as ``homecare validate`` does; the job went through the ``network`` stage first."""
    data = two_provider_plan(DATE)
    far = next(c for c in data["clients"] if c["id"] == "c2")
    far["location"] = {"lat": far["location"]["lat"] + 0.045, "lon": far["location"]["lon"]}
    plan_id = submit(coordinator, data)
    response = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1})
    assert response.status_code == 202, response.text
    job = wait_job(coordinator, response.json()["id"])
    assert job["state"] == "failed", job
    assert job["progress"]["stage"] in ("network", "matrix"), job
    error = job["error"]
    assert [(p["record_kind"], p["record_id"], p["field"]) for p in error["problems"]] == [
        ("client", "c2", "location")], error
    assert "client 'c2': location is " in error["message"] and "km from the nearest" in error["message"], error
    assert "(1 problem)" in error["message"], error
