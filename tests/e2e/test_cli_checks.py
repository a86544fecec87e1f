"""``homecare validate`` and ``homecare solve`` check a plan the same way (one set of plan checks).

``validate`` used to say "valid" for plans that ``solve`` then refused: a client far
out of the road network's reach, a network file that is not there, a plan with no
workers. Both commands now call :func:`solver.check_plan`, so they agree on every
plan: the same messages and the same exit code (1 invalid plan, 2 missing file).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from homecare_cli.main import app
from tests.helpers import LONDON_OSM, client, plan_dict, visit

runner = CliRunner()


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    return path


def _problem_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("- ")]


def _both(path: Path, cache: Path, out: Path) -> tuple:
    solved = runner.invoke(app, ["solve", str(path), "--time-limit", "1", "-q", "--out", str(out),
                                 "--cache-dir", str(cache)])
    checked = runner.invoke(app, ["validate", str(path), "--cache-dir", str(cache)])
    return solved, checked


def test_cli_validate_rejects_a_client_out_of_road_reach_as_solve_does(tmp_path, network_cache_dir):
    """A client 20 km from the nearest road: both commands exit 1 and list the same problem."""
    path = _write(tmp_path, plan_dict(network=LONDON_OSM, clients=[client("c1", location=(51.70, -0.13))]))
    solved, checked = _both(path, network_cache_dir, tmp_path / "out")
    assert solved.exit_code == 1, solved.output
    assert checked.exit_code == 1, checked.output
    assert "valid (" not in checked.output
    problems = _problem_lines(solved.output)
    assert any("client 'c1': location is" in p and "km from the nearest drive road" in p for p in problems)
    assert _problem_lines(checked.output) == problems
    assert "Traceback" not in solved.output + checked.output
    assert not (tmp_path / "out" / "roster.json").exists()


def test_cli_validate_rejects_a_missing_network_file_as_solve_does(tmp_path, network_cache_dir):
    """A plan naming a network file that is not there: both commands exit 2 with the same message."""
    path = _write(tmp_path, plan_dict(network=tmp_path / "missing.osm"))
    solved, checked = _both(path, network_cache_dir, tmp_path / "out")
    assert solved.exit_code == 2 and checked.exit_code == 2, (solved.output, checked.output)
    message = next(line for line in solved.output.splitlines() if "no network file at" in line)
    assert message in checked.output
    assert "valid (" not in checked.output


def test_cli_validate_and_solve_reject_a_plan_with_no_workers(tmp_path, network_cache_dir):
    """A plan with visits but no workers is an invalid plan for both commands (exit 1, same problem).

    The check itself is ``scheduler.validate.validate_plan``'s ("the plan has no workers").
    """
    path = _write(tmp_path, plan_dict(network=LONDON_OSM, workers=[], visits=[visit("v1", "c1")]))
    solved, checked = _both(path, network_cache_dir, tmp_path / "out")
    assert solved.exit_code == 1, solved.output
    assert checked.exit_code == 1, checked.output
    problems = _problem_lines(solved.output)
    assert any("no workers" in p for p in problems), solved.output
    assert _problem_lines(checked.output) == problems


@pytest.mark.parametrize("far", [True, False])
def test_cli_validate_no_travel_skips_only_the_road_checks(tmp_path, far):
    """``validate --no-travel`` checks the plan's records but not its road network (documented)."""
    location = (51.70, -0.13) if far else "fitzroy_sq"
    path = _write(tmp_path, plan_dict(network=tmp_path / "missing.osm", clients=[client("c1", location=location)]))
    result = runner.invoke(app, ["validate", str(path), "--no-travel"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "road network not checked" in result.output


def test_cli_validate_uses_the_snap_limit_of_the_params_file(tmp_path, network_cache_dir):
    """``validate --params`` takes ``snap_limit_m`` as ``solve --params`` does: a 2 km limit rejects 20 km."""
    path = _write(tmp_path, plan_dict(network=LONDON_OSM, clients=[client("c1", location=(51.70, -0.13))]))
    toml = tmp_path / "solve.toml"
    toml.write_text("[solve]\nsnap_limit_m = 30000\ntime_limit_s = 5000\n")
    wide = runner.invoke(app, ["validate", str(path), "--params", str(toml), "--cache-dir", str(network_cache_dir)])
    assert wide.exit_code == 0, wide.output
    toml.write_text("[solve]\nsnap_limit_m = 2000\n")
    narrow = runner.invoke(app, ["validate", str(path), "--params", str(toml), "--cache-dir", str(network_cache_dir)])
    assert narrow.exit_code == 1 and "client 'c1': location is" in narrow.output
