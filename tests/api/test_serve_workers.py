"""Several server processes on one port (``homecare serve --workers N``), and one commit a quote.

``homecare serve --workers 2`` runs two uvicorn server processes on one port and
one SQLite file (or one PostgreSQL database with ``HOMECARE_TEST_DATABASE_URL``):
concurrent quotes from both are stored with no "database is locked", and each
solve job runs once although both processes' runners claim from the one queue.
``POST /offers`` stores its offers and its audit row in one write transaction
(one fsynced commit a quote on SQLite).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from api.config import Settings
from tests.api.support import (
    create_keys,
    solve,
    submit,
    two_provider_plan,
)

DATE = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
ASK = {"client_id": "c2", "kind": "care", "duration_min": 30}


def test_serve_workers_one_write_transaction_stores_a_quotes_offers_and_its_audit_row(
        tmp_path: Path, network_cache_dir: Path, london_network):
    """``POST /offers`` writes its offers and its ``quote`` audit row in one transaction."""
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
                tables[conn].update(t for t in ("OFFERS", "AUDIT_LOG") if f"INTO {t}" in head)

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
    assert written == [{"OFFERS", "AUDIT_LOG"}]
