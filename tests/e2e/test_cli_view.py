"""``homecare map`` and ``homecare ics`` on a solved London day: files, sizes, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import icalendar
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from homecare_cli.main import app
from scheduler.io import load_plan, write_roster
from solver import SolveParams
from solver.plot import worker_colours
from tests.helpers import LONDON_OSM, client, plan_dict, visit, worker
from tests.helpers import solve_checked as helpers_solve_checked

runner = CliRunner()


@pytest.fixture(scope="module")
def solved(tmp_path_factory, london_network):
    """Solve a London day and write the plan and its roster (which names the plan) to files.

    Three workers: two busy drivers and one hairdresser with nothing to do; one visit
    needs a skill nobody has, so it is unassigned. Returns (plan path, roster path, roster).
    """
    folder = tmp_path_factory.mktemp("view")
    data = plan_dict(
        network=LONDON_OSM,
        providers=[{"id": "care-1", "kind": "care", "break": {"after_min": 1440}},
                   {"id": "hair-1", "kind": "hairdressing", "break": {"after_min": 1440}}],
        workers=[worker("w1"), worker("w2", start_location="queen_sq"), worker("w3", "hair-1")],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq"),
                 client("c3", location="marylebone"), client("c4", location="euston_sq")],
        visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                visit("v3", "c3", window=("09:30", "10:30")),
                visit("v4", "c1", window=("12:00", "13:00"), workers_required=2,
                      priority="mandatory"),
                visit("v5", "c4", required_skills=["hoist"])],
    )
    plan_path = folder / "plan.json"
    plan_path.write_text(json.dumps(data))
    plan, roster, _ = helpers_solve_checked(load_plan(plan_path), london_network,
                                            SolveParams(time_limit_s=1))
    assert [u.visit_id for u in roster.unassigned] == ["v5"]
    assert {r.worker_id for r in roster.routes if r.stops} == {"w1", "w2"}
    roster_path = write_roster(roster, folder / "roster.json")
    return plan_path, roster_path, roster


def _invoke(*args: str | Path, cache: Path):
    return runner.invoke(app, [str(a) for a in args] + ["--cache-dir", str(cache)])


def _said(result) -> str:
    """Return a command's output with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def _near(pixels: np.ndarray, hex_colour: str, tolerance: int = 12) -> int:
    """Count pixels within ``tolerance`` of a colour on every channel."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels.astype(int) - rgb).max(axis=-1) <= tolerance).sum())


def test_cli_map_writes_a_png_of_the_asked_size_with_routes(solved, tmp_path, network_cache_dir):
    """``map`` writes a PNG of the size asked, with roads, both workers' colours and a red cross."""
    _, roster_path, _ = solved
    out = tmp_path / "map.png"
    result = _invoke("map", roster_path, "--out", out, "--width", "900", "--height", "700",
                     cache=network_cache_dir)
    assert result.exit_code == 0, result.output
    assert "2 workers' routes" in _said(result) and "1 unassigned" in _said(result)
    with Image.open(out) as image:
        assert image.size == (900, 700)
        pixels = np.asarray(image.convert("RGB"))
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 20
    first, second = worker_colours(2)
    assert _near(pixels, first, tolerance=40) > 200 and _near(pixels, second, tolerance=40) > 200
    light = pixels.mean(axis=-1)
    grey = (np.ptp(pixels, axis=-1) <= 4) & (light > 150) & (light < 240)
    assert grey.sum() > 1000  # roads
    assert _near(pixels, "#e00000", tolerance=20) > 20  # the unassigned visit's cross
    assert (pixels.min(axis=-1) == 255).mean() < 0.97  # not blank


def test_cli_map_svg_has_one_route_group_per_worker(solved, tmp_path, network_cache_dir):
    """The SVG holds one route group per worker with stops, and the attribution as text."""
    _, roster_path, _ = solved
    out = tmp_path / "map.svg"
    result = _invoke("map", roster_path, "--out", out, cache=network_cache_dir)
    assert result.exit_code == 0, result.output
    svg = out.read_text(encoding="utf-8")
    assert sorted(re.findall(r'<g id="route-([^"]+)"', svg)) == ["w1", "w2"]
    assert len(re.findall(r'<g id="stops-', svg)) == 2
    assert svg.count('<g id="network"') == 1 and svg.count('<g id="unassigned"') == 1
    assert "© OpenStreetMap contributors, ODbL" in svg


