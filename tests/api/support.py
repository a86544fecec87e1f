"""Helpers of the service tests: a uvicorn server in a subprocess, plans, polling, roster checks."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy

from scheduler.io import plan_from_dict, roster_from_dict
from scheduler.validate import check_roster
from solver import travel_for
from tests.helpers import ROOT, client, plan_dict, provider, visit, worker

HOST = "127.0.0.1"
#: How plans sent to a test server name the London network: by file name, from the
#: server's network folder (the bundled networks).
LONDON_NETWORK = "london_central_drive.osm"
FINISHED = {"succeeded", "failed", "cancelled", "interrupted"}


def free_port() -> int:
    """Return a TCP port free on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class LiveServer:
    """``homecare serve`` in a subprocess on a free loopback port, with its own SQLite file.

    Parameters
    ----------
    db_path
        The SQLite database file.
    cache_dir
        Network and matrix cache of the solver processes.
    log_path
        Where the server's output goes.
    db_url
        Use this database instead of a new one (a second server on the same database).
    workers
        Server processes (``homecare serve --workers``).
    env
        Further ``HOMECARE_*`` settings.
    """

    def __init__(self, db_path: Path, cache_dir: Path, log_path: Path, *, db_url: str | None = None,
                 workers: int = 1, **env: str) -> None:
        self.db_path = db_path
        self.cache_dir = cache_dir
        self.log_path = log_path
        self.env = env
        self.workers = workers
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._db_url = db_url or fresh_database_url(db_path)

    @property
    def db_url(self) -> str:
        """The database URL: a SQLite file, or a fresh PostgreSQL database (see :func:`fresh_database_url`)."""
        return self._db_url

    @property
    def url(self) -> str:
        """The base URL of the running server."""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout_s: float = 60.0) -> LiveServer:
        """Start the server and wait until ``/health`` answers."""
        self.port = free_port()
        env = {**os.environ, "HOMECARE_CACHE_DIR": str(self.cache_dir), **self.env}
        env.pop("HOMECARE_DATABASE_URL", None)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "homecare_cli", "serve", "--host", HOST, "--port", str(self.port),
             "--db", self.db_url, "--log-level", "warning", "--workers", str(self.workers)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start in {timeout_s} s: {self.log_path.read_text()}")

    def kill(self) -> None:
        """Kill the server process at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server gracefully (SIGINT), killing it if it takes over 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def client(self, key: str | None) -> httpx.Client:
        """Return an HTTP client sending ``key`` as ``X-API-Key``."""
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def job_row(self, job_id: str) -> dict[str, Any]:
        """Read a job's row straight from the database (for its solver process id)."""
        engine = sqlalchemy.create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                row = conn.execute(sqlalchemy.text("SELECT * FROM jobs WHERE id = :id"), {"id": job_id}).mappings().one()
        finally:
            engine.dispose()
        return dict(row)


#: A PostgreSQL server URL (``postgresql+psycopg://user:password@host/``): when set, every test
#: server gets a fresh database there instead of a SQLite file. ``.ci/run`` sets it for a
#: second run of the API tests against a real PostgreSQL.
TEST_DATABASE_ENV = "HOMECARE_TEST_DATABASE_URL"


