"""Solver settings of a job (``params``): checked as a ``--params`` file, stored, used; the CLI and a job agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from homecare_cli.main import app
from scheduler.io import load_roster
from tests.api.support import assert_valid_roster, submit, two_provider_plan, wait_job
from tests.helpers import LONDON_OSM

DATE = "2026-12-03"
#: Greedy descent stops at its local optimum, well inside the time limit: the same
#: roster on every run of the same plan, seed and settings.
SETTINGS = {"metaheuristic": "GREEDY_DESCENT", "first_solution": "PATH_CHEAPEST_ARC", "continuity_weight_s": 0}


def _stops(roster: dict) -> list[tuple[str, str, str]]:
    return sorted((r["worker_id"], s["visit_id"], s["start"]) for r in roster["routes"] for s in r["stops"])


def test_job_params_are_stored_and_used_and_match_the_cli(coordinator, london_network, tmp_path: Path,
                                                          network_cache_dir):
    """A job with settings runs with them (roster meta) and gives the CLI's roster for the same plan, seed, settings."""
    data = two_provider_plan(DATE)
    response = coordinator.post(f"/plans/{submit(coordinator, data)}/jobs",
                                json={"time_limit_s": 2.0, "seed": 3, "params": SETTINGS})
    assert response.status_code == 202, response.text
    assert response.json()["params"] == SETTINGS
    job = wait_job(coordinator, response.json()["id"])
    assert job["state"] == "succeeded", job
    assert job["seed"] == 3 and job["params"] == SETTINGS
    stored = coordinator.get(f"/rosters/{job['roster_id']}").json()
    assert stored["violations"] == []
    meta = stored["roster"]["meta"]
    assert (meta["metaheuristic"], meta["first_solution"], meta["seed"]) == ("GREEDY_DESCENT", "PATH_CHEAPEST_ARC", 3)
    assert_valid_roster(data, stored["roster"], london_network)

    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps({**data, "network": str(LONDON_OSM)}))
    params_path = tmp_path / "params.toml"
    params_path.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in SETTINGS.items()))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["solve", str(plan_path), "--time-limit", "2", "--seed", "3", "--params",
                                      str(params_path), "--out", str(out), "--cache-dir", str(network_cache_dir),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    cli_roster = json.loads((out / "roster.json").read_text())
    assert_valid_roster(data, cli_roster, london_network)
    load_roster(out / "roster.json")
    assert _stops(cli_roster) == _stops(stored["roster"])
    assert len(_stops(cli_roster)) == 6


def test_job_params_time_limit_obeys_the_server_cap(coordinator):
    """``params.time_limit_s`` is the search time when the body gives none, and the server's maximum holds."""
    plan_id = submit(coordinator, two_provider_plan(DATE))
    over = coordinator.post(f"/plans/{plan_id}/jobs", json={"params": {"time_limit_s": 100000}})
    assert over.status_code == 422
    assert "time_limit_s" in json.dumps(over.json())
    over = coordinator.post(f"/plans/{plan_id}/jobs", json={"params": {"time_limit_s": 5000}})
    assert over.status_code == 422
    assert "time_limit_s" in over.json()["detail"][0]["field"] + over.json()["detail"][0]["message"]
    ok = coordinator.post(f"/plans/{plan_id}/jobs", json={"params": {"time_limit_s": 0.5, "seed": 7}})
    assert ok.status_code == 202, ok.text
    assert (ok.json()["time_limit_s"], ok.json()["seed"], ok.json()["params"]) == (0.5, 7, {})
    coordinator.post(f"/jobs/{ok.json()['id']}/cancel")


def test_job_params_a_rerun_keeps_the_settings(coordinator, london_network):
    """A cancelled job's re-run solves with the same settings (its roster's meta shows them)."""
    data = two_provider_plan(DATE)
    plan_id = submit(coordinator, data)
    job = coordinator.post(f"/plans/{plan_id}/jobs", json={"time_limit_s": 100, "params": SETTINGS}).json()
    assert coordinator.post(f"/jobs/{job['id']}/cancel").json()["state"] == "cancelled"
    rerun = coordinator.post(f"/jobs/{job['id']}/rerun", json={"time_limit_s": 1})
    assert rerun.status_code == 202, rerun.text
    assert rerun.json()["params"] == SETTINGS
    done = wait_job(coordinator, rerun.json()["id"])
    assert done["state"] == "succeeded", done
    roster = coordinator.get(f"/rosters/{done['roster_id']}").json()["roster"]
    assert roster["meta"]["metaheuristic"] == "GREEDY_DESCENT"
    assert_valid_roster(data, roster, london_network)


@pytest.mark.parametrize(("params", "named"), [
    ({"continuity_weight": 600}, "continuity_weight"),
    ({"continuity_weight_s": "lots"}, "continuity_weight_s"),
    ({"metaheuristic": "HILL_CLIMBING"}, "metaheuristic"),
    ({"extra_operators": ["use_magic"]}, "use_magic"),
    ({"seed": -1}, "seed"),
])
def test_job_params_bad_settings_are_422_naming_the_field(coordinator, params, named):
    """An unknown key, a wrong type or a value out of range is a 422 naming ``params`` and the key; no job is stored."""
    plan_id = submit(coordinator, two_provider_plan(DATE))
    before = coordinator.get("/jobs").json()["count"]
    response = coordinator.post(f"/plans/{plan_id}/jobs", json={"params": params})
    assert response.status_code == 422, response.text
    problem = response.json()["detail"][0]
    assert problem["field"] == "params"
    assert named in problem["message"]
    assert coordinator.get("/jobs").json()["count"] == before
