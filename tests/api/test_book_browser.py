"""The /book page in a real headless browser: Debian's chromium driven by Playwright, checked with axe-core.

A server of its own (bookings publish new rosters): plan A of
``support.two_provider_plan`` solved and published for tomorrow. A resident
asks, sees the times grouped by day with green ones marked in words, books one
by keyboard alone, sees it in their upcoming visits (and the provider's visit
list shows it, the roster passing ``check_roster``), cancels it; the contact
centre books for a new resident; a time taken through the API meanwhile
answers with fresh times. Each view is checked with axe-core (WCAG 2 A and AA
rules: zero violations); ``python -m tests.chromium`` installs axe-core from
``tests/package.json``. Screenshots go to ``$HOMECARE_ARTIFACTS`` (default
``tests/artifacts/``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    create_keys,
    solve,
    submit,
    two_provider_plan,
)
from tests.api.test_board_browser import (  # noqa: F401  (browser, axe_source: the shared fixtures)
    ARTIFACTS,
    TIMEOUT_MS,
    assert_accessible,
    axe_source,
    browser,
)
from tests.api.test_upcoming import role_clients
from tests.helpers import LONDON

FD, RES, C = "frontdoor", "resident:c2", "coordinator"
DATE = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
#: A week after DATE, published too, for weekly repeats.
NEXT_WEEK = (dt.date.fromisoformat(DATE) + dt.timedelta(days=7)).isoformat()


@pytest.fixture(scope="module")
def front(server_factory, london_network) -> tuple[LiveServer, dict[str, str]]:
    """A server with plan A published for tomorrow and a week later, and keys of the front door, a resident
    and a coordinator."""
    server = server_factory("book")
    keys = create_keys(server.db_url, [FD, RES, C, "resident:c4"])
    server.start()
    with server.client(keys[C]) as api:
        for date in (DATE, NEXT_WEEK):
            data = two_provider_plan(date)
            job = solve(api, submit(api, data), time_limit_s=0.5, publish=True)
            assert_valid_roster(data, api.get(f"/rosters/{job['roster_id']}").json()["roster"], london_network)
    return server, keys


class Page:
    """One page of /book signed in with a key, with the console errors it logged."""

    def __init__(self, chromium: Any, server: LiveServer, key: str) -> None:
        self.context = chromium.new_context(viewport={"width": 1100, "height": 1000}, locale="en-GB")
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(f"{server.url}/book")
        self.key = key

    def sign_in(self) -> None:
        """Type the key and press Enter."""
        self.page.fill("#key", self.key)
        self.page.press("#key", "Enter")
        self.page.wait_for_selector("#booking:not([hidden])")

    def wait_status(self, start: str) -> str:
        """Wait until the live region says something starting with ``start``; return it."""
        self.page.wait_for_function("(start) => document.querySelector('#status').innerText.startsWith(start)",
                                    arg=start)
        return self.status()

    def status(self) -> str:
        """The live region's text."""
        return self.page.locator("#status").inner_text()

    def focused(self) -> dict[str, Any]:
        """What has the keyboard focus: its id, tag, class and the offer or booking of its item."""
        return self.page.evaluate("""() => { const e = document.activeElement; const li = e.closest('li');
            return {id: e.id, tag: e.tagName, cls: e.className, offer: li ? li.dataset.offer || null : null,
                    booking: li ? li.dataset.booking || null : null, text: e.innerText}; }""")

    def tab_to(self, done: Any, limit: int = 60) -> dict[str, Any]:
        """Press Tab until ``done(focused)``; return what has the focus then."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            now = self.focused()
            if done(now):
                return now
        raise AssertionError(f"Tab never reached the element (last: {now})")

    def axe(self, source: str, view: str) -> None:
        """Run axe-core's WCAG 2 A/AA rules on the page as it is; no violation may be found."""
        assert_accessible(self.page, source, view)

    def screenshot(self, name: str) -> None:
        """Save a full-page screenshot as a test artefact."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def open_page(browser, front) -> Iterator[Any]:  # noqa: F811
    """Open /book for a role; every page is closed after the test."""
    server, keys = front
    pages: list[Page] = []

    def make(role: str) -> Page:
        pages.append(Page(browser, server, keys[role]))
        return pages[-1]

    yield make
    for p in pages:
        p.context.close()


@pytest.fixture
def api(front) -> Iterator[Any]:
    """Return an HTTP client of the server for a role; closed after the test."""
    yield from role_clients(*front)


def _ask(page: Page, *, times: str, first_day: str = DATE, days: int = 1) -> None:
    """Fill in the request (care, 30 minutes, one person) and press Enter on Find times."""
    page.page.select_option("#time-of-day", times)
    page.page.fill("#first-day", first_day)
    page.page.fill("#days", str(days))
    page.page.focus("#find")
    page.page.keyboard.press("Enter")
    page.page.wait_for_selector("#slots-panel:not([hidden])")


def _slots(page: Page) -> list[dict[str, Any]]:
    """Every slot the page lists, with the day it is listed under, its text and its green mark."""
    return page.page.evaluate("""() => [...document.querySelectorAll('#slots section.day')].flatMap(day =>
        [...day.querySelectorAll('li.slot')].map(li => ({day: day.dataset.date, heading: day.querySelector('h3').innerText,
            date: li.dataset.date, start: li.dataset.start, offer: li.dataset.offer, green: li.dataset.green === 'true',
            text: li.innerText})))""")


def _provider_visits(coordinator: httpx.Client, provider: str) -> dict[str, Any]:
    response = coordinator.get(f"/providers/{provider}/visits", params={"date": DATE})
    assert response.status_code == 200, response.text
    return response.json()


def _check_roster(coordinator: httpx.Client, roster_id: str, network: Any) -> None:
    roster = coordinator.get(f"/rosters/{roster_id}").json()
    assert_valid_roster(coordinator.get(f"/plans/{roster['plan_id']}").json()["plan"], roster["roster"], network)


def test_book_browser_resident_asks_books_by_keyboard_sees_and_cancels(open_page, api, axe_source, front,
                                                                       london_network):
    """A resident: times by day with green marked in words; booked by Tab and Enter alone; the visit is in
    their upcoming visits and the provider's list (roster valid); cancelled after a confirmation, it is gone.
    Axe finds nothing on the sign-in, times and upcoming views; no worker or provider is ever shown.
    """
    page = open_page(RES)
    page.axe(axe_source, "sign-in view")
    page.screenshot("book-sign-in")
    page.sign_in()
    page.page.wait_for_selector("#upcoming li.visit[data-visit=v2]")  # their regular care of tomorrow
    _ask(page, times="08:00-12:00", days=2)
    slots = _slots(page)
    assert slots, page.status()
    # What the API quotes for the same request: the same days and times, the same green ones.
    quoted = api(RES).post("/offers", json={"kind": "care", "duration_min": 30, "workers_required": 1,
                                            "preferred_times": [{"start": "08:00", "end": "12:00"}],
                                            "dates": [DT for DT in (dt.date.fromisoformat(DATE) - dt.timedelta(days=0),
                                                                    dt.date.fromisoformat(DATE) + dt.timedelta(days=1))
                                                      for DT in [DT.isoformat()]]}).json()["offers"]
    best = {}
    for o in quoted:  # one per day and time for a resident: the best ranked
        best.setdefault((o["date"], o["window"]["start"]), o["green"])
    assert {(s["date"], s["start"]): s["green"] for s in slots} == best
    assert all(s["day"] == s["date"] for s in slots)  # grouped by day, under the day's heading
    assert len({s["day"] for s in slots}) == len(page.page.locator("#slots section.day").all())
    assert any(s["green"] for s in slots), "no green slot to mark"
    for s in slots:
        assert ("Green: adds little travel" in s["text"]) == s["green"], s
    expect_live = page.status()
    assert re.match(r"Found \d+ times? on \d+ days?", expect_live), expect_live
    assert page.focused()["id"] == "slots-title"  # the keyboard lands on the times
    page.axe(axe_source, "times view")
    page.screenshot("book-resident-times")
    text = page.page.locator("body").inner_text()
    assert not re.search(r"\bw[123]\b|care-[12]|provider", text), text
    # Book the first green time with the keyboard alone.
    target = next(s for s in slots if s["green"])
    now = page.tab_to(lambda f: f["offer"] == target["offer"] and f["tag"] == "BUTTON")
    assert now["text"].startswith("Book")
    ring = page.page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                              "return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert ring[0] == "solid" and ring[1] >= 3, ring  # the focus is plain to see
    assert page.page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    page.page.keyboard.press("Enter")
    page.wait_status("Booked:")
    booking_id = page.page.locator("#upcoming li.visit[data-booking]").get_attribute("data-booking")
    visit_id = page.page.locator("#upcoming li.visit[data-booking]").get_attribute("data-visit")
    booking = next(b for b in api(RES).get("/bookings").json()["data"] if b["id"] == booking_id)
    assert booking["visits"][0]["window"]["start"] == target["start"] and booking["visits"][0]["date"] == target["date"]
    coordinator = api(C)
    provider = api(FD).get("/bookings", params={"client_id": "c2"}).json()["data"][0]["provider_id"]
    listed = _provider_visits(coordinator, provider)
    assert visit_id in {v["visit_id"] for v in listed["data"]}
    _check_roster(coordinator, listed["roster_id"], london_network)
    assert "Green" not in page.page.locator("#upcoming").inner_text()
    page.axe(axe_source, "upcoming view")
    page.screenshot("book-resident-upcoming")
    # Cancel: the focus is on the booking's Cancel button; Enter asks, Tab to Yes, Enter cancels.
    assert page.focused()["booking"] == booking_id
    page.page.keyboard.press("Enter")
    page.page.wait_for_selector("#confirm[open]")
    assert page.focused()["id"] == "confirm-no"
    page.axe(axe_source, "cancel confirmation")
    page.page.keyboard.press("Tab")
    assert page.focused()["id"] == "confirm-yes"
    page.page.keyboard.press("Enter")
    page.wait_status("Cancelled:")
    assert page.page.locator("#upcoming li.visit[data-booking]").count() == 0
    assert page.page.locator(f"#upcoming li.visit[data-visit=v2][data-date='{DATE}']").count() == 1  # care stays
    after = _provider_visits(coordinator, provider)
    assert visit_id not in {v["visit_id"] for v in after["data"]}
    _check_roster(coordinator, after["roster_id"], london_network)
    text = page.page.locator("body").inner_text()
    assert not re.search(r"\bw[123]\b|care-[12]|provider", text), text
    # Everything came from the service: no CDN, no web font.
    assert page.requests and all(u.startswith(f"{front[0].url}/") or u.startswith("data:") for u in page.requests), \
        page.requests
    assert page.errors == []


def test_book_browser_contact_centre_books_for_a_new_resident(open_page, api, axe_source, london_network):
    """The contact centre enters a new resident's address and home, books, and sees the visit (with its provider)."""
    page = open_page(FD)
    page.sign_in()
    page.page.check("#for-new")
    lat, lon = LONDON["euston_sq"]
    page.page.fill("#new-name", "Ada Brown")
    page.page.fill("#new-address", "NW1 2AA")
    page.page.fill("#new-lat", str(lat))
    page.page.fill("#new-lon", str(lon))
    _ask(page, times="12:00-17:00")
    slots = _slots(page)
    assert slots and {s["date"] for s in slots} == {DATE}
    assert all("provider care-" in s["text"] for s in slots)  # the contact centre sees providers
    page.axe(axe_source, "contact centre's times view")
    page.page.locator(f"li.slot[data-offer={slots[0]['offer']}] button.book").press("Enter")
    page.wait_status("Booked:")
    client_id = page.page.input_value("#client-id")
    assert client_id.startswith("resident-")
    assert page.page.locator("#upcoming-title").inner_text() == f"Upcoming visits of {client_id}"
    row = page.page.locator("#upcoming li.visit[data-booking]").inner_text()
    assert "provider care-" in row and slots[0]["start"] in row
    booking = api(FD).get("/bookings", params={"client_id": client_id}).json()["data"]
    assert [b["state"] for b in booking] == ["booked"]
    coordinator = api(C)
    listed = _provider_visits(coordinator, booking[0]["provider_id"])
    assert booking[0]["visits"][0]["visit_id"] in {v["visit_id"] for v in listed["data"]}
    _check_roster(coordinator, listed["roster_id"], london_network)
    page.axe(axe_source, "contact centre's upcoming view")
    page.screenshot("book-frontdoor-new-resident")
    assert page.errors == []


