"""A worker's day as iCalendar: parsed back with ``icalendar``, events match the roster."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduler.errors import UnknownReferenceError
from scheduler.ics import worker_calendar
from scheduler.validate import check_roster
from solver import SolveParams
from tests.helpers import client, plan_dict, provider, visit, worker
from tests.helpers import solve_checked as helpers_solve_checked

LONDON_TZ = ZoneInfo("Europe/London")
STAMP = dt.datetime(2026, 11, 20, 17, 30, tzinfo=dt.UTC)
AWKWARD = "Smith, Jones; A\\B"


@pytest.fixture(scope="module")
def day(london_network):
    """Solve a day with a long shift (so a rest break), a double-handed visit and an idle worker.

    Returns (plan, roster, travel).
    """
    data = plan_dict(
        providers=[provider("care-1", **{"break": {"after_min": 240, "duration_min": 20}}),
                   provider("hair-1", "hairdressing")],
        workers=[worker("w1", shift=("08:00", "17:00"), name="Ann Carer"),
                 worker("w2", start_location="queen_sq", shift=("08:00", "17:00")),
                 worker("w3", "hair-1")],
        clients=[client("c1", location="fitzroy_sq", name=AWKWARD,
                        address="1 Fitzroy Square, London", notes="Key safe 1234\nDog: friendly"),
                 client("c2", location="russell_sq", postcode="WC1B 5BE"),
                 client("c3", location="marylebone", name="Client 3")],
        visits=[visit("v1", "c1", window=("08:00", "08:30"), tasks=["personal care", "breakfast"],
                      pinned_worker_id="w1"),
                visit("v2", "c2", window=("10:30", "11:00"), pinned_worker_id="w1"),
                visit("v3", "c3", window=("12:30", "13:00"), workers_required=2,
                      priority="mandatory"),
                visit("v4", "c1", window=("15:30", "16:00"), pinned_worker_id="w1")],
    )
    plan, roster, travel = helpers_solve_checked(data, london_network, SolveParams(time_limit_s=1))
    assert [s.visit_id for s in roster.route("w1").stops] == ["v1", "v2", "v3", "v4"]
    assert roster.route("w1").breaks
    return plan, roster, travel


def _events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def _local_hhmm(value: dt.datetime) -> str:
    return value.astimezone(LONDON_TZ).strftime("%H:%M")


def test_ics_one_event_per_visit_at_the_roster_times(day):
    """Each stop is an opaque event whose start and end, in London time, are the roster's."""
    plan, roster, _ = day
    route = roster.route("w1")
    events = [e for e in _events(worker_calendar(plan, roster, "w1", stamp=STAMP))
              if e.get("transp", "OPAQUE") == "OPAQUE"]
    assert len(events) == len(route.stops)
    for event, stop in zip(events, route.stops, strict=True):
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert start.utcoffset() == dt.timedelta(0)  # written in UTC
        assert start.date() == roster.date
        assert start.hour * 3600 + start.minute * 60 == stop.start
        assert end.hour * 3600 + end.minute * 60 == stop.end
        assert str(event["uid"]) == f"20261124-w1-{stop.visit_id}@homecare"


def test_ics_summer_times_are_converted_from_british_summer_time(day, london_network):
    """On a summer date 08:00 in London is 07:00 UTC: the event says 07:00Z."""
    plan, roster, travel = day
    summer = dt.date(2026, 7, 1)
    plan, roster = dataclasses.replace(plan, date=summer), dataclasses.replace(roster, date=summer)
    assert check_roster(plan, roster, travel=travel) == []
    first = roster.route("w1").stops[0]
    data = worker_calendar(plan, roster, "w1", stamp=STAMP)
    start = _events(data)[0].decoded("dtstart")
    wall = dt.datetime.combine(summer, dt.time()) + dt.timedelta(seconds=first.start)
    assert start.utcoffset() == dt.timedelta(0)
    assert start == wall.replace(tzinfo=LONDON_TZ)  # the same instant
    utc = wall - dt.timedelta(hours=1)
    assert f"DTSTART:{utc:%Y%m%dT%H%M%S}Z".encode() in data


