"""Several servers on one database: job leases with a heartbeat, takeover when a lease expires.

Every test starts real servers (``homecare serve`` in subprocesses) on one database: a SQLite
file, or one PostgreSQL database when ``HOMECARE_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    create_keys,
    process_alive,
    solve,
    submit,
    two_provider_plan,
    wait_job,
    wait_searching,
)

DATE = "2026-12-16"
#: A short lease for the takeover test (seconds), renewed every second.
SHORT_LEASE = {"HOMECARE_JOB_LEASE_S": "4", "HOMECARE_JOB_HEARTBEAT_S": "1"}


@pytest.fixture
def same_database(tmp_path: Path, network_cache_dir: Path) -> Iterator[Callable[..., LiveServer]]:
    """Make another server on the database of a given one; every one is stopped after the test."""
    started: list[LiveServer] = []

    def make(other: LiveServer, name: str, **env: str) -> LiveServer:
        folder = tmp_path / name
        folder.mkdir()
        server = LiveServer(folder / "unused.db", network_cache_dir, folder / "server.log", db_url=other.db_url,
                            **env)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def test_leases_a_second_server_leaves_running_jobs_alone(server_factory, same_database, london_network):
    """A second server starting on the database leaves the first's running job alone: it finishes with
    its roster. Stopping the second server interrupts only its own job."""
    first = server_factory("lease-first")
    key = create_keys(first.db_url, ["coordinator"])["coordinator"]
    first.start()
    data = two_provider_plan(DATE)
    with first.client(key) as api:
        plan_id = submit(api, data)
        # Long enough to still search once the second server answers, even on a busy machine.
        job = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 15}).json()
        wait_job(api, job["id"], until={"running"})
    second = same_database(first, "lease-second").start()
    with second.client(key) as api:
        assert api.get(f"/jobs/{job['id']}").json()["state"] == "running"
        # The first server's one solver process is busy, so the second server runs this one.
        own = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 60}).json()
        wait_searching(api, own["id"])
    own_pid = first.job_row(own["id"])["pid"]
    assert first.job_row(job["id"])["pid"] != own_pid
    second.stop()
    assert not process_alive(own_pid)
    with first.client(key) as api:
        assert api.get(f"/jobs/{own['id']}").json()["state"] == "interrupted"
        done = wait_job(api, job["id"])
        assert done["state"] == "succeeded", done
        roster = api.get(f"/rosters/{done['roster_id']}").json()
    assert roster["job_id"] == job["id"] and roster["violations"] == []
    assert_valid_roster(data, roster["roster"], london_network)
    assert first.job_row(job["id"])["attempts"] == 1


def test_leases_a_killed_servers_job_is_taken_over_when_its_lease_expires(server_factory, same_database,
                                                                          london_network):
    """While its server renews the lease another server leaves a job alone; once the server is killed,
    the job is marked ``interrupted`` when its lease expires (not before), and re-runs elsewhere. A job
    cancelled through a server other than its own stops within a heartbeat."""
    lease_s = float(SHORT_LEASE["HOMECARE_JOB_LEASE_S"])
    first = server_factory("lease-killed", **SHORT_LEASE)
    key = create_keys(first.db_url, ["coordinator"])["coordinator"]
    first.start()
    data = two_provider_plan(DATE)
    with first.client(key) as api:
        plan_id = submit(api, data)
        job = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 60}).json()
        wait_searching(api, job["id"])
    second = same_database(first, "lease-taker", **SHORT_LEASE).start()
    with second.client(key) as api:
        # A job the second server runs (the first is busy), cancelled through the first server:
        # the second server's heartbeat stops its solver process.
        other = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 60}).json()
        wait_searching(api, other["id"])
        other_pid = first.job_row(other["id"])["pid"]
        with first.client(key) as via_first:
            assert via_first.post(f"/jobs/{other['id']}/cancel").json()["state"] == "cancelled"
        t0 = time.monotonic()
        while process_alive(other_pid) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        assert not process_alive(other_pid), "a job cancelled through another server still runs"
        # Longer than a lease: the first server's heartbeat keeps its job its own.
        time.sleep(max(0.0, lease_s + 0.5 - (time.monotonic() - t0)))
        assert api.get(f"/jobs/{job['id']}").json()["state"] == "running"
        pid = first.job_row(job["id"])["pid"]
        first.kill()
        killed_at = time.monotonic()
        assert api.get(f"/jobs/{job['id']}").json()["state"] == "running"
        interrupted = wait_job(api, job["id"], timeout_s=lease_s + 10)
        taken_after = time.monotonic() - killed_at
        assert interrupted["state"] == "interrupted", interrupted
        assert "re-run it" in interrupted["error"]["message"] and interrupted["roster_id"] is None
        assert 1.0 <= taken_after <= lease_s + 4.0, taken_after
        assert not process_alive(pid), "the solver process outlived its server"
        rerun = api.post(f"/jobs/{job['id']}/rerun", json={"time_limit_s": 1})
        assert rerun.status_code == 202, rerun.text
        done = wait_job(api, rerun.json()["id"])
        assert done["state"] == "succeeded", done
        assert_valid_roster(data, api.get(f"/rosters/{done['roster_id']}").json()["roster"], london_network)


def test_leases_two_servers_share_one_queue_and_run_each_job_once(server_factory, same_database,
                                                                 london_network):
    """Jobs queued through either server are claimed by exactly one of them: each runs once, and
    both servers take work from the shared queue."""
    first = server_factory("queue-first")
    key = create_keys(first.db_url, ["coordinator"])["coordinator"]
    first.start()
    second = same_database(first, "queue-second").start()
    data = two_provider_plan(DATE)
    with first.client(key) as one, second.client(key) as two:
        plan_id = submit(one, data)
        jobs = [api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 1, "seed": i}).json()
                for i, api in enumerate([one, two, two, two])]
        finished = [wait_job(one, j["id"], timeout_s=120) for j in jobs]
        assert [j["state"] for j in finished] == ["succeeded"] * len(jobs), finished
        for job in finished:
            roster = one.get(f"/rosters/{job['roster_id']}").json()
            assert roster["job_id"] == job["id"]
            assert_valid_roster(data, roster["roster"], london_network)
        solve(two, plan_id)
    rows = [first.job_row(j["id"]) for j in jobs]
    assert [r["attempts"] for r in rows] == [1] * len(jobs)
    assert len({r["owner"] for r in rows}) == 2, "one server ran every job"


def test_leases_claims_are_atomic_under_racing_servers(tmp_path):
    """Eight runners claiming from one queue at once never claim a job twice, and claim every job."""
    from api import crud
    from api.db import Database, migrate
    from scheduler.io import plan_from_dict
    from tests.api.support import fresh_database_url

    url = fresh_database_url(tmp_path / "claims.db")
    setup = Database(url)
    migrate(setup)
    data = two_provider_plan(DATE)
    plan = crud.create_plan(db=setup, plan=plan_from_dict(data), data=data, created_by=None)
    queued = {crud.create_job(db=setup, kind="solve", plan_id=plan.id, time_limit_s=1, max_queued=None).id
              for _ in range(40)}
    setup.dispose()
    claimed: dict[str, list[str]] = {}
    lock = threading.Lock()
    go = threading.Barrier(8)

    def claim_all(owner: str) -> None:
        db = Database(url)
        go.wait()
        while (job := crud.claim_job(db=db, owner=owner, lease_s=30, pid=1)) is not None:
            with lock:
                claimed.setdefault(job.id, []).append(owner)
        db.dispose()

    threads = [threading.Thread(target=claim_all, args=(f"server-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(claimed) == queued
    assert {job_id: owners for job_id, owners in claimed.items() if len(owners) > 1} == {}


def test_leases_only_the_lease_holder_finishes_a_job(tmp_path):
    """A solver process stores its roster (or a failure) only while its server holds the job's lease:
    not for another owner, not once the lease has run out, and a job taken over stays interrupted."""
    from api import crud
    from api.db import Database, migrate
    from api.jobs import _finish
    from scheduler.io import plan_from_dict
    from tests.api.support import fresh_database_url

    db = Database(fresh_database_url(tmp_path / "finish.db"))
    migrate(db)
    data = two_provider_plan(DATE)
    plan = crud.create_plan(db=db, plan=plan_from_dict(data), data=data, created_by=None)
    roster = {"kpis": {}, "routes": []}

    def claimed(lease_s: float):
        crud.create_job(db=db, kind="solve", plan_id=plan.id, time_limit_s=1, max_queued=None)
        job = crud.claim_job(db=db, owner="server-a", lease_s=lease_s, pid=1)
        assert job is not None and job.state == "running" and job.owner == "server-a"
        return job

    job = claimed(30)
    assert _finish(db, job, "server-b", roster, [], "solve") is None
    assert crud.fail_job(db=db, job_id=job.id, owner="server-b", message="not mine") is False
    assert crud.take_over_expired(db=db) == []  # the lease holds
    assert _finish(db, job, "server-a", roster, [], "solve") is not None

    expired = claimed(0.2)
    time.sleep(0.4)
    assert _finish(db, expired, "server-a", roster, [], "solve") is None
    assert crud.take_over_expired(db=db) == [expired.id]
    assert crud.renew_leases(db=db, owner="server-a", job_ids=[expired.id], lease_s=30) == {expired.id}
    assert crud.fail_job(db=db, job_id=expired.id, owner="server-a", message="too late") is False
    with db.session() as session:
        states = {j.id: (j.state, j.roster_id is not None) for j in crud.list_jobs(session=session)[0]}
    assert states == {job.id: ("succeeded", True), expired.id: ("interrupted", False)}
    db.dispose()


def test_leases_settings_refuse_a_lease_shorter_than_two_heartbeats():
    """A lease that one late heartbeat could lose is refused, naming both settings."""
    from pydantic import ValidationError

    from api.config import Settings

    with pytest.raises(ValidationError, match="job_lease_s .* twice job_heartbeat_s"):
        Settings(job_lease_s=5, job_heartbeat_s=3)
    assert Settings(job_lease_s=6, job_heartbeat_s=3).job_lease_s == 6