def test_book_browser_a_time_taken_meanwhile_shows_fresh_times(open_page, api, london_network):
    """c3's page shows a time; the same time is booked through the API first; booking it in the page answers
    that it was just taken and lists the times free now (fresh offers, bookable).
    """
    page = open_page(FD)
    page.sign_in()
    page.page.fill("#client-id", "c3")
    _ask(page, times="08:00-12:00")
    before = _slots(page)
    assert before
    ask = {"client_id": "c3", "kind": "care", "duration_min": 30, "workers_required": 1,
           "preferred_times": [{"start": "08:00", "end": "12:00"}], "dates": [DATE]}
    fd = api(FD)
    first = fd.post("/offers", json=ask).json()["offers"][0]
    taken = fd.post("/bookings", json={"offer_id": first["id"]}, headers={"Idempotency-Key": "taken-first"})
    assert taken.status_code == 201, taken.text
    same = page.page.locator(f"li.slot[data-date='{first['date']}'][data-start='{first['window']['start']}']") \
        .filter(has_text=f"provider {first['provider_id']}")
    assert same.count() == 1
    same.locator("button.book").press("Enter")
    page.wait_status("Sorry, that time has just been taken by someone else.")
    fresh = _slots(page)
    assert fresh and not {s["offer"] for s in fresh} & {s["offer"] for s in before}
    assert page.focused()["id"] == "slots-title"
    page.screenshot("book-taken-meanwhile")
    # A fresh time is bookable at once.
    page.page.locator(f"li.slot[data-offer={fresh[0]['offer']}] button.book").press("Enter")
    page.wait_status("Booked:")
    coordinator = api(C)
    for booking in fd.get("/bookings", params={"client_id": "c3"}).json()["data"]:
        listed = _provider_visits(coordinator, booking["provider_id"])
        assert booking["visits"][0]["visit_id"] in {v["visit_id"] for v in listed["data"]}
        _check_roster(coordinator, listed["roster_id"], london_network)
    # chromium logs the 409 it was answered as a failed load; nothing else may be logged.
    assert [e for e in page.errors if "status of 409 (Conflict)" not in e] == []


