"""Durability and hygiene of the service.

Fsynced private SQLite files, /health when the database is down, an audit log of
refused attempts and key changes, docs that work offline, and one iCalendar writer.
"""

from __future__ import annotations

import os
import re
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import icalendar
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import crud
from api.config import Settings
from api.db import Database, migrate
from api.security import split_key
from homecare_cli.main import app as cli_app
from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    free_port,
    solve,
    submit,
    two_provider_plan,
    wait_job,
)
from tests.helpers import visit, worker

DATE = "2026-12-09"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------- the SQLite file

def test_hygiene_sqlite_file_and_its_wal_and_shm_are_private(tmp_path):
    """A new database file, and its -wal and -shm files, are readable by their owner only (0600)."""
    old = os.umask(0o022)  # the usual umask, which leaves new files world-readable
    try:
        path = tmp_path / "data" / "homecare.db"
        db = Database(f"sqlite:///{path}")
        migrate(db)
        crud.create_key(db=db, role="planner", name="a write, so that the WAL holds a page")
        with db.session() as session:  # an open connection keeps -wal and -shm in place
            assert crud.list_keys(session=session)
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert all(f.exists() for f in files), sorted(p.name for p in path.parent.iterdir())
            assert {f.name: oct(_mode(f)) for f in files} == {f.name: oct(0o600) for f in files}
        db.dispose()
    finally:
        os.umask(old)


