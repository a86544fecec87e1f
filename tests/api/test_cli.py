"""The service's commands: ``homecare keys create/list/revoke``, ``homecare db upgrade``, ``homecare serve``."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from api.security import split_key
from homecare_cli.main import app
from tests.helpers import ROOT

runner = CliRunner()


def test_cli_keys_create_prints_the_key_once_and_stores_its_hash(tmp_path):
    """``keys create`` prints a working key on stdout; the database holds only its SHA-256."""
    db = f"sqlite:///{tmp_path / 'k.db'}"
    result = runner.invoke(app, ["keys", "create", "--role", "provider:care-1", "--name", "North desk", "--db", db])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    key_id, secret = split_key(key)
    from api import crud
    from api.db import Database

    database = Database(db)
    with database.session() as session:
        [record] = crud.list_keys(session=session)
        assert (record.id, record.role, record.name) == (key_id, "provider:care-1", "North desk")
        assert secret not in record.secret_hash and len(record.secret_hash) == 64
        assert crud.authenticate(session=session, key=key).role == "provider:care-1"
    listed = runner.invoke(app, ["keys", "list", "--db", db])
    assert key_id in listed.stdout and secret not in listed.stdout
    assert runner.invoke(app, ["keys", "revoke", key_id, "--db", db]).exit_code == 0
    with database.session() as session:
        assert crud.authenticate(session=session, key=key) is None
    assert runner.invoke(app, ["keys", "revoke", key_id, "--db", db]).exit_code == 2


def test_cli_keys_create_refuses_unknown_roles(tmp_path):
    """A role outside coordinator, planner, provider:<id>, worker:<id> exits 2 with a message."""
    db = f"sqlite:///{tmp_path / 'k.db'}"
    for role in ("admin", "provider:", "worker:a b"):
        result = runner.invoke(app, ["keys", "create", "--role", role, "--db", db])
        assert result.exit_code == 2 and "is not one of" in result.output


def test_cli_db_upgrade_creates_the_schema(tmp_path):
    """``db upgrade`` runs the shipped Alembic migrations (from the installed package, no alembic.ini)."""
    path = tmp_path / "fresh.db"
    result = runner.invoke(app, ["db", "upgrade", "--db", f"sqlite:///{path}"])
    assert result.exit_code == 0, result.output
    import sqlite3

    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0007",)
        assert "params" in {r[1] for r in conn.execute("PRAGMA table_info(jobs)")}
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert {"plans", "plan_members", "jobs", "rosters", "roster_publications", "scenarios", "api_keys",
            "audit_log", "offers", "bookings"} <= tables


def test_cli_serve_help_names_its_options():
    """``homecare serve --help`` (through the installed entry point module) lists host, port and db."""
    result = subprocess.run([sys.executable, "-m", "homecare_cli", "serve", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--host" in result.stdout and "--port" in result.stdout and "--db" in result.stdout


def test_cli_keys_list_flags_keys_of_the_old_worker_form_with_how_to_reissue(tmp_path):
    """A live key of the old role form ``worker:<id>`` (401 since roles name the provider) is listed as
    refused, with a note saying how to re-issue it; valid and revoked keys carry no such note."""
    from api import crud
    from api.db import Database
    from api.models import ApiKey
    from api.security import new_key

    db = f"sqlite:///{tmp_path / 'k.db'}"
    assert runner.invoke(app, ["keys", "create", "--role", "worker:care-1:w2", "--db", db]).exit_code == 0
    database = Database(db)
    old_id, _key, secret_hash = new_key()
    gone_id, _key, gone_hash = new_key()
    with database.write() as session:
        session.add(ApiKey(id=old_id, name="old carer key", role="worker:w1", secret_hash=secret_hash))
        session.add(ApiKey(id=gone_id, name="", role="worker:w3", secret_hash=gone_hash))
    crud.revoke_key(db=database, key_id=gone_id)
    database.dispose()
    result = runner.invoke(app, ["keys", "list", "--db", db])
    assert result.exit_code == 0, result.output
    [old_row] = [line for line in result.stdout.splitlines() if line.startswith(old_id)]
    assert "refused" in old_row and "worker:w1" in old_row
    notes = [line for line in result.output.splitlines() if "worker:<provider id>:" in line]
    assert len(notes) == 1, result.output
    assert old_id in notes[0] and f"homecare keys revoke {old_id}" in notes[0]
    assert "homecare keys create --role worker:<provider id>:w1" in notes[0]
    [valid_row] = [line for line in result.stdout.splitlines() if "worker:care-1:w2" in line]
    assert " live " in valid_row