def fresh_database_url(db_path: Path) -> str:
    """Return a SQLite URL for ``db_path``, or a newly created PostgreSQL database named after it."""
    server = os.environ.get(TEST_DATABASE_ENV)
    if not server:
        return f"sqlite:///{db_path}"
    name = "hc_" + uuid.uuid4().hex[:12]
    admin = sqlalchemy.create_engine(server.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.rstrip("/") + "/" + name


def create_keys(db_url: str, roles: list[str]) -> dict[str, str]:
    """Create one API key per role in a database (migrating it first); return key by role."""
    from api import crud
    from api.db import Database, migrate

    db = Database(db_url)
    migrate(db)
    keys = {role: crud.create_key(db=db, role=role, name=f"test {role}")[1] for role in roles}
    db.dispose()
    return keys


def two_provider_plan(date: str, **extra: Any) -> dict[str, Any]:
    """A central-London day: providers care-1 (w1, w2) and care-2 (w3), five visits, one double-handed.

    Visits v1, v2 and v5 (double-handed) are care-1's, v3 and v4 care-2's, so
    each provider has stops and neither's clients may show in the other's list.
    """
    return plan_dict(
        date=date, network=LONDON_NETWORK,
        providers=[provider("care-1"), provider("care-2")],
        workers=[worker("w1", "care-1", start_location="great_portland_st"),
                 worker("w2", "care-1", start_location="queen_sq"),
                 worker("w3", "care-2", start_location="russell_sq")],
        clients=[client("c1", location="fitzroy_sq", postcode="W1T 1AA"),
                 client("c2", location="gordon_sq", postcode="WC1H 0AA"),
                 client("c3", location="bedford_sq", postcode="WC1B 3AA"),
                 client("c4", location="tavistock_sq", postcode="WC1H 9AA"),
                 client("c5", location="marylebone", postcode="W1G 6AA")],
        visits=[visit("v1", "c1", provider_id="care-1", window=("08:00", "09:00"), tasks=["medication"]),
                visit("v2", "c2", provider_id="care-1", window=("09:00", "10:00")),
                visit("v3", "c3", provider_id="care-2", window=("08:30", "09:30"), tasks=["breakfast", "wash"]),
                visit("v4", "c4", provider_id="care-2", window=("11:00", "12:00")),
                visit("v5", "c5", provider_id="care-1", window=("12:00", "13:00"), workers_required=2,
                      priority="mandatory")],
        **extra)


def submit(api: httpx.Client, plan: dict[str, Any]) -> str:
    """Submit a plan; return its id."""
    response = api.post("/plans", json=plan)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def wait_job(api: httpx.Client, job_id: str, *, timeout_s: float = 90.0,
             until: set[str] = FINISHED) -> dict[str, Any]:
    """Poll a job until its state is in ``until``; return it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        if job["state"] in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout_s} s: {job}")


def wait_searching(api: httpx.Client, job_id: str, *, timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll a job until its search has reported a solution; return it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        assert job["state"] in {"queued", "running"}, job
        if job["progress"]["best_objective"] is not None:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach the search in {timeout_s} s")


def solve(api: httpx.Client, plan_id: str, *, time_limit_s: float = 1.0, seed: int = 0,
          publish: bool = False) -> dict[str, Any]:
    """Start a solve and wait for it to succeed; return the finished job.

    With ``publish`` the roster is then published for every provider of the plan
    (``api`` must be a coordinator's client), so that providers and workers see it.
    """
    response = api.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": time_limit_s, "seed": seed})
    assert response.status_code == 202, response.text
    job = wait_job(api, response.json()["id"])
    assert job["state"] == "succeeded", job
    if publish:
        publish_roster(api, job["roster_id"])
    return job


def publish_roster(api: httpx.Client, roster_id: str, provider_ids: list[str] | None = None) -> dict[str, Any]:
    """Publish a roster (for ``provider_ids``, default every provider of its plan); return its summary."""
    body = {} if provider_ids is None else {"provider_ids": provider_ids}
    response = api.post(f"/rosters/{roster_id}/publish", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "published", response.json()
    return response.json()


def agency_plan(date: str) -> dict[str, Any]:
    """Another agency's day on the same streets that reuses ids of :func:`two_provider_plan`.

    Provider agency-x employs workers w1 and w2 (care-1's ids) and serves clients
    c1 and c3 (their ids again, other people, other postcodes) with visits v1 (a
    hoist visit only agency-x's w1 can do) and v3: a key or look-up that matches
    a worker by id alone mixes the two agencies up.
    """
    return plan_dict(
        date=date, network=LONDON_NETWORK,
        providers=[provider("agency-x")],
        workers=[worker("w1", "agency-x", start_location="russell_sq", skills=["hoist"]),
                 worker("w2", "agency-x", start_location="tavistock_sq")],
        clients=[client("c1", location="bedford_sq", postcode="WC1B 9XX"),
                 client("c3", location="euston_sq", postcode="NW1 9XX")],
        visits=[visit("v1", "c1", provider_id="agency-x", window=("09:00", "10:00"), tasks=["lunch"],
                      required_skills=["hoist"], priority="mandatory"),
                visit("v3", "c3", provider_id="agency-x", window=("10:00", "11:00"))])


def assert_valid_roster(plan_data: dict[str, Any], roster_data: dict[str, Any], network: Any) -> None:
    """Check a roster the service made against its plan with ``check_roster`` and road-network travel."""
    plan = plan_from_dict(plan_data)
    roster = roster_from_dict(roster_data)
    violations = check_roster(plan, roster, travel=travel_for(plan, network))
    assert violations == [], "\n".join(map(str, violations))


def dumps(data: Any) -> str:
    """JSON text of ``data`` (for byte-exact comparisons)."""
    return json.dumps(data, sort_keys=True)


def process_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


PLAN_CSV_LISTS = ("providers", "workers", "clients", "visits")


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Return rows as CSV bytes, the header taken from the first row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def flatten_record(record: dict[str, Any]) -> dict[str, Any]:
    """Flatten a plan record for CSV: nested fields joined by ``_``, lists by ``;``, null as empty."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{k}": v for k, v in value.items()})
        elif isinstance(value, list):
            flat[key] = ";".join(value)
        else:
            flat[key] = "" if value is None else value
    return flat


def csv_plan_files(data: dict[str, Any]) -> dict[str, tuple[str, bytes, str]]:
    """Return a plan's lists as the multipart files of ``POST /plans/csv``."""
    return {name: (f"{name}.csv", csv_bytes([flatten_record(r) for r in data[name]]), "text/csv")
            for name in PLAN_CSV_LISTS}
