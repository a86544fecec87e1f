"""Several server processes on one port (``homecare serve --workers N``), and one commit a quote.

``homecare serve --workers 2`` runs two uvicorn server processes on one port and
one SQLite file (or one PostgreSQL database with ``HOMECARE_TEST_DATABASE_URL``):
concurrent quotes from both are stored with no "database is locked", and each
solve job runs once although both processes' runners claim from the one queue.
``POST /offers`` stores its quote (one row, every offer) and its audit row in one
write transaction (one fsynced commit a quote on SQLite).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.config import Settings
from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    create_keys,
    solve,
    submit,
    two_provider_plan,
    wait_job,
)

DATE = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
ASK = {"client_id": "c2", "kind": "care", "duration_min": 30}


def _children(pid: int) -> list[int]:
    """Return the server processes uvicorn started (children running ``multiprocessing`` spawn)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def _count(db_url: str, sql: str, **params: Any) -> int:
    engine = sqlalchemy.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(sql), params).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def two_processes(tmp_path: Path, network_cache_dir: Path, london_network) -> Any:
    """Run ``homecare serve --workers 2`` on a fresh database; a coordinator and a frontdoor key.

    A heartbeat a second: a job queued through one process is claimed by the other's idle runner
    at once.
    """
    server = LiveServer(tmp_path / "homecare.db", network_cache_dir, tmp_path / "server.log",
                        workers=2, HOMECARE_JOB_HEARTBEAT_S="1", HOMECARE_JOB_LEASE_S="10")
    keys = create_keys(server.db_url, ["coordinator", "frontdoor"])
    server.start()
    yield server, keys
    server.stop()


def test_serve_workers_store_concurrent_quotes_and_run_each_job_once(two_processes, london_network):
    """Two server processes on one port: concurrent quotes all succeed, jobs run once, in both.

    40 quotes from 8 threads, a connection each (the kernel hands each connection to either
    process): no error, every offer and audit row stored. Four jobs: each succeeds once (one
    attempt, one roster, valid), and they ran in both processes' solver processes.
    """
    server, keys = two_processes
    assert server.process is not None and len(_children(server.process.pid)) == 2
    data = two_provider_plan(DATE)
    with server.client(keys["coordinator"]) as api:
        plan_id = submit(api, data)
        solve(api, plan_id, time_limit_s=0.5, publish=True)

    answers: list[httpx.Response | BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def quote(n: int) -> None:
        start.wait()
        for _ in range(n):
            try:  # a fresh connection each time, so that either process may accept it
                with server.client(keys["frontdoor"]) as fd:
                    answer: httpx.Response | BaseException = fd.post("/offers", json=ASK)
            except Exception as exc:  # noqa: BLE001 - counted below
                answer = exc
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=quote, args=(5,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    problems = [a if isinstance(a, BaseException) else f"{a.status_code} {a.text[:200]}"
                for a in answers
                if isinstance(a, BaseException) or a.status_code != 200]
    assert len(answers) == 40 and problems == []
    offered = [o["id"] for a in answers if isinstance(a, httpx.Response)
               for o in a.json()["offers"]]
    assert offered and len(set(offered)) == len(offered)
    with_offers = sum(1 for a in answers if isinstance(a, httpx.Response) and a.json()["offers"])
    assert _count(server.db_url, "SELECT count(*) FROM quotes") == with_offers
    assert _count(server.db_url, "SELECT count(*) FROM offers") == 0  # an offer gets its row when booked
    quotes = "SELECT count(*) FROM audit_log WHERE action = 'quote'"
    assert _count(server.db_url, quotes) == 40
    assert "database is locked" not in server.log_path.read_text()

    with server.client(keys["coordinator"]) as api:
        started = [api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 3, "seed": s})
                   for s in range(4)]
        assert [r.status_code for r in started] == [202] * 4
        jobs = [r.json()["id"] for r in started]
        done = [wait_job(api, job_id) for job_id in jobs]
        assert [d["state"] for d in done] == ["succeeded"] * 4, done
        for d in done:
            roster = api.get(f"/rosters/{d['roster_id']}").json()
            assert roster["job_id"] == d["id"] and roster["violations"] == []
            assert_valid_roster(data, roster["roster"], london_network)
    rows = [server.job_row(job_id) for job_id in jobs]
    assert [r["attempts"] for r in rows] == [1] * 4
    for job_id in jobs:
        rosters = "SELECT count(*) FROM rosters WHERE job_id = :j"
        assert _count(server.db_url, rosters, j=job_id) == 1
    # One solver process per server process (HOMECARE_SOLVE_WORKERS=1): the jobs ran in both.
    assert len({r["owner"] for r in rows}) == 2, [r["owner"] for r in rows]


def test_serve_workers_one_write_transaction_stores_a_quotes_offers_and_its_audit_row(
        tmp_path: Path, network_cache_dir: Path, london_network):
    """``POST /offers`` writes its quote row and its ``quote`` audit row in one transaction."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    keys = create_keys(url, ["coordinator", "frontdoor"])
    settings = Settings(database_url=url, cache_dir=network_cache_dir, job_heartbeat_s=300,
                        job_lease_s=3600)
    from api.main import create_app

    with TestClient(create_app(settings)) as api:
        api.headers["X-API-Key"] = keys["coordinator"]
        solve(api, submit(api, two_provider_plan(DATE)), time_limit_s=0.5, publish=True)
        tables: dict[Any, set[str]] = defaultdict(set)
        written: list[set[str]] = []

        def statement(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            if conn.get_execution_options().get("homecare_write"):
                head = sql.split("(")[0].upper()
                tables[conn].update(t for t in ("QUOTES", "OFFERS", "AUDIT_LOG") if f"INTO {t}" in head)

        def commit(conn: Any) -> None:
            if tables.get(conn):
                written.append(tables.pop(conn))

        engine = api.app.state.db.engine
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", commit)
        try:
            answer = api.post("/offers", json=ASK, headers={"X-API-Key": keys["frontdoor"]})
        finally:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine, "commit", commit)
    assert answer.status_code == 200 and answer.json()["offers"], answer.text
    assert written == [{"QUOTES", "AUDIT_LOG"}]
