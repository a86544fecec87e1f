"""Split shifts (availability) and rest breaks: modelled by the solver, checked by the validator."""

from __future__ import annotations

from scheduler.io import plan_from_dict
from scheduler.roster import Break, make_route
from scheduler.timeutil import parse_hhmm
from scheduler.validate import check_roster
from solver import SolveParams
from tests.helpers import LONDON_NAMES, client, make_roster, plan_dict, provider, stop, visit, worker, solve_checked

FAST = SolveParams(time_limit_s=1)
BREAK = {"after_min": 360, "duration_min": 20, "window": {"start": "11:00", "end": "12:00"}}


def _solve(data, london_network):
    plan, roster, _ = solve_checked(data, london_network, FAST)
    return plan, roster


def _busy_day(**worker_kw) -> dict:
    """One carer, 08:00-16:00, with eight 30-min visits spread over the day."""
    return plan_dict(
        providers=[provider("care-1", **{"break": BREAK})],
        workers=[worker("w1", **{"shift": ("08:00", "16:00"), **worker_kw})],
        clients=[client(f"c{i}", location=LONDON_NAMES[i + 2]) for i in range(8)],
        visits=[visit(f"v{i}", f"c{i}", window=(f"{8 + i:02d}:00", f"{8 + i:02d}:30"), priority="mandatory")
                for i in range(8)],
    )


def test_break_is_taken_in_its_window_between_visits(london_network):
    """An 8-hour shift gets a 20-min break starting 11:00-12:00 that overlaps no visit."""
    _, roster = _solve(_busy_day(), london_network)
    route = roster.route("w1")
    (rest,) = route.breaks
    assert rest.end - rest.start == 20 * 60
    assert parse_hhmm("11:00") <= rest.start <= parse_hhmm("12:00")
    assert all(s.end <= rest.start or rest.end <= s.start for s in route.stops)
    assert not roster.unassigned


def test_break_needs_room_so_a_packed_hour_loses_a_visit(london_network):
    """With visits filling 11:00-12:20 back to back in a long day, the break pushes one optional visit out."""
    data = _busy_day()
    data["visits"] = [visit(f"p{i}", f"c{i}", window=(f"11:{20 * i:02d}", f"11:{20 * i:02d}"), duration_min=20,
                            priority="low") for i in range(3)] + [
        visit("late", "c3", window=("12:00", "12:00"), duration_min=20, priority="low")] + [
        # A day of more than 6 hours owes the break (a short day would not).
        data["visits"][0], data["visits"][7]]
    _, roster = _solve(data, london_network)
    assert len(roster.unassigned) >= 1
    (rest,) = roster.route("w1").breaks
    assert parse_hhmm("11:00") <= rest.start <= parse_hhmm("12:00")


def test_short_shift_takes_no_break(london_network):
    """A 5-hour shift is under the 6-hour threshold: no break."""
    data = _busy_day(shift=("08:00", "13:00"))
    data["visits"] = data["visits"][:4]
    _, roster = _solve(data, london_network)
    assert roster.route("w1").breaks == ()


def test_split_shift_keeps_visits_inside_availability(london_network):
    """A carer available 08:00-10:00 and 14:00-16:00 serves nothing in between."""
    data = _busy_day(availability=[{"start": "08:00", "end": "10:00"}, {"start": "14:00", "end": "16:00"}])
    for v in data["visits"]:
        v["priority"] = "normal"
    plan, roster = _solve(data, london_network)
    served = {s.visit_id: s for s in roster.route("w1").stops}
    assert served and all(s.end <= parse_hhmm("10:00") or s.start >= parse_hhmm("14:00") for s in served.values())
    assert {"v2", "v3", "v4", "v5"}.isdisjoint(served)
    assert roster.route("w1").breaks == ()  # each stint is 2 hours: no break needed
    assert {u.visit_id for u in roster.unassigned} >= {"v2", "v3", "v4", "v5"}
    assert next(u for u in roster.unassigned if u.visit_id == "v3").code == "shift"


def test_check_roster_flags_missing_break_and_work_in_a_gap():
    """The validator reports a long stint with no break, and a visit inside an availability gap."""
    data = _busy_day(availability=[{"start": "08:00", "end": "15:00"}, {"start": "15:30", "end": "16:00"}])
    plan = plan_from_dict(data)
    roster = make_roster(plan, {"w1": [stop(f"v{i}", f"{8 + i:02d}:00") for i in range(8)]})
    rules = {v.rule for v in check_roster(plan, roster)}
    assert {"break", "availability"} <= rules
    fine = make_roster(plan, [make_route("w1", [stop(f"v{i}", f"{8 + i:02d}:00") for i in range(7)],
                                         breaks=[Break(parse_hhmm("11:30"), parse_hhmm("11:50"))])],
                       unassigned=[("v7", "test")])
    assert {v.rule for v in check_roster(plan, fine)} == set()


def test_break_stops_survive_json():
    """Breaks are written as stops of kind 'break' and read back into Route.breaks."""
    from scheduler.io import roster_from_dict, roster_to_dict

    plan = plan_from_dict(_busy_day())
    roster = make_roster(plan, [make_route("w1", [stop("v0", "08:00")], breaks=[Break(parse_hhmm("11:00"),
                                                                                     parse_hhmm("11:20"))])],
                         unassigned=[(f"v{i}", "test") for i in range(1, 8)])
    data = roster_to_dict(roster)
    kinds = [s["kind"] for s in data["routes"][0]["stops"]]
    assert kinds == ["visit", "break"] and data["routes"][0]["stops"][1]["visit_id"] is None
    assert roster_from_dict(data).routes[0].breaks == roster.routes[0].breaks


def test_breaks_and_arrivals_are_listed_in_time_order_just_in_time(london_network):
    """In the roster JSON, visits and the break are in time order, each arrival is the visit's start (the carer
    leaves as late as it allows, the wait shown as ``idle_s`` before leaving), and an outside checker of the
    contract's rule (arrival >= previous listed end + travel) finds nothing."""
    from scheduler.io import roster_to_dict
    from tests.contract import timing_breaches

    _, roster = _solve(_busy_day(), london_network)
    data = roster_to_dict(roster)
    assert timing_breaches(data) == []
    (route,) = data["routes"]
    kinds = [s["kind"] for s in route["stops"]]
    assert kinds.count("break") == 1 and kinds[0] == kinds[-1] == "visit"  # the break between two visits
    visits = [s for s in route["stops"] if s["kind"] == "visit"]
    assert all(s["arrival"] == s["start"] for s in visits)
    assert all(parse_hhmm(s["departure"]) + s["travel_s"] <= parse_hhmm(s["start"]) for s in visits)
    assert sum(s["idle_s"] + s["off_s"] for s in visits) == route["idle_s"] > 0
    assert route["idle_s"] == roster.kpis.idle_s


def test_a_short_day_lists_no_break_after_its_last_visit(london_network):
    """A carer with only morning visits in an 8-hour shift owes no break: none is listed after their last visit."""
    data = _busy_day()
    data["visits"] = data["visits"][:2]
    _, roster = _solve(data, london_network)
    route = roster.route("w1")
    assert len(route.stops) == 2 and route.breaks == ()