def test_book_browser_an_impossible_request_says_why_in_the_residents_words(open_page, api):
    """Nobody works in the evening: no times, and the page says the service's reason, in the live region too."""
    page = open_page(RES)
    page.sign_in()
    _ask(page, times="17:00-22:00")
    reason = api(RES).post("/offers", json={"kind": "care", "duration_min": 30, "dates": [DATE], "preferred_times": [
        {"start": "17:00", "end": "22:00"}]}).json()["reason"]
    assert reason and reason.startswith("no carer is working at the times you asked for on")
    assert page.page.locator("#slots li.slot").count() == 0
    assert page.page.locator("#slots-reason").inner_text() == f"No times found: {reason}."
    assert page.wait_status("No times found:") == f"No times found: {reason}."
    assert page.focused()["id"] == "slots-title"
    assert page.errors == []


def test_book_browser_a_weekly_repeat_books_every_date_and_cancels_them_together(open_page, api, london_network):
    """The resident ticks tomorrow's weekday (Space) and looks at 8 days: each time is offered on both dates;
    booking one puts both visits in their upcoming visits under one booking, and cancelling takes out both.
    """
    page = open_page("resident:c4")
    page.sign_in()
    weekday = dt.date.fromisoformat(DATE).strftime("%a").lower()
    page.page.focus(f"#day-{weekday}")
    page.page.keyboard.press("Space")
    assert page.page.is_checked(f"#day-{weekday}")
    _ask(page, times="12:00-17:00", days=8)
    slots = _slots(page)
    assert slots and {s["date"] for s in slots} == {DATE}  # listed under the first date
    later = dt.date.fromisoformat(NEXT_WEEK).strftime("%-d %B")
    assert all("and the same time on" in s["text"] and later in s["text"] for s in slots), slots[0]
    page.page.locator(f"li.slot[data-offer={slots[0]['offer']}] button.book").press("Enter")
    page.wait_status("Booked:")
    booked = page.page.locator("#upcoming li.visit[data-booking]")
    assert booked.count() == 2
    assert {booked.nth(i).get_attribute("data-date") for i in range(2)} == {DATE, NEXT_WEEK}
    assert len({booked.nth(i).get_attribute("data-booking") for i in range(2)}) == 1
    coordinator = api(C)
    booking = api(FD).get("/bookings", params={"client_id": "c4"}).json()["data"]
    assert [b["state"] for b in booking] == ["booked"]
    mine = booking[0]
    assert sorted(v["date"] for v in mine["visits"]) == [DATE, NEXT_WEEK]
    for v in mine["visits"]:
        listed = coordinator.get(f"/providers/{mine['provider_id']}/visits", params={"date": v["date"]}).json()
        assert v["visit_id"] in {r["visit_id"] for r in listed["data"]}
        _check_roster(coordinator, listed["roster_id"], london_network)
    booked.first.locator("button.cancel").press("Enter")
    page.page.wait_for_selector("#confirm[open]")
    page.page.locator("#confirm-yes").press("Enter")
    page.wait_status("Cancelled:")
    assert page.page.locator("#upcoming li.visit[data-booking]").count() == 0
    assert page.errors == []