def test_hygiene_sqlite_commits_are_fsynced(tmp_path):
    """Every connection runs with synchronous=FULL (2): an acknowledged write survives a power cut."""
    db = Database(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        with db.session() as session:
            assert session.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        db.dispose()


def test_hygiene_an_existing_file_keeps_working(tmp_path):
    """A database file made before (by someone else's umask) still opens; its mode is left alone."""
    path = tmp_path / "old.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    db = Database(f"sqlite:///{path}")
    migrate(db)
    db.dispose()
    assert _mode(path) == 0o640


# --------------------------------------------------------------------------- /health

def test_hygiene_health_answers_503_when_the_database_is_down(tmp_path):
    """/health answers 503 with a message naming the database when it cannot be reached, 200 when it can."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", cache_dir=tmp_path / "cache")
    from api.main import create_app

    with TestClient(create_app(settings)) as api:
        assert api.get("/health").status_code == 200
        live = api.app.state.db
        # The database goes away: a PostgreSQL URL on a port where nothing listens.
        api.app.state.db = Database(f"postgresql+psycopg://homecare:x@127.0.0.1:{free_port()}/homecare")
        try:
            response = api.get("/health")
        finally:
            api.app.state.db.dispose()
            api.app.state.db = live
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["status"] == "unavailable" and "database" in body["detail"]
        assert "Traceback" not in response.text and "x@" not in response.text  # no password, no trace
        assert api.get("/health").status_code == 200


# --------------------------------------------------------------------------- the audit log

def _key_id(key: str) -> str:
    parts = split_key(key)
    assert parts is not None
    return parts[0]


def _audit(coordinator: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = coordinator.get("/audit", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_hygiene_refused_attempts_are_audited(as_role, coordinator, keys):
    """401 (no key, unknown key), 403 (role may not) and 404 for another provider's data each leave a row."""
    assert as_role(None).get("/plans").status_code == 401
    forged = "hc_0123456789ab_" + "A" * 43
    with httpx.Client(base_url=coordinator.base_url, headers={"X-API-Key": forged}) as api:
        assert api.get("/rosters").status_code == 401
    assert as_role("planner").get("/audit", params={"key_id": "zz"}).status_code == 403
    assert as_role("provider:care-1").get("/providers/care-2/visits",
                                          params={"date": DATE}).status_code == 404
    rows = _audit(coordinator)
    refused = [(r["action"], r["resource"], r["key_id"], r["role"]) for r in rows if r["action"].startswith("refused")]
    assert ("refused_401", "GET /plans", None, "") in refused
    assert ("refused_401", "GET /rosters (key 0123456789ab)", None, "") in refused
    assert ("refused_403", "GET /audit", _key_id(keys["planner"]), "planner") in refused
    assert ("refused_404", "GET /providers/care-2/visits", _key_id(keys["provider:care-1"]),
            "provider:care-1") in refused


def test_hygiene_refused_attempt_with_unreadable_path_is_audited(as_role, coordinator):
    """A lone surrogate in the path still answers 404 and leaves a readable row; a NUL is refused before
    any route reads it (422 naming the path, ``api.guards``), so it never reaches a route or the log."""
    provider = as_role("provider:care-1")
    nul = provider.get("/providers/care-2%00x/visits", params={"date": DATE})
    assert nul.status_code == 422 and nul.json()["detail"][0]["record_id"] == "path"
    assert provider.get("/providers/care-2%ED%A0%80y/visits", params={"date": DATE}).status_code == 404
    resources = {r["resource"] for r in _audit(coordinator) if r["action"] == "refused_404"}
    assert not any("\\x00" in r for r in resources)
    assert any(r.startswith("GET /providers/care-2") and r.endswith("y/visits") for r in resources)


def test_hygiene_audit_reads_are_audited(coordinator, keys):
    """Reading the audit log is itself logged, with the filters used."""
    _audit(coordinator, client_id="c-nobody")
    rows = _audit(coordinator, key_id=_key_id(keys["coordinator"]))
    assert any(r["action"] == "read_audit" and r["resource"] == "audit client_id=c-nobody" for r in rows), rows[:5]


def test_hygiene_map_reads_are_audited(as_role, coordinator, keys):
    """Reading a roster's map logs one row per client on it."""
    data = two_provider_plan(DATE)
    job = solve(coordinator, submit(coordinator, data), time_limit_s=0.5)
    response = as_role("planner").get(f"/board/rosters/{job['roster_id']}/map")
    assert response.status_code == 200
    rows = _audit(coordinator, key_id=_key_id(keys["planner"]))
    mapped = {r["client_id"] for r in rows if r["action"] == "read_board_map"
              and r["resource"] == f"roster {job['roster_id']}"}
    shown = {f["properties"].get("client_id") for f in response.json()["features"]} - {None}
    assert mapped and (not shown or shown <= mapped)


def test_hygiene_key_creation_and_revocation_are_audited(tmp_path):
    """``homecare keys create`` and ``keys revoke`` each leave a row naming the key and its role."""
    db_url = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()
    created = runner.invoke(cli_app, ["keys", "create", "--role", "provider:care-1", "--name", "North desk",
                                      "--db", db_url])
    assert created.exit_code == 0, created.output
    key_id = _key_id(created.stdout.strip().splitlines()[-1])
    assert runner.invoke(cli_app, ["keys", "revoke", key_id, "--db", db_url]).exit_code == 0
    db = Database(db_url)
    try:
        with db.session() as session:
            rows, count = crud.list_audit(session=session)
    finally:
        db.dispose()
    got = [(r.action, r.resource, r.key_id) for r in reversed(rows)]
    assert got == [("create_key", f"key {key_id} (provider:care-1, North desk)", None),
                   ("revoke_key", f"key {key_id}", None)]
    assert all(r.key_name.startswith("homecare keys") for r in rows) and count == 2


# --------------------------------------------------------------------------- /docs offline

class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_hygiene_docs_load_nothing_from_another_host(server: LiveServer, page):
    """The docs pages name no other host, and the scripts and styles they load are served by the service."""
    response = httpx.get(f"{server.url}{page}")
    assert response.status_code == 200
    text = response.text
    assert not re.search(r"https?://(?!127\.0\.0\.1)", text), re.findall(r"https?://[^\s\"'<>]+", text)
    assert "fonts.googleapis" not in text and "cdn" not in text.lower()
    parser = _Links()
    parser.feed(text)
    assets = [u for u in parser.urls if u.endswith((".js", ".css"))]
    assert assets
    for url in assets:
        assert not urlsplit(url).netloc
        asset = httpx.get(urljoin(f"{server.url}{page}", url))
        assert asset.status_code == 200 and len(asset.content) > 10_000, url


def test_hygiene_swagger_ui_renders_offline(server: LiveServer):
    """Headless chromium, with every request to another host blocked, draws the Swagger UI of the service."""
    from playwright.sync_api import sync_playwright

    from tests.api.test_board_browser import CHROMIUM

    outside: list[str] = []

    def only_local(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            page.route("**/*", only_local)
            page.goto(f"{server.url}/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            assert "homecare roster service" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock-tag", timeout=30_000)
        finally:
            browser.close()
    assert outside == []


# --------------------------------------------------------------------------- the worker's calendar

def _break_plan() -> dict[str, Any]:
    """Return the two-provider day with a break rule for care-1 and a long day for w1 (so w1 takes a break)."""
    data = two_provider_plan(DATE)
    data["providers"][0]["break"] = {"after_min": 240, "duration_min": 20}
    data["workers"][0] = worker("w1", "care-1", start_location="great_portland_st", shift=("08:00", "17:00"))
    for v in data["visits"]:
        if v["id"] in ("v1", "v2"):
            v["pinned_worker_id"] = "w1"
    data["visits"].append(visit("v6", "c2", provider_id="care-1", window=("15:00", "15:30"), pinned_worker_id="w1"))
    return data


def _events(text: str) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(text).walk("VEVENT"))


def test_hygiene_calendar_uids_survive_replanning_and_breaks_are_listed(coordinator, london_network):
    """The .ics of a re-planned day has the UIDs it had before (date, worker, visit), and its rest breaks."""
    data = _break_plan()
    plan_id = submit(coordinator, data)
    calendars, rosters = [], []
    for seed in (0, 1):
        job = solve(coordinator, plan_id, time_limit_s=0.5, seed=seed)
        roster = coordinator.get(f"/rosters/{job['roster_id']}").json()["roster"]
        assert_valid_roster(data, roster, london_network)
        response = coordinator.get("/workers/w1/day.ics", params={"date": DATE, "roster_id": job["roster_id"]})
        assert response.status_code == 200, response.text
        calendars.append(_events(response.text))
        rosters.append((job["roster_id"], next(r for r in roster["routes"] if r["worker_id"] == "w1")))
    assert rosters[0][0] != rosters[1][0]
    for events, (roster_id, route) in zip(calendars, rosters, strict=True):
        uids = {str(e["uid"]) for e in events}
        assert not any(roster_id in u for u in uids)
        visits = [s["visit_id"] for s in route["stops"] if s.get("kind", "visit") == "visit"]
        assert {"v1", "v2", "v6"} <= set(visits)
        assert {f"20261209-w1-{v}@homecare" for v in visits} <= uids
        breaks = [s for s in route["stops"] if s.get("kind") == "break"]
        rests = [e for e in events if e.get("transp") == "TRANSPARENT"]
        assert breaks and len(rests) == len(breaks)
        assert [e.decoded("dtstart").strftime("%H:%M") for e in rests] == [b["start"] for b in breaks]
        # The service's calendar keeps to what the worker's day shows: no client name, id or coordinates.
        text = b"".join(e.to_ical() for e in events).decode()
        assert "GEO" not in text and "51.5" not in text and not re.search(r"\bc[1-5]\b", text)
    before = {str(e["uid"]) for e in calendars[0] if "-v" in str(e["uid"])}
    after = {str(e["uid"]) for e in calendars[1] if "-v" in str(e["uid"])}
    assert {u for u in before if re.search(r"-v[126]@", u)} == {u for u in after if re.search(r"-v[126]@", u)}
    # Re-planned after w3 went off sick: w1's pinned visits keep their UIDs; w3's calendar is empty.
    response = coordinator.post(f"/rosters/{rosters[1][0]}/reoptimise",
                                json={"time_limit_s": 0.5, "changes": {"remove_workers": ["w3"]}})
    assert response.status_code == 202, response.text
    job = wait_job(coordinator, response.json()["id"])
    assert job["state"] == "succeeded", job
    roster = coordinator.get(f"/rosters/{job['roster_id']}").json()["roster"]
    assert_valid_roster(coordinator.get(f"/plans/{job['plan_id']}").json()["plan"], roster, london_network)
    params = {"date": DATE, "roster_id": job["roster_id"]}
    replanned = _events(coordinator.get("/workers/w1/day.ics", params=params).text)
    assert {f"20261209-w1-{v}@homecare" for v in ("v1", "v2", "v6")} <= {str(e["uid"]) for e in replanned}
    assert any(e.get("transp") == "TRANSPARENT" for e in replanned)
    off = coordinator.get("/workers/w3/day.ics", params=params)
    assert off.status_code == 200 and _events(off.text) == []
    assert not any(r["worker_id"] == "w3" and r["stops"] for r in roster["routes"])
