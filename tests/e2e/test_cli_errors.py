"""Bad command-line input is one clear line and the README's exit code, never a traceback.

Exit codes (README, "Command line"): 0 success, 1 invalid plan or roster, 2 other
errors (a bad option, a missing or unreadable file, an unreachable database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from homecare_cli.main import app
from tests.helpers import LONDON_OSM, plan_dict

runner = CliRunner()


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def _assert_clean_failure(result, code: int, *needles: str) -> str:
    """Exit ``code``, one ``error:`` line holding every needle, and no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = _error_lines(result.output)
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], result.output
    return lines[0]


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    """Return a valid one-visit London plan."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_dict(network=LONDON_OSM)))
    return path


@pytest.fixture
def unroutable_plan(tmp_path: Path) -> Path:
    """Return a plan whose network file is missing: a command that reaches the network fails on it."""
    path = tmp_path / "nonet.json"
    path.write_text(json.dumps(plan_dict(network=tmp_path / "missing.osm")))
    return path


@pytest.mark.parametrize("limit", ["inf", "1e300", "nan", "0", "-3"])
def test_cli_solve_impossible_time_limits_are_clear_errors(plan_file, tmp_path, limit):
    """``--time-limit inf`` (OverflowError before), ``1e300`` (ValueError before), nan, 0, -3: exit 2."""
    result = runner.invoke(app, ["solve", str(plan_file), "--time-limit", limit, "--out", str(tmp_path / "o")])
    _assert_clean_failure(result, 2, "--time-limit")


def test_cli_solve_time_limit_over_the_cap_is_refused_before_any_work(unroutable_plan, tmp_path):
    """``--time-limit 100000`` is refused (it ran for 28 hours), saying how to allow a longer search."""
    result = runner.invoke(app, ["solve", str(unroutable_plan), "--time-limit", "100000",
                                 "--out", str(tmp_path / "o")])
    _assert_clean_failure(result, 2, "--time-limit 100000", "600", "--max-time-limit")


def test_cli_solve_max_time_limit_allows_a_longer_search(unroutable_plan, tmp_path):
    """With ``--max-time-limit 900``, 700 s is accepted: the run goes on to the (missing) network."""
    result = runner.invoke(app, ["solve", str(unroutable_plan), "--time-limit", "700", "--max-time-limit", "900",
                                 "--out", str(tmp_path / "o"), "--no-cache"])
    _assert_clean_failure(result, 2, "no network file at")


def test_cli_solve_time_limit_from_params_file_is_used_and_capped(unroutable_plan, tmp_path):
    """A TOML ``time_limit_s`` counts when no ``--time-limit`` is given, and meets the same cap."""
    toml = tmp_path / "solve.toml"
    toml.write_text("[solve]\ntime_limit_s = 5000\n")
    result = runner.invoke(app, ["solve", str(unroutable_plan), "--params", str(toml), "--out", str(tmp_path / "o")])
    _assert_clean_failure(result, 2, "5000", "600")


@pytest.mark.parametrize(("text", "needle"), [
    ('time_limit_s = "abc"\n', "time_limit_s must be a number"),
    ("time_limit_s = [\n", "not valid TOML"),
    ("extra_operators = 5\n", "extra_operators must be a list of strings"),
])
def test_cli_solve_bad_params_file_is_a_clear_error(plan_file, tmp_path, text, needle):
    """``--params`` with broken TOML or a wrong type: exit 2 naming the file and the field."""
    toml = tmp_path / "solve.toml"
    toml.write_text(text)
    result = runner.invoke(app, ["solve", str(plan_file), "--params", str(toml), "--out", str(tmp_path / "o")])
    _assert_clean_failure(result, 2, str(toml), needle)


def test_cli_solve_missing_params_file_is_a_clear_error(plan_file, tmp_path):
    """A ``--params`` file that is not there: exit 2 naming it."""
    missing = tmp_path / "nope.toml"
    result = runner.invoke(app, ["solve", str(plan_file), "--params", str(missing), "--out", str(tmp_path / "o")])
    _assert_clean_failure(result, 2, str(missing))


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_cli_solve_unusable_out_folder_is_refused_before_the_search(unroutable_plan, tmp_path, where):
    """``--out`` naming a file (or a folder inside one) fails at once, before the network and the search.

    The plan's network is missing, so reaching the network would give another message:
    the ``--out`` message proves the check comes first.
    """
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    out = afile if where == "file" else afile / "sub"
    result = runner.invoke(app, ["solve", str(unroutable_plan), "--out", str(out), "--time-limit", "1"])
    _assert_clean_failure(result, 2, "--out", str(out))
    assert afile.read_text() == "not a folder"


def test_cli_solve_unwritable_out_folder_is_refused_before_the_search(unroutable_plan, tmp_path, monkeypatch):
    """An ``--out`` folder that cannot be written to fails at once (checked by writing a probe file).

    The tests may run as root, for whom no folder is read-only, so the probe's failure is simulated.
    """
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    out = tmp_path / "ro"
    result = runner.invoke(app, ["solve", str(unroutable_plan), "--out", str(out), "--time-limit", "1"])
    _assert_clean_failure(result, 2, "--out", "cannot write")


def _homecare(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HOMECARE_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "homecare_cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def test_cli_serve_bad_setting_is_a_clear_error(tmp_path):
    """``HOMECARE_SOLVE_WORKERS=abc homecare serve``: exit 2 naming the variable, no traceback."""
    done = _homecare("serve", "--port", "0", env={"HOMECARE_SOLVE_WORKERS": "abc",
                                                  "HOMECARE_DB_PATH": str(tmp_path / "x.db")})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "HOMECARE_SOLVE_WORKERS" in done.stderr and "abc" in done.stderr


def test_cli_serve_unreachable_database_is_a_clear_error():
    """``homecare serve --db postgresql://...`` with nothing listening: exit 2, password hidden, no traceback."""
    url = "postgresql+psycopg://postgres:secret@127.0.0.1:9/homecare"
    done = _homecare("serve", "--port", "0", "--db", url)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "cannot reach the database" in done.stderr and "127.0.0.1:9" in done.stderr
    assert "secret" not in done.stderr


