"""GET /upcoming: a client's visits in the rosters published now, today and later, regular care and bookings.

A server of its own (bookings publish new rosters): plan A of
``support.two_provider_plan`` solved and published for tomorrow and for
yesterday (which must never show). Every roster a test publishes is checked
with ``check_roster`` (``support.assert_valid_roster``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.api.support import (
    LiveServer,
    assert_valid_roster,
    create_keys,
    publish_roster,
    solve,
    submit,
    two_provider_plan,
)

FD, RES, OTHER, C, PROV = "frontdoor", "resident:c2", "resident:c4", "coordinator", "provider:care-1"
ROLES = [C, FD, RES, OTHER, PROV, "planner", "worker:care-1:w1"]
TODAY = dt.datetime.now(dt.UTC).date()
DATE = (TODAY + dt.timedelta(days=1)).isoformat()
YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()
#: hair-1 named: a hairdressing request is offered to care providers' carers too (reported, api/frontdoor.py).
ASK = {"client_id": "c2", "kind": "hairdressing", "duration_min": 45, "provider_id": "hair-1",
       "preferred_times": [{"start": "14:00", "end": "17:00"}]}


def _hairdresser_plan(date: str) -> dict[str, Any]:
    """Plan A with a hairdressing provider (one hairdresser) so that c2 can book a second kind of visit."""
    from tests.helpers import provider, worker

    data = two_provider_plan(date)
    data["providers"].append(provider("hair-1", "hairdressing"))
    data["workers"].append(worker("h1", "hair-1", start_location="russell_sq"))
    return data


@pytest.fixture(scope="module")
def world(server_factory, london_network) -> tuple[LiveServer, dict[str, str], dict[str, Any]]:
    """Plan A published for tomorrow and for yesterday; keys per role of :data:`ROLES`."""
    server = server_factory("upcoming")
    keys = create_keys(server.db_url, ROLES)
    server.start()
    found: dict[str, Any] = {}
    with server.client(keys[C]) as api:
        for date in (DATE, YESTERDAY):
            data = _hairdresser_plan(date)
            job = solve(api, submit(api, data), time_limit_s=0.5, publish=True)
            roster = api.get(f"/rosters/{job['roster_id']}").json()["roster"]
            assert_valid_roster(data, roster, london_network)
            found[date] = roster
            found[f"{date} id"] = job["roster_id"]
    return server, keys, found


def role_clients(server: LiveServer, keys: dict[str, str]) -> Iterator[Callable[[str], httpx.Client]]:
    """Yield a maker of HTTP clients of ``server`` by role; every client is closed afterwards (for fixtures)."""
    clients: list[httpx.Client] = []

    def make(role: str) -> httpx.Client:
        clients.append(server.client(keys[role]))
        return clients[-1]

    try:
        yield make
    finally:
        for c in clients:
            c.close()


@pytest.fixture
def as_(world) -> Iterator[Callable[[str], httpx.Client]]:
    """Return an HTTP client of the server for a role; closed after the test."""
    server, keys, _ = world
    yield from role_clients(server, keys)


def _upcoming(api: httpx.Client, **params: str) -> dict[str, Any]:
    response = api.get("/upcoming", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _planned(roster: dict[str, Any], visit_ids: set[str]) -> dict[str, tuple[str, str]]:
    """The (start, end) of each of these visits in a roster (HH:MM, as the visit lists write them)."""
    from scheduler.io import roster_from_dict
    from scheduler.timeutil import format_hhmm

    return {s.visit_id: (format_hhmm(s.start), format_hhmm(s.end)) for r in roster_from_dict(roster).routes
            for s in r.stops if s.visit_id in visit_ids}

def test_upcoming_shows_regular_care_of_published_dates_from_today_only(as_, world):
    """c2's regular visit v2 of tomorrow, as planned, with its window and kind; yesterday's is not there."""
    _, _, rosters = world
    mine = _upcoming(as_(RES))
    assert mine["client_id"] == "c2" and mine["today"] == TODAY.isoformat()
    visits = mine["data"]
    assert [(v["date"], v["visit_id"]) for v in visits] == [(DATE, "v2")]
    v2 = visits[0]
    assert (v2["start"], v2["end"]) == _planned(rosters[DATE], {"v2"})["v2"]
    assert v2["window"] == {"start": "09:00", "end": "10:00"} and v2["kind"] == "care"
    assert v2["what"] == "care visit" and v2["duration_min"] == 30 and v2["booking_id"] is None
    assert "provider_id" not in str(mine) and "worker_id" not in str(mine)
    seen = _upcoming(as_(FD), client_id="c2")["data"]
    assert seen[0]["provider_id"] == "care-1" and seen[0]["worker_ids"]
    # A double-handed visit is one row with both workers.
    v5 = _upcoming(as_(C), client_id="c5")["data"]
    assert [v["visit_id"] for v in v5] == ["v5"] and len(v5[0]["worker_ids"]) == 2


def test_upcoming_roles_and_audit(as_):
    """A resident sees only their own (another client: 404); the contact centre must name the client (422);
    providers, workers and planners get 403; every answer is in the audit log for the client.
    """
    assert as_(OTHER).get("/upcoming", params={"client_id": "c2"}).status_code == 404
    assert as_(RES).get("/upcoming", params={"client_id": "c2"}).status_code == 200
    missing = as_(FD).get("/upcoming")
    assert missing.status_code == 422
    assert [p["field"] for p in missing.json()["detail"]] == ["client_id"]
    for role in (PROV, "planner", "worker:care-1:w1"):
        assert as_(role).get("/upcoming", params={"client_id": "c2"}).status_code == 403
    assert _upcoming(as_(FD), client_id="nobody")["data"] == []
    audit = as_(C).get("/audit", params={"client_id": "c2"}).json()["data"]
    assert any(a["action"] == "list_upcoming" for a in audit), audit


def test_upcoming_shows_a_booking_with_its_id_until_it_is_cancelled(as_, london_network):
    """A booked visit joins the list (with the booking's id) as the provider's list shows it; cancelled, it is gone."""
    fd, res, coordinator = as_(FD), as_(RES), as_(C)
    offers = fd.post("/offers", json=ASK).json()["offers"]
    assert offers, "no hairdressing offer for c2"
    made = fd.post("/bookings", json={"offer_id": offers[0]["id"]}, headers={"Idempotency-Key": "up-1"})
    assert made.status_code == 201, made.text
    booking = made.json()
    visit_id = booking["visits"][0]["visit_id"]
    listed = coordinator.get("/providers/hair-1/visits", params={"date": DATE}).json()
    row = next(v for v in listed["data"] if v["visit_id"] == visit_id)
    roster = coordinator.get(f"/rosters/{listed['roster_id']}").json()
    assert_valid_roster(coordinator.get(f"/plans/{roster['plan_id']}").json()["plan"], roster["roster"],
                        london_network)
    visits = _upcoming(res)["data"]
    assert [v["visit_id"] for v in visits] == ["v2", visit_id]  # by start: care in the morning, hair after 14:00
    booked = visits[1]
    assert booked["booking_id"] == booking["id"] and booked["what"] == "hairdresser"
    assert (booked["start"], booked["end"]) == (row["start"], row["end"]) == (offers[0]["slots"][0]["start"],
                                                                               row["end"])
    assert booked["window"] == offers[0]["window"] and booked["duration_min"] == 45
    assert res.delete(f"/bookings/{booking['id']}").json()["state"] == "cancelled"
    assert [v["visit_id"] for v in _upcoming(res)["data"]] == ["v2"]


def test_upcoming_reads_each_providers_own_published_roster(as_, world, london_network):
    """Another roster of tomorrow published for care-2 only: care-1's visits still come from care-1's roster."""
    server, keys, rosters = world
    coordinator = as_(C)
    data = _hairdresser_plan(DATE)
    data["visits"] = [v for v in data["visits"] if v["id"] != "v2"]  # c2's care gone from this copy
    job = solve(coordinator, submit(coordinator, data), time_limit_s=0.5)
    assert_valid_roster(data, coordinator.get(f"/rosters/{job['roster_id']}").json()["roster"], london_network)
    publish_roster(coordinator, job["roster_id"], ["care-2"])
    try:
        assert [v["visit_id"] for v in _upcoming(as_(RES))["data"]] == ["v2"]  # care-1's roster still has it
        publish_roster(coordinator, job["roster_id"], ["care-1"])
        assert _upcoming(as_(RES))["data"] == []  # care-1's roster now has no visit of c2
    finally:
        publish_roster(coordinator, rosters[f"{DATE} id"])  # the world's roster again, for every provider


def test_upcoming_the_book_page_and_its_files_are_served_with_no_key_and_nothing_from_elsewhere(world):
    """GET /book and its script and style: no key needed, the board's content policy, no other host named."""
    import re

    server = world[0]
    page = httpx.get(f"{server.url}/book")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    script = httpx.get(f"{server.url}/book/static/book.js").text
    for name, kind, loader in (("book.js", "text/javascript", page.text), ("book.css", "text/css", page.text),
                               ("dom.js", "text/javascript", script)):
        asset = httpx.get(f"{server.url}/book/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind), name
        assert name in loader, name  # the page loads its script and style; the script imports dom.js
        assert not re.search(r"https?://|@import|fonts\.", asset.text), name
    assert not re.search(r"https?://", page.text)
    assert httpx.get(f"{server.url}/book/static/board.js").status_code == 404  # only the page's own files
    assert httpx.get(f"{server.url}/book/static/..%2Fmain.py").status_code == 404