def test_cli_map_draws_only_the_workers_asked(solved, tmp_path, network_cache_dir):
    """--worker limits the map to that worker; an idle worker is drawn as nothing, with a note."""
    _, roster_path, _ = solved
    out = tmp_path / "w2.svg"
    result = _invoke("map", roster_path, "--out", out, "--worker", "w2", "--worker", "w3",
                     cache=network_cache_dir)
    assert result.exit_code == 0, result.output
    assert re.findall(r'<g id="route-([^"]+)"', out.read_text(encoding="utf-8")) == ["w2"]
    assert "worker w3 has no visits" in _said(result)


def test_cli_map_unknown_worker_lists_the_workers(solved, tmp_path, network_cache_dir):
    """An unknown --worker exits 2 naming it and listing the plan's workers; nothing is written."""
    _, roster_path, _ = solved
    out = tmp_path / "map.png"
    result = _invoke("map", roster_path, "--out", out, "--worker", "w9", cache=network_cache_dir)
    assert result.exit_code == 2
    assert "worker 'w9'" in _said(result) and "w1, w2, w3" in _said(result)
    assert not out.exists()


def test_cli_map_refuses_other_formats_and_missing_rosters(solved, tmp_path, network_cache_dir):
    """A .jpg output or a missing roster file exits 2 with a one-line error."""
    _, roster_path, _ = solved
    bad = _invoke("map", roster_path, "--out", tmp_path / "map.jpg", cache=network_cache_dir)
    assert bad.exit_code == 2 and ".png or .svg" in _said(bad)
    missing = _invoke("map", tmp_path / "nope.json", cache=network_cache_dir)
    assert missing.exit_code == 2 and "no roster at" in _said(missing)
    assert "Traceback" not in bad.output + missing.output


def test_cli_ics_writes_the_workers_day(solved, tmp_path, monkeypatch):
    """``ics`` writes WORKER-DATE.ics by default, one event per stop, at the roster's times."""
    _, roster_path, roster = solved
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ics", str(roster_path), "--worker", "w1"])
    assert result.exit_code == 0, result.output
    data = (tmp_path / "w1-2026-11-24.ics").read_bytes()
    events = list(icalendar.Calendar.from_ical(data).walk("VEVENT"))
    stops = roster.route("w1").stops
    assert len(events) == len(stops) >= 2
    for event, stop in zip(events, stops, strict=True):
        start = event.decoded("dtstart")  # November: London time is UTC
        assert start.hour * 3600 + start.minute * 60 == stop.start
        assert stop.visit_id in str(event["summary"])
    assert icalendar.Calendar.from_ical(data).to_ical() == data


def test_cli_ics_idle_worker_gets_an_empty_calendar(solved, tmp_path):
    """A worker with no visits gets a calendar with no events, and is told so."""
    _, roster_path, _ = solved
    out = tmp_path / "w3.ics"
    result = runner.invoke(app, ["ics", str(roster_path), "--worker", "w3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "no visits" in _said(result)
    assert list(icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")) == []


def test_cli_ics_unknown_worker_lists_the_workers(solved, tmp_path):
    """An unknown --worker exits 2, naming it and listing the plan's workers."""
    _, roster_path, _ = solved
    result = runner.invoke(app, ["ics", str(roster_path), "--worker", "nobody",
                                 "--out", str(tmp_path / "x.ics")])
    assert result.exit_code == 2
    assert "worker 'nobody'" in _said(result) and "w1, w2, w3" in _said(result)
    assert not (tmp_path / "x.ics").exists()


def test_cli_ics_without_a_plan_falls_back_to_the_bundled_day(solved, tmp_path):
    """A roster naming no plan is read against the bundled Cambridge day: not its plan, exit 1."""
    _, roster_path, _ = solved
    data = json.loads(roster_path.read_text())
    data["meta"].pop("plan")
    orphan = tmp_path / "orphan.json"
    orphan.write_text(json.dumps(data))
    result = runner.invoke(app, ["ics", str(orphan), "--worker", "w1",
                                 "--out", str(tmp_path / "x.ics")])
    assert result.exit_code == 1
    assert "does not belong to plan" in _said(result) and "cambridge_weekday.json" in _said(result)
