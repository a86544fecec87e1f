"""The coordinator board in a real headless browser: Debian's chromium driven by Playwright.

Each test starts from the page served by the live test server, signs in with a
key of its role and checks what the page draws against what the API says. A
screenshot of each is kept in ``$HOMECARE_ARTIFACTS`` (default
``tests/artifacts/``). Without a chromium these tests fail, saying how to
install one: they are the only check that the page works.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import LiveServer, assert_valid_roster, publish_roster, solve, submit, two_provider_plan
from tests.chromium import axe_path
from tests.helpers import ROOT, visit

DATE = "2026-12-11"
#: The browser to drive; Debian's package puts it here (``apt-get install -y chromium``).
CHROMIUM = Path(os.environ.get("HOMECARE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("HOMECARE_ARTIFACTS", ROOT / "tests" / "artifacts"))
TIMEOUT_MS = 30_000
#: axe-core, installed by ``python -m tests.chromium`` (``npm ci`` in tests/), or ``$HOMECARE_AXE``.
AXE = axe_path(os.environ)[0]
#: The rules checked: every WCAG 2.0, 2.1 and 2.2 rule of levels A and AA.
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Launch a headless chromium, shared by the module's tests."""
    if not CHROMIUM.is_file():
        pytest.fail(f"no chromium at {CHROMIUM}: the board's browser tests need one. Install Debian's package "
                    "with `sudo apt-get install -y chromium` (or run `python -m tests.chromium`, which installs it), "
                    "or point HOMECARE_CHROMIUM at a chromium binary.", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: `pip install \".[test]\"` installs it (no browser download is "
                    "needed; the tests drive the system chromium).", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    """Return the axe-core script to inject."""
    if not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: run `python -m tests.chromium` (it runs `npm ci` in tests/), "
                    "or `npm ci --prefix tests`.", pytrace=False)
    return AXE.read_text(encoding="utf-8")


def assert_accessible(page: Any, source: str, view: str) -> None:
    """Run axe-core's WCAG 2 A/AA rules on the page as it is; no violation may be found."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source + "\n;0")
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    violations = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                   "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]
    assert violations == [], f"axe on the {view}: {json.dumps(violations, indent=1)}"
    assert result["passes"], f"axe checked nothing on the {view}"


@pytest.fixture(scope="module")
def day(server: LiveServer, keys: dict[str, str]) -> dict[str, Any]:
    """Solve a two-provider day with one visit nobody can do (v6 needs a hoist skill)."""
    data = two_provider_plan(DATE)
    data["visits"].append(visit("v6", "c1", provider_id="care-2", window=("14:00", "15:00"),
                                required_skills=["hoist"]))
    with server.client(keys["coordinator"]) as api:
        plan_id = submit(api, data)
        job = solve(api, plan_id, publish=True)
        roster = api.get(f"/rosters/{job['roster_id']}").json()["roster"]
    assert [u["visit_id"] for u in roster["unassigned"]] == ["v6"]
    return {"data": data, "plan_id": plan_id, "roster_id": job["roster_id"], "roster": roster}


class Board:
    """One signed-in page of the board, with the console errors it logged."""

    def __init__(self, browser: Any, server: LiveServer, key: str, roster_id: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(f"{server.url}/board#roster={roster_id}")
        self.page.fill("#key", key)
        self.page.click("#signin button[type=submit]")
        self.wait_for_roster(roster_id)

    def wait_for_roster(self, roster_id: str) -> None:
        """Wait until the page shows this roster with its map drawn."""
        self.page.wait_for_selector(f"body[data-roster-id='{roster_id}']")
        self.page.wait_for_selector("#map svg")

    def count(self, selector: str) -> int:
        """Return how many elements match."""
        return self.page.locator(selector).count()

    def attributes(self, selector: str, name: str) -> list[str]:
        """Return an attribute of every matching element, in page order."""
        return [self.page.locator(selector).nth(i).get_attribute(name) for i in range(self.count(selector))]

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot as a test artefact."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        """Close the page and its context."""
        self.context.close()


@pytest.fixture
def open_board(browser, server: LiveServer, keys: dict[str, str]) -> Iterator[Any]:
    """Open the board signed in as a role on a roster; every page is closed after the test."""
    pages: list[Board] = []

    def make(role: str, roster_id: str) -> Board:
        board = Board(browser, server, keys[role], roster_id)
        pages.append(board)
        return board

    yield make
    for board in pages:
        board.close()


def _stops(roster: dict[str, Any], workers: set[str] | None = None) -> list[tuple[str, str]]:
    return sorted((r["worker_id"], s["visit_id"]) for r in roster["routes"] for s in r["stops"]
                  if s.get("kind", "visit") == "visit" and (workers is None or r["worker_id"] in workers))


def _blocks(board: Board, selector: str = ".block.visit") -> list[tuple[str, str]]:
    return sorted(zip(board.attributes(selector, "data-worker"), board.attributes(selector, "data-visit"),
                      strict=True))


def test_board_browser_coordinator_sees_rows_blocks_unassigned_and_map(open_board, day, axe_source):
    """A row per route, a block per stop, the unassigned visit with its reason, linked partners, routes on the map."""
    from playwright.sync_api import expect

    roster = day["roster"]
    board = open_board("coordinator", day["roster_id"])
    page = board.page
    assert board.count(".row[data-worker]") == len(roster["routes"])
    assert _blocks(board) == _stops(roster)
    assert board.count("#unassigned tbody tr") == len(roster["unassigned"]) == 1
    reason = page.locator("#unassigned tbody tr").first
    assert reason.get_attribute("data-visit") == "v6"
    expect(reason.locator(".reason")).to_have_text(roster["unassigned"][0]["reason"])
    expect(page.locator("dd[data-kpi=assigned]")).to_have_text(str(roster["kpis"]["assigned"]))
    assert_accessible(page, axe_source, "coordinator board")
    # The double-handed visit: two blocks, linked on hover.
    partners = page.locator(".block.double[data-visit=v5]")
    assert partners.count() == 2
    partners.first.hover()
    expect(page.locator(".block.linked[data-visit=v5]")).to_have_count(2)
    assert board.count(".seg.travel") > 0 and board.count(".shift") == len(roster["routes"])
    # The map: one route per working worker, the roads under them, and the attribution.
    working = {r["worker_id"] for r in roster["routes"] if r["stops"]}
    assert set(board.attributes("#map path.route", "data-worker")) == working
    assert board.count("#map path.road") == 1 and board.count("#map circle.stop") == len(_stops(roster))
    expect(page.locator("#map .attribution")).to_have_text("© OpenStreetMap contributors (ODbL)")
    assert board.count("button.sick") == len(roster["routes"]) and page.locator("#actions").is_visible()
    board.screenshot("board-coordinator")
    assert board.errors == []


def test_board_browser_provider_sees_only_its_own_rows(open_board, day):
    """care-1's page has w1's and w2's rows only, no care-2 visit, no unassigned visit of care-2, no actions."""
    from playwright.sync_api import expect

    board = open_board("provider:care-1", day["roster_id"])
    own = {r["worker_id"] for r in day["roster"]["routes"]} & {"w1", "w2"}
    assert set(board.attributes(".row[data-worker]", "data-worker")) == own
    assert _blocks(board) == _stops(day["roster"], {"w1", "w2"})
    assert board.count("#unassigned tbody tr") == 0
    assert board.count("button.sick") == 0 and board.page.locator("#actions").is_hidden()
    assert set(board.attributes("#map path.route", "data-worker")) <= own
    expect(board.page.locator("#timeline")).not_to_contain_text("w3")
    board.screenshot("board-provider-care-1")
    assert board.errors == []


def test_board_browser_worker_sees_only_their_own_day(open_board, day):
    """worker:care-1:w1's page shows one row, their own."""
    board = open_board("worker:care-1:w1", day["roster_id"])
    assert board.attributes(".row[data-worker]", "data-worker") == ["w1"]
    assert _blocks(board) == _stops(day["roster"], {"w1"})
    assert board.errors == []


def test_board_browser_shows_each_providers_roster_where_they_differ(open_board, day, server, keys, london_network):
    """Two rosters published on one date (care-1 has a newer one): the chooser offers each provider's, and each
    shows the roster published for that provider (the date's default was the one published last)."""
    date = "2026-12-12"
    data = two_provider_plan(date)
    with server.client(keys["coordinator"]) as api:
        plan_id = submit(api, data)
        first = solve(api, plan_id, time_limit_s=0.5, publish=True)["roster_id"]
        second = solve(api, plan_id, time_limit_s=0.5, seed=1)["roster_id"]
        publish_roster(api, second, ["care-1"])
        for roster_id in (first, second):
            assert_valid_roster(data, api.get(f"/rosters/{roster_id}").json()["roster"], london_network)
    board = open_board("coordinator", day["roster_id"])
    page = board.page
    page.evaluate("""(date) => { const d = document.querySelector('#date'); d.value = date;
                                 d.dispatchEvent(new Event('change')); }""", date)
    page.wait_for_selector("#roster option[value='provider:care-2']", state="attached")
    assert board.attributes("#roster option[value^='provider:']", "value") == ["provider:care-1", "provider:care-2"]
    for provider_id, roster_id in (("care-2", first), ("care-1", second)):
        page.select_option("#roster", f"provider:{provider_id}")
        page.click("#show")
        board.wait_for_roster(roster_id)
    assert board.errors == []


def test_board_browser_reoptimise_after_a_worker_goes_off_sick(open_board, day, server, keys, london_network):
    """Marking w2 off sick and re-optimising from the page empties w2's row and moves their visits."""
    from playwright.sync_api import expect

    before = day["roster"]
    was_w2 = [v for _, v in _stops(before, {"w2"})]
    assert was_w2, "w2 has no visit to move"
    board = open_board("coordinator", day["roster_id"])
    page = board.page
    page.click("button.sick[data-worker=w2]")
    expect(page.locator(".row.pending-off[data-worker=w2]")).to_have_count(1)
    expect(page.locator("#pending")).to_contain_text("w2 off sick")
    page.fill("#time-limit", "1")
    page.click("#reoptimise")
    expect(page.locator("#job")).to_be_visible()
    expect(page.locator("#status")).to_have_text(re.compile(r"^Re-optimised: roster ro_"), timeout=90_000)
    new_id = page.locator("body").get_attribute("data-roster-id")
    assert new_id and new_id != day["roster_id"]
    board.wait_for_roster(new_id)
    with server.client(keys["coordinator"]) as api:
        record = api.get(f"/rosters/{new_id}").json()
        plan = api.get(f"/plans/{record['plan_id']}").json()["plan"]
    new = record["roster"]
    assert record["previous_roster_id"] == day["roster_id"]
    assert_valid_roster(plan, new, london_network)
    assert not any(r["worker_id"] == "w2" and r["stops"] for r in new["routes"])
    # The page: w2's row is marked off and empty; the other rows and blocks are the new roster's.
    assert board.count(".row.off[data-worker=w2]") == 1
    assert board.count(".row[data-worker=w2] .block") == 0
    assert board.count(".row[data-worker]:not(.off)") == len(new["routes"])
    assert _blocks(board) == _stops(new)
    assert board.count("#unassigned tbody tr") == len(new["unassigned"])
    # Each of w2's visits is now another worker's, highlighted as changed, or listed as dropped.
    for visit_id in was_w2:
        moved = board.count(f".block.changed[data-visit={visit_id}]")
        dropped = board.count(f"#unassigned tr.change-dropped[data-visit={visit_id}]")
        assert moved or dropped, visit_id
        assert f"{visit_id} " in page.locator("#change-list").inner_text()
    assert "w2" not in board.attributes("#map path.route", "data-worker")
    board.screenshot("board-after-reoptimise")
    # The new roster is a draft until the coordinator publishes it from the page.
    assert page.locator("#publication").get_attribute("data-state") == "draft"
    with server.client(keys["provider:care-1"]) as api:
        assert api.get("/board/day", params={"date": DATE}).json()["roster_id"] == day["roster_id"]
    page.uncheck("#publish-providers input[value=care-2]")
    page.click("#publish")
    expect(page.locator("#status")).to_have_text(f"Published roster {new_id} for care-1.", timeout=30_000)
    assert page.locator("#publication").get_attribute("data-state") == "published"
    with server.client(keys["provider:care-1"]) as api:
        assert api.get("/board/day", params={"date": DATE}).json()["roster_id"] == new_id
    with server.client(keys["provider:care-2"]) as api:
        assert api.get("/board/day", params={"date": DATE}).json()["roster_id"] == day["roster_id"]
    assert board.errors == []
