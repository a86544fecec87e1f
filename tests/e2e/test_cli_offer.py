"""``homecare offer``, ``book`` and ``cancel`` on a solved London day: tables, JSON, files, stale offers, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from homecare_cli.main import app
from scheduler.io import load_plan, load_roster, write_roster
from scheduler.validate import check_roster
from solver import SolveParams, travel_for
from tests.helpers import LONDON_OSM, client, plan_dict, visit, worker
from tests.helpers import solve_checked as helpers_solve_checked

runner = CliRunner()


@pytest.fixture(scope="module")
def published(tmp_path_factory, london_network):
    """A solved London day written to files: (folder, plan path, roster path)."""
    folder = tmp_path_factory.mktemp("frontdoor")
    data = plan_dict(
        network=LONDON_OSM,
        workers=[worker("w1"), worker("w2", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq"),
                 client("c3", location="marylebone")],
        visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                visit("v3", "c3", window=("12:00", "13:00"))],
    )
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(data))
    _, roster, _ = helpers_solve_checked(load_plan(plan_path), london_network, SolveParams(time_limit_s=1))
    return folder, plan_path, write_roster(roster, folder / "roster.json")


def _request(folder: Path, name: str, **fields) -> Path:
    path = folder / name
    path.write_text(json.dumps({"kind": "care", "duration_min": 30, **fields}))
    return path


def _run(*args, cache: Path):
    return runner.invoke(app, [str(a) for a in args] + ["--cache-dir", str(cache)])


def test_offer_prints_slots_by_day_with_green_marked(published, tmp_path):
    """The table lists numbered offers under the day's heading, some green; exit 0."""
    folder, plan, roster = published
    req = _request(tmp_path, "req.json", client_id="c2", preferred_times=[{"start": "13:00", "end": "15:00"}])
    result = _run("offer", req, "--plan", plan, "--roster", roster, cache=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Tuesday 24 November 2026" in result.output and "green" in result.output
    assert "13:00-13:30" in result.output and "offers," in result.output


def test_offer_json_then_book_writes_a_valid_roster_with_the_visit_as_quoted(published, tmp_path, london_network):
    """Offer --json, then book --quoted --offer 1: the new roster has the visit at the quoted start and passes."""
    folder, plan, roster = published
    req = _request(tmp_path, "req.json", client={"location": {"lat": 51.5250, "lon": -0.1285}}, duration_min=45)
    result = _run("offer", req, "--plan", plan, "--roster", roster, "--json", cache=tmp_path)
    assert result.exit_code == 0, result.output
    quote = json.loads(result.output)
    first = quote["offers"][0]
    assert first["n"] == 1 and first["slots"][0]["worker_ids"]
    (tmp_path / "quote.json").write_text(result.output)
    out = tmp_path / "booked"
    result = _run("book", req, "--plan", plan, "--roster", roster, "--offer", 1, "--quoted", tmp_path / "quote.json",
                  "--out", out, cache=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Booked booked-1 for client resident-1" in result.output
    new_plan, new_roster = load_plan(out / "plan.json"), load_roster(out / "roster.json")
    assert check_roster(new_plan, new_roster, travel=travel_for(new_plan, london_network)) == []
    stops = [(r.worker_id, s.start) for r in new_roster.routes for s in r.stops if s.visit_id == "booked-1"]
    slot = first["slots"][0]
    assert [(w, f"{t // 3600:02d}:{t % 3600 // 60:02d}") for w, t in stops] == [(slot["worker_ids"][0], slot["start"])]
    before = load_roster(roster).kpis.travel_s
    assert new_roster.kpis.travel_s - before == first["extra_travel_s"]

    # The same quoted offer against the roster that now holds it: stale, fresh offers, nothing written.
    again = tmp_path / "again"
    result = _run("book", req, "--plan", out / "plan.json", "--roster", out / "roster.json", "--offer", 1,
                  "--quoted", tmp_path / "quote.json", "--out", again, cache=tmp_path)
    assert result.exit_code == 1, result.output
    assert "stale offer" in result.output and not (again / "roster.json").exists()

    # Cancel it: the roster's travel is what it was.
    undone = tmp_path / "undone"
    result = _run("cancel", "booked-1", "--plan", out / "plan.json", "--roster", out / "roster.json", "--out", undone,
                  cache=tmp_path)
    assert result.exit_code == 0, result.output
    assert load_roster(undone / "roster.json").kpis.travel_s == before


def test_offer_says_why_when_nobody_can_come(published, tmp_path):
    """No hairdresser in the plan: the resident's sentence, exit 1, no traceback."""
    folder, plan, roster = published
    req = _request(tmp_path, "req.json", client_id="c1", kind="hairdressing")
    result = _run("offer", req, "--plan", plan, "--roster", roster, cache=tmp_path)
    assert result.exit_code == 1
    assert "no hairdresser works on Tuesday 24 November in your area" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("fields", "said", "code"), [
    ({"client_id": "nobody"}, "client_id 'nobody' is not a client", 1),
    ({"client_id": "c1", "workers_required": 3}, "workers_required 3 is not 1 or 2", 1),
])
def test_bad_requests_are_one_clear_error(published, tmp_path, fields, said, code):
    """An invalid request names the record and field; no traceback."""
    folder, plan, roster = published
    req = _request(tmp_path, "req.json", **fields)
    result = _run("offer", req, "--plan", plan, "--roster", roster, cache=tmp_path)
    assert result.exit_code == code, result.output
    assert said in result.output and "Traceback" not in result.output


def test_missing_files_and_unpaired_options_exit_2(published, tmp_path):
    """A missing request, or a --plan without its --roster: one line, exit 2."""
    folder, plan, roster = published
    result = _run("offer", tmp_path / "none.json", "--plan", plan, "--roster", roster, cache=tmp_path)
    assert result.exit_code == 2 and "no request at" in result.output
    req = _request(tmp_path, "req.json", client_id="c1")
    result = _run("offer", req, "--plan", plan, "--plan", plan, "--roster", roster, cache=tmp_path)
    assert result.exit_code == 2 and "one --roster per --plan" in result.output
    result = _run("cancel", "nope", "--plan", plan, "--roster", roster, "--out", tmp_path / "x", cache=tmp_path)
    assert result.exit_code == 2 and "not in the plan" in result.output
