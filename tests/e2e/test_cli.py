"""The ``homecare`` command line on small central-London plans: files, exit codes, messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from homecare_cli.main import app
from scheduler.io import load_plan, load_roster
from scheduler.validate import check_roster
from solver import travel_for
from tests.helpers import LONDON_OSM, client, plan_dict, visit, worker

runner = CliRunner()


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    """A three-visit London plan naming the bundled central-London network."""
    data = plan_dict(
        network=LONDON_OSM,
        workers=[worker("w1"), worker("w2", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                visit("v3", "c1", window=("12:00", "13:00"), workers_required=2, priority="mandatory")],
    )
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    return path


def test_cli_solve_writes_valid_roster_files(plan_file, tmp_path, network_cache_dir, london_network):
    """``solve`` writes roster.json and roster.csv; the JSON passes the validator."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(plan_file), "--time-limit", "1", "--out", str(out),
                                 "--cache-dir", str(network_cache_dir)])
    assert result.exit_code == 0, result.output
    assert "3/3 visits assigned" in result.output
    plan = load_plan(plan_file)
    roster = load_roster(out / "roster.json")
    assert check_roster(plan, roster, travel=travel_for(plan, london_network)) == []
    rows = list(csv.DictReader((out / "roster.csv").open()))
    assert len(rows) == 4  # one row per stop: v1, v2 and twice v3
    assert {r["visit_id"] for r in rows} == {"v1", "v2", "v3"}


def test_cli_validate_accepts_a_good_roster_and_rejects_a_broken_one(plan_file, tmp_path, network_cache_dir):
    """``validate`` exits 0 on the solver's roster and 1, naming the rule, on a tampered one."""
    out = tmp_path / "out"
    assert runner.invoke(app, ["solve", str(plan_file), "--time-limit", "1", "--out", str(out), "-q",
                               "--cache-dir", str(network_cache_dir)]).exit_code == 0
    ok = runner.invoke(app, ["validate", str(plan_file), str(out / "roster.json"), "--cache-dir", str(network_cache_dir)])
    assert ok.exit_code == 0, ok.output
    assert "valid (every rule checked)" in ok.output
    data = json.loads((out / "roster.json").read_text())
    stop = next(s for r in data["routes"] for s in r["stops"] if s["visit_id"] == "v1")
    stop["travel_s"] += 120
    stop["start"] = "07:00"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    bad = runner.invoke(app, ["validate", str(plan_file), str(broken), "--cache-dir", str(network_cache_dir)])
    assert bad.exit_code == 1
    assert "[window]" in bad.output and "[travel]" in bad.output


def test_cli_invalid_plan_lists_every_problem_without_traceback(tmp_path):
    """An invalid plan exits 1 and lists each problem by record and field, with no traceback."""
    data = plan_dict(visits=[visit("v1", window=("09:00", "08:00")), visit("v2", "nobody")])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 1
    assert "visit 'v1': window end 08:00 is before start 09:00" in result.output
    assert "visit 'v2'" in result.output and "client_id 'nobody'" in result.output
    assert "Traceback" not in result.output


def test_cli_missing_files_are_clear_errors(tmp_path):
    """A missing plan or network file is one clear line and exit code 2."""
    result = runner.invoke(app, ["solve", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "no plan at" in result.output
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_dict(network=tmp_path / "missing.osm")))
    result = runner.invoke(app, ["solve", str(path), "--no-cache"])
    assert result.exit_code == 2 and "no network file at" in result.output
    assert "Traceback" not in result.output


def test_cli_far_location_names_the_record(tmp_path, network_cache_dir):
    """A client 20 km from the network's roads is a plan error naming the client and field."""
    data = plan_dict(network=LONDON_OSM, clients=[client("c1", location=(51.70, -0.13))])
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["solve", str(path), "--cache-dir", str(network_cache_dir)])
    assert result.exit_code == 1
    assert "client 'c1': location is" in result.output and "km from the nearest drive road" in result.output


def test_cli_reoptimise_keeps_stops_before_the_cutoff(plan_file, tmp_path, network_cache_dir):
    """``solve --keep ROSTER --lock-before 10:00`` keeps every earlier stop exactly."""
    first = tmp_path / "first"
    args = ["--time-limit", "1", "-q", "--cache-dir", str(network_cache_dir)]
    assert runner.invoke(app, ["solve", str(plan_file), "--out", str(first), *args]).exit_code == 0
    again = tmp_path / "again"
    result = runner.invoke(app, ["solve", str(plan_file), "--out", str(again), "--keep", str(first / "roster.json"),
                                 "--lock-before", "10:00", *args])
    assert result.exit_code == 0, result.output
    before = {(r.worker_id, s.visit_id, s.start) for r in load_roster(first / "roster.json").routes
              for s in r.stops if s.start < 10 * 3600}
    after = {(r.worker_id, s.visit_id, s.start) for r in load_roster(again / "roster.json").routes for s in r.stops}
    assert before and before <= after


def test_cli_lock_options_need_a_roster(plan_file):
    """Lock options without ``--keep`` are a clear error (exit 2)."""
    result = runner.invoke(app, ["solve", str(plan_file), "--lock-before", "10:00"])
    assert result.exit_code == 2 and "need --keep ROSTER" in result.output