def test_cli_keys_on_unreachable_database_is_a_clear_error():
    """``homecare keys list`` against a database that is down: exit 2, no traceback."""
    done = _homecare("keys", "list", "--db", "postgresql+psycopg://postgres:secret@127.0.0.1:9/homecare")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "cannot reach the database" in done.stderr


def test_cli_keys_on_a_database_whose_driver_is_missing_is_a_clear_error():
    """A URL whose driver is not installed (here MySQL's pymysql): exit 2 saying so, no traceback."""
    done = _homecare("keys", "list", "--db", "mysql+pymysql://u:secret@127.0.0.1:9/homecare")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "the database driver for mysql+pymysql is not installed (pymysql)" in done.stderr
    assert "secret" not in done.stderr


def test_cli_keys_revoke_unknown_key_exits_2_not_invalid_plan(tmp_path):
    """Revoking a key that does not exist is a lookup failure (2), not an invalid plan (1)."""
    result = runner.invoke(app, ["keys", "revoke", "hc_nope", "--db", f"sqlite:///{tmp_path / 'k.db'}"])
    assert result.exit_code == 2, result.output
    assert "no live key 'hc_nope'" in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def solved(tmp_path_factory, network_cache_dir) -> Path:
    """Return the roster.json of a one-visit London plan solved for a second."""
    folder = tmp_path_factory.mktemp("solved")
    plan = folder / "plan.json"
    plan.write_text(json.dumps(plan_dict(network=LONDON_OSM)))
    result = runner.invoke(app, ["solve", str(plan), "--time-limit", "1", "-q", "--out", str(folder / "out"),
                                 "--cache-dir", str(network_cache_dir)])
    assert result.exit_code == 0, result.output
    return folder / "out" / "roster.json"


@pytest.mark.parametrize(("args", "option"), [
    (["generate", "--visits", "5", "--out", "{bad}/plan.json"], "--out"),
    (["pay", "{roster}", "--csv", "{bad}/pay.csv"], "--csv"),
    (["pay", "{roster}", "--json", "{bad}/pay.json"], "--json"),
    (["ics", "{roster}", "--worker", "w1", "--out", "{bad}/w1.ics"], "--out"),
    (["map", "{roster}", "--out", "{bad}/map.png"], "--out"),
])
def test_cli_output_files_under_a_file_are_clear_errors(solved, tmp_path, args, option):
    """Every command's output file inside a "folder" that is a file: exit 2 naming the option, no traceback."""
    bad = tmp_path / "afile"
    bad.write_text("not a folder")
    argv = [a.format(bad=bad, roster=solved) for a in args]
    result = runner.invoke(app, argv)
    _assert_clean_failure(result, 2, option, "is a file, not a folder")


@pytest.mark.parametrize("limit", ["inf", "1e300", "nan", "0", "-1"])
def test_cli_bench_impossible_time_limits_are_clear_errors(tmp_path, limit):
    """``homecare bench -t inf`` (and 1e300, nan, 0, -1) is one line naming the option and the longest
    search allowed, exit 2, before any instance runs (no traceback, no results folder)."""
    out = tmp_path / "bench-out"
    result = runner.invoke(app, ["bench", "solomon", "-t", "1", "-t", limit, "--out", str(out)])
    _assert_clean_failure(result, 2, "--time-limit", "86400")
    assert not out.exists()
