"""The minimum wage after the search (solver.wage.retime): less unpaid waiting for carers left below it."""

from __future__ import annotations

from scheduler.pay import pay_report
from scheduler.roster import Roster, compute_kpis
from scheduler.validate import check_roster
from solver.decode import timed_route
from solver.wage import retime
from tests.helpers import FixedTravel, LONDON_NAMES, client, make_plan, provider, stop, visit, worker

TRAVEL = FixedTravel(300, 1500)
PAY = {"model": "hourly", "hourly_rate": 13.0, "paid_time": "contact"}


def _plan(*, mode: str = "penalty", a_window=("08:00", "09:30")):
    """w1 does A then B; B's window opens 45 minutes after A ends (plus travel); w2 does C and D."""
    return make_plan(
        providers=[provider("care-1", pay=PAY)],
        workers=[worker("w1", shift=("07:00", "18:00")), worker("w2", shift=("07:00", "18:00"),
                                                                  start_location="queen_sq")],
        clients=[client(f"c{i}", location=LONDON_NAMES[i + 2]) for i in range(4)],
        visits=[visit("A", "c0", window=a_window), visit("B", "c1", window=("09:20", "09:25")),
                visit("C", "c2", window=("08:30", "09:00")), visit("D", "c3", window=("09:05", "09:10"))],
        minimum_wage={"mode": mode},
    )


def _routes(plan, days):
    return [timed_route(plan, plan.worker(wid), stops, (), TRAVEL) for wid, stops in days.items()]


def _report(plan, routes):
    roster = Roster(plan.date, tuple(routes), (), compute_kpis(plan, routes, ()))
    assert check_roster(plan, roster, travel=TRAVEL) == []
    return {w.worker_id: w for w in pay_report(plan, roster).workers}


def test_a_visit_starts_later_so_the_wait_moves_before_the_day():
    """A can start later in its window: it does, the 45-minute counted wait before B goes, and w1's shortfall falls."""
    plan = _plan()
    routes = _routes(plan, {"w1": [stop("A", "08:00"), stop("B", "09:20")], "w2": [stop("C", "08:30"),
                                                                                   stop("D", "09:05")]})
    before = _report(plan, routes)["w1"]
    assert before.below_minimum and before.waiting_s == 45 * 60

    new, changed = retime(plan, routes, (), TRAVEL)

    after = _report(plan, new)["w1"]
    assert changed == ["w1"]
    assert new[0].stops[0].start == 8 * 3600 + 45 * 60  # B's start less travel and A's 30 minutes
    assert after.waiting_s == 0 and after.shortfall < before.shortfall


def test_a_visit_moves_into_a_short_carers_wait():
    """A cannot move (its window is one minute); C moves from w2 into w1's wait, and the day's shortfall falls."""
    plan = _plan(a_window=("08:00", "08:00"))
    routes = _routes(plan, {"w1": [stop("A", "08:00"), stop("B", "09:20")], "w2": [stop("C", "08:30"),
                                                                                   stop("D", "09:05")]})
    before = _report(plan, routes)
    short_before = sum(w.shortfall for w in before.values())

    new, changed = retime(plan, routes, (), TRAVEL)

    after = _report(plan, new)
    assert [s.visit_id for s in new[0].stops] == ["A", "C", "B"]
    assert [s.visit_id for s in new[1].stops] == ["D"]
    assert set(changed) == {"w1", "w2"}
    assert sum(w.shortfall for w in after.values()) < short_before


def test_nothing_changes_when_the_plan_turns_the_rule_off():
    plan = _plan(mode="off")
    routes = _routes(plan, {"w1": [stop("A", "08:00"), stop("B", "09:20")], "w2": [stop("C", "08:30"),
                                                                                   stop("D", "09:05")]})
    assert retime(plan, routes, (), TRAVEL) == (routes, [])