def test_ics_breaks_are_transparent_events(day):
    """Each rest break is an event that does not block time."""
    plan, roster, _ = day
    route = roster.route("w1")
    events = _events(worker_calendar(plan, roster, "w1", stamp=STAMP))
    breaks = [e for e in events if e.get("transp") == "TRANSPARENT"]
    assert len(breaks) == len(route.breaks) >= 1
    for event, rest in zip(breaks, route.breaks, strict=True):
        assert str(event["summary"]) == "Rest break"
        start = event.decoded("dtstart")
        assert start.hour * 3600 + start.minute * 60 == rest.start


def test_ics_event_says_who_where_what_and_the_travel_before(day):
    """SUMMARY names client and visit, LOCATION and GEO where; DESCRIPTION tasks, notes, travel."""
    plan, roster, _ = day
    events = {str(e["uid"]).split("-")[2].split("@")[0]: e
              for e in _events(worker_calendar(plan, roster, "w1", stamp=STAMP))}
    first = events["v1"]
    assert str(first["summary"]) == f"{AWKWARD}: visit v1"
    assert str(first["location"]) == "1 Fitzroy Square, London (51.522600, -0.139700)"
    assert tuple(first.decoded("geo")) == (51.5226, -0.1397)
    text = str(first["description"])
    assert "Tasks: personal care, breakfast." in text
    assert "Notes: Key safe 1234\nDog: friendly" in text
    stop = roster.route("w1").stops[0]
    assert f"{stop.travel_m / 1000:.1f} km by drive from home" in text
    assert str(events["v2"]["location"]).startswith("WC1B 5BE (")
    assert "Double-handed with w2." in str(events["v3"]["description"])
    assert "(double-handed)" in str(events["v3"]["summary"])
    assert "from v2 (c2)" in str(events["v3"]["description"])


def test_ics_file_is_rfc5545_text(day):
    """CRLF line endings, lines of at most 75 octets, text escaped, and it round-trips exactly."""
    plan, roster, _ = day
    data = worker_calendar(plan, roster, "w1", stamp=STAMP)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # the long descriptions are folded
    unfolded = data.replace(b"\r\n ", b"")
    assert b"SUMMARY:Smith\\, Jones\\; A\\\\B: visit v1" in unfolded
    assert b"Key safe 1234\\nDog: friendly" in unfolded
    assert icalendar.Calendar.from_ical(data).to_ical() == data
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["version"]) == "2.0" and str(cal["x-wr-timezone"]) == "Europe/London"


def test_ics_uids_are_stable_and_unique(day):
    """Two exports at different times give the same UIDs, one per event."""
    plan, roster, _ = day
    later = STAMP + dt.timedelta(hours=3)
    first = [str(e["uid"]) for e in _events(worker_calendar(plan, roster, "w1", stamp=STAMP))]
    second = [str(e["uid"]) for e in _events(worker_calendar(plan, roster, "w1", stamp=later))]
    assert first == second and len(set(first)) == len(first)


def test_ics_worker_with_no_visits_gets_an_empty_calendar(day):
    """An idle worker's calendar parses and holds no events."""
    plan, roster, _ = day
    data = worker_calendar(plan, roster, "w3", stamp=STAMP)
    assert _events(data) == []
    assert str(icalendar.Calendar.from_ical(data)["x-wr-calname"]) == "w3 (w3), 2026-11-24"


def test_ics_unknown_worker_lists_the_plan_workers(day):
    """An unknown worker id raises an error naming it and listing the plan's workers."""
    plan, roster, _ = day
    with pytest.raises(UnknownReferenceError) as err:
        worker_calendar(plan, roster, "w42")
    assert "worker 'w42'" in str(err.value) and "w1, w2, w3" in str(err.value)
