"""Working-time limits: visits per day, working minutes per day, and the weekly cap."""

from __future__ import annotations

from scheduler.io import plan_from_dict
from scheduler.validate import check_roster
from solver import SolveParams
from tests.helpers import FixedTravel, LONDON_NAMES, client, make_roster, plan_dict, provider, stop, visit, worker, solve_checked

FAST = SolveParams(time_limit_s=0.5)


def _plan(w1: dict, n_visits: int = 4, **kw) -> dict:
    """Two carers (w1 nearer everything) and ``n_visits`` 30-min visits over the morning."""
    return plan_dict(
        providers=[provider("care-1", **kw)],
        workers=[worker("w1", start_location="fitzroy_sq", **w1), worker("w2", start_location="queen_sq")],
        clients=[client(f"c{i}", location=LONDON_NAMES[i + 2]) for i in range(n_visits)],
        visits=[visit(f"v{i}", f"c{i}", window=("08:00", "12:00"), priority="mandatory") for i in range(n_visits)],
    )


def _solve(data, london_network):
    plan, roster, _ = solve_checked(data, london_network, FAST)
    return plan, roster


def _worked_s(plan, route, travel):
    return sum(s.end - s.start + s.travel_s for s in route.stops) + route.end_travel_s


def test_max_visits_caps_a_workers_day(london_network):
    """With max_visits 2, w1 serves two visits and w2 the rest, though w1 could do all four."""
    _, roster = _solve(_plan({"max_visits": 2}), london_network)
    assert len(roster.route("w1").stops) == 2
    assert not roster.unassigned


def test_max_working_min_caps_visits_and_travel(london_network):
    """With 75 working minutes, w1 fits two 30-min visits and their travel, not three."""
    plan, roster = _solve(_plan({"max_working_min": 75}), london_network)
    route = roster.route("w1")
    assert 1 <= len(route.stops) <= 2
    assert _worked_s(plan, route, None) <= 75 * 60
    assert not roster.unassigned


def test_weekly_cap_stops_a_worker_near_48_hours(london_network):
    """A carer 10 minutes short of the 48 h weekly cap gets no 30-min visit; the reason says so when alone."""
    _, roster = _solve(_plan({"week_worked_min": 48 * 60 - 10}), london_network)
    assert roster.route("w1").stops == ()
    data = _plan({"week_worked_min": 48 * 60 - 10}, n_visits=1)
    data["workers"] = data["workers"][:1]
    _, roster = _solve(data, london_network)
    (left,) = roster.unassigned
    assert left.code == "working_time" and "47.8333 h of 48 h worked this week" in left.reason


def test_provider_weekly_cap_is_configurable(london_network):
    """A provider cap of 40 h with 39 h worked leaves an hour: one or two visits, not four."""
    plan, roster = _solve(_plan({"week_worked_min": 39 * 60}, weekly_cap_min=40 * 60), london_network)
    assert plan.day_limit_min(plan.worker("w1")) == 60
    assert _worked_s(plan, roster.route("w1"), None) <= 60 * 60


def test_check_roster_flags_working_time_and_visit_count():
    """The validator reports more visits than max_visits and more work than the day allows."""
    plan = plan_from_dict(_plan({"max_visits": 1, "max_working_min": 50}, n_visits=2))
    roster = make_roster(plan, {"w1": [stop("v0", "08:10", travel_s=300, travel_m=1000),
                                       stop("v1", "09:00", travel_s=300, travel_m=1000)]})
    rules = sorted(v.rule for v in check_roster(plan, roster, travel=FixedTravel(300, 1000)))
    assert rules == ["max_visits", "working_time"]


def test_only_a_limit_shorter_than_the_day_is_modelled(london_network):
    """A working-time limit at least as long as the shift cannot bind: that worker counts no work.

    OR-Tools 9.13 to 9.15 copy a counted worker's whole transit matrix whenever they
    check their route, so leaving out limits that cannot bind speeds up big days there;
    the binding one still holds.
    """
    from solver import travel_for
    from solver.model import build_model

    data = _plan({"max_working_min": 75})
    data["workers"][1]["max_working_min"] = 8 * 60  # w2's shift is 08:00-16:00: 480 minutes
    plan = plan_from_dict(data)
    model = build_model(plan, travel_for(plan, london_network), FAST)
    work = model.routing.GetDimensionOrDie("Work")
    index = model.manager.NodeToIndex
    assert work.GetTransitValue(index(0), index(1), 0) > 0  # w1: travel and the visit count
    assert work.GetTransitValue(index(0), index(1), 1) == 0  # w2: nothing to count
    plan, roster = _solve(data, london_network)
    assert _worked_s(plan, roster.route("w1"), None) <= 75 * 60
    assert not roster.unassigned

    del data["workers"][0]["max_working_min"]
    plan = plan_from_dict(data)
    assert "Work" not in build_model(plan, travel_for(plan, london_network), FAST).routing.GetAllDimensionNames()
