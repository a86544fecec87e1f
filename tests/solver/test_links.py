"""Linked visits at one client, across providers: gaps kept by the solver, checked by the validator."""

from __future__ import annotations

from scheduler.io import plan_from_dict
from scheduler.validate import check_roster
from solver import SolveParams
from tests.helpers import client, make_roster, plan_dict, provider, stop, visit, worker, solve_checked

FAST = SolveParams(time_limit_s=0.5)


def _plan(**links):
    """Care at lunch, a grocery drop and a haircut for one client, from three providers."""
    groceries = visit("groceries", kind="delivery", window=("09:00", "13:00"), duration_min=10, demand=2,
                      priority="high", **links.get("groceries", {}))
    hair = visit("hair", kind="hairdressing", window=("09:00", "16:00"), duration_min=45,
                 **links.get("hair", {}))
    return plan_from_dict(plan_dict(
        providers=[provider("care"), provider("shop", "delivery"), provider("salon", "hairdressing")],
        workers=[worker("carer", "care", shift=("08:00", "18:00")),
                 worker("van", "shop", capacity=20, start_location="queen_sq", shift=("08:00", "18:00")),
                 worker("stylist", "salon", start_location="marylebone", shift=("09:00", "17:00"))],
        clients=[client("c1", location="fitzroy_sq")],
        visits=[visit("lunch", window=("12:00", "13:00"), priority="mandatory"), groceries, hair],
    ))


def _solve(plan, london_network):
    _, roster, _ = solve_checked(plan, london_network, FAST)
    return {s.visit_id: s for r in roster.routes for s in r.stops}, roster


def test_link_delivery_arrives_before_lunch_care(london_network):
    """Groceries end 0-60 min before the lunch visit starts, though the van could come at 09:00."""
    stops, roster = _solve(_plan(groceries={"before": {"visit_id": "lunch", "min_gap_min": 0, "max_gap_min": 60}}),
                           london_network)
    gap = stops["lunch"].start - stops["groceries"].end
    assert 0 <= gap <= 60 * 60
    assert not roster.unassigned


def test_link_hairdresser_comes_after_morning_care(london_network):
    """The haircut starts at least 30 min after the lunch visit ends."""
    stops, _ = _solve(_plan(hair={"after": {"visit_id": "lunch", "min_gap_min": 30}}), london_network)
    assert stops["hair"].start >= stops["lunch"].end + 30 * 60


def test_link_that_cannot_be_met_leaves_the_visit_out(london_network):
    """A haircut (from 09:00) that must end 4 h before the 12:00-13:00 lunch cannot be served."""
    stops, roster = _solve(_plan(hair={"before": {"visit_id": "lunch", "min_gap_min": 240}}), london_network)
    assert "lunch" in stops and "hair" not in stops
    assert [u.visit_id for u in roster.unassigned] == ["hair"]
    (left,) = roster.unassigned
    assert left.code == "linked" and "'lunch'" in left.reason and "no time in its window" in left.reason


def test_check_roster_flags_a_broken_link():
    """The validator reports a linked visit outside its gap, with rule ``linked``."""
    plan = _plan(groceries={"before": {"visit_id": "lunch", "min_gap_min": 0, "max_gap_min": 60}})
    roster = make_roster(plan, {"carer": [stop("lunch", "12:00")], "van": [stop("groceries", "09:00", 10)]},
                         unassigned=[("hair", "test")])
    (violation,) = [v for v in check_roster(plan, roster) if v.rule == "linked"]
    assert "starts 170 min after" in violation.message
    ok = make_roster(plan, {"carer": [stop("lunch", "12:00")], "van": [stop("groceries", "11:30", 10)]},
                     unassigned=[("hair", "test")])
    assert [v for v in check_roster(plan, ok) if v.rule == "linked"] == []
