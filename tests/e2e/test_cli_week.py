"""``homecare generate --days`` writes a week of plans; ``homecare solve-week`` solves, checks and writes each date."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from homecare_cli.main import app
from scheduler.io import load_plan, load_roster
from scheduler.validate import check_roster
from solver import check_plan

runner = CliRunner()


@pytest.fixture(scope="module")
def week_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small dates from Saturday 12 December 2026, written by the command."""
    folder = tmp_path_factory.mktemp("week") / "plans"
    result = runner.invoke(app, ["generate", "--days", "3", "--visits", "60", "--seed", "2", "--date", "2026-12-12",
                                 "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_generate_days_writes_one_plan_per_date(week_dir):
    """One plan-YYYY-MM-DD.json per date, each the plan of its date, and a line per file."""
    files = sorted(week_dir.glob("*.json"))

    assert [f.name for f in files] == ["plan-2026-12-12.json", "plan-2026-12-13.json", "plan-2026-12-14.json"]
    assert [load_plan(f).date.isoformat() for f in files] == ["2026-12-12", "2026-12-13", "2026-12-14"]


def test_generate_days_refuses_workers(tmp_path):
    """A week sizes its own workforce: --workers with --days is refused (exit 2), writing nothing."""
    result = runner.invoke(app, ["generate", "--days", "2", "--workers", "9", "--out", str(tmp_path / "w")])

    assert result.exit_code == 2 and "--workers" in result.output
    assert not (tmp_path / "w").exists()


def test_solve_week_writes_a_valid_roster_per_date(week_dir, tmp_path, network_cache_dir):
    """Each date is solved, validated and written (JSON and CSV), with one progress line per date."""
    out = tmp_path / "rosters"
    result = runner.invoke(app, ["solve-week", str(week_dir), "--out", str(out), "--time-limit", "1",
                                 "--cache-dir", str(network_cache_dir)])

    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if " visits served" in line]
    assert [line.split()[0] for line in lines] == ["2026-12-12", "2026-12-13", "2026-12-14"]
    assert all("valid" in line for line in lines)
    for plan_file in sorted(week_dir.glob("plan-*.json")):
        plan = load_plan(plan_file)
        roster_file = out / f"roster-{plan.date.isoformat()}.json"
        assert roster_file.with_suffix(".csv").exists()
        roster = load_roster(roster_file)
        travel = check_plan(plan, cache_dir=network_cache_dir)
        assert roster.date == plan.date
        assert check_roster(plan, roster, travel=travel) == []


def test_solve_week_refuses_a_folder_without_plans(tmp_path):
    """A folder with no plan-*.json files is refused with the command that writes them (exit 2)."""
    result = runner.invoke(app, ["solve-week", str(tmp_path), "--out", str(tmp_path / "o")])

    assert result.exit_code == 2 and "generate --days 7" in result.output
