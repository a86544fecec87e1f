"""What ``homecare solve`` and ``validate`` print: the final progress line, column names, counts.

The search's last progress report was stale (a CSV solve ended on "0/3 places filled",
with an objective that was not the roster's ``meta.objective``); the solve table's
"work h" and pay's "working" named two different measures with one word; counts read
"1 providers".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from homecare_cli.main import app
from scheduler.io import load_plan, load_roster
from scheduler.validate import check_roster
from solver import travel_for
from tests.helpers import LONDON_OSM, client, plan_dict, visit, worker

runner = CliRunner()


def _plan(tmp_path: Path, **kw) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_dict(network=LONDON_OSM, **kw)))
    return path


def test_cli_solve_final_progress_shows_the_roster_written(tmp_path, network_cache_dir, london_network):
    """The last progress line gives the roster's places filled and its ``meta.objective``."""
    path = _plan(tmp_path, workers=[worker("w1"), worker("w2", start_location="queen_sq")],
                 clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
                 visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                         visit("v3", "c1", window=("12:00", "13:00"), workers_required=2)])
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", str(path), "--time-limit", "1", "--out", str(out),
                                 "--cache-dir", str(network_cache_dir)])
    assert result.exit_code == 0, result.output
    plan = load_plan(path)
    roster = load_roster(out / "roster.json")
    assert check_roster(plan, roster, travel=travel_for(plan, london_network)) == []
    filled = sum(len(r.stops) for r in roster.routes)
    objective = roster.meta["objective"]
    assert f"Search done: {filled}/4 places filled, objective {objective:,}" in result.output
    finals = re.findall(r"Search done: .*", result.output)
    assert len(finals) == 1


def test_cli_solve_table_names_the_span_not_work(tmp_path, network_cache_dir):
    """The solve table's span column is "span h" (first arrival to last visit end), distinct from pay's "working"."""
    result = runner.invoke(app, ["solve", str(_plan(tmp_path)), "--time-limit", "1", "--out", str(tmp_path / "o"),
                                 "--cache-dir", str(network_cache_dir)])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "worker" in line and "travel min" in line)
    assert "span h" in header and "work h" not in header


def test_cli_counts_are_singular_for_one(tmp_path, network_cache_dir):
    """One visit, one worker, one provider, one problem: no "1 providers", no "(s)"."""
    path = _plan(tmp_path)
    solved = runner.invoke(app, ["solve", str(path), "--time-limit", "1", "--out", str(tmp_path / "o"),
                                 "--cache-dir", str(network_cache_dir)])
    assert solved.exit_code == 0, solved.output
    assert "1 visit, 1 worker, 1 provider," in solved.output
    checked = runner.invoke(app, ["validate", str(path), "--cache-dir", str(network_cache_dir)])
    assert checked.exit_code == 0, checked.output
    assert "valid (1 visit, 1 worker;" in checked.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan_dict(visits=[visit("v1", window=("09:00", "08:00"))])))
    refused = runner.invoke(app, ["validate", str(bad)])
    assert refused.exit_code == 1
    assert "1 problem\n" in refused.output
    for output in (solved.output, checked.output, refused.output):
        # "1/1 workers used" reads "1 of 1 workers" and stays; a lone "1 workers" does not.
        assert "(s)" not in output
        assert not re.search(r"(?<![/\d,])1 (visits|workers|providers|problems|stops)\b", output), output


def test_cli_counts_are_plural_for_several(tmp_path, network_cache_dir):
    """Two problems read "2 problems"; two workers "2 workers"."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan_dict(workers=[worker("w1"), worker("w2")],
                                        visits=[visit("v1", window=("09:00", "08:00")), visit("v2", "nobody")])))
    refused = runner.invoke(app, ["solve", str(bad)])
    assert refused.exit_code == 1
    assert "2 problems\n" in refused.output
