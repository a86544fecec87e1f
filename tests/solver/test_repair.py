"""After the search: left-out mandatory visits go where the validator finds room, if every rule still holds."""

from __future__ import annotations

import dataclasses

import pytest

import solver.decode
from scheduler.model import Plan
from scheduler.roster import Roster, Unassigned, make_route
from scheduler.validate import check_roster
from solver import SolveParams
from solver.repair import fill_left_out
from tests.helpers import (
    FixedTravel,
    client,
    make_plan,
    make_roster,
    solve_checked,
    stop,
    visit,
    worker,
)

LEG_S, LEG_M = 300, 1500


def _plan(*, max_visits: int | None = None, excluded: tuple[str, ...] = ()) -> Plan:
    """Return a plan: two carers 08:00-13:00 (no break owed) and three mandatory visits.

    A morning visit, a late-morning one and a double-handed one; the client of
    the late two may exclude workers.
    """
    return make_plan(
        workers=[worker("w1", shift=("08:00", "13:00"), max_visits=max_visits),
                 worker("w2", shift=("08:00", "13:00"))],
        clients=[client("c1", location="fitzroy_sq"),
                 client("c2", location="gordon_sq", excluded_worker_ids=list(excluded))],
        visits=[visit("early", "c1", window=("08:00", "09:00"), priority="mandatory"),
                visit("late", "c2", window=("11:00", "12:00"), priority="mandatory"),
                visit("pair", "c2", window=("09:30", "10:30"), workers_required=2, priority="mandatory")],
    )


def _left_out(plan: Plan, *missing: str) -> Roster:
    """Return a roster where w1 serves ``early`` only.

    The visits named are left out as a search cut short leaves them (code
    ``search``), the others as impossible (code ``busy``).
    """
    w1 = make_route("w1", [stop("early", "08:05", travel_s=LEG_S, travel_m=LEG_M)], end_travel_s=LEG_S,
                    end_travel_m=LEG_M)
    left = [Unassigned(v.id, "room, but the search ended first" if v.id in missing else "nobody can",
                       "search" if v.id in missing else "busy")
            for v in plan.visits if v.id != "early"]
    return make_roster(plan, [w1, make_route("w2", [])], left)


def _with(roster: Roster, routes, left) -> Roster:  # noqa: ANN001
    return dataclasses.replace(roster, routes=tuple(routes), unassigned=tuple(left))


def test_a_left_out_mandatory_visit_that_clearly_fits_is_served():
    """w1's day has room after ``early`` for ``late``, and w1's and w2's for the pair: the repair serves them."""
    plan, travel = _plan(), FixedTravel(LEG_S, LEG_M)
    roster = _left_out(plan, "late", "pair")
    before = check_roster(plan, roster, travel=travel)
    assert sorted((v.rule, v.record_id) for v in before) == [("mandatory", "late"), ("mandatory", "pair")]

    routes, left, filled = fill_left_out(plan, roster.routes, roster.unassigned, travel)

    assert filled == ["late", "pair"]
    assert left == []
    assert check_roster(plan, _with(roster, routes, left), travel=travel) == []
    starts = {(r.worker_id, s.visit_id): s.start for r in routes for s in r.stops}
    assert starts[("w1", "late")] == 11 * 3600  # the validator's gap: the earliest start in the window
    assert starts[("w1", "pair")] == starts[("w2", "pair")] == 9 * 3600 + 30 * 60
    assert starts[("w1", "early")] == 8 * 3600 + 5 * 60  # other stops keep their times


def test_room_a_rule_forbids_is_not_taken_and_the_visit_stays_out_with_code_search():
    """w1 may make one visit (``max_visits``) and the client excludes w2: putting ``late`` in breaks a rule."""
    plan, travel = _plan(max_visits=1, excluded=("w2",)), FixedTravel(LEG_S, LEG_M)
    roster = _left_out(plan, "late")

    routes, left, filled = fill_left_out(plan, roster.routes, roster.unassigned, travel)

    assert filled == []
    assert routes == list(roster.routes)
    assert [(u.visit_id, u.code) for u in left] == [("late", "search"), ("pair", "busy")]
    # The validator no longer claims room that max_visits forbids (issue 22): no rule is broken.
    assert check_roster(plan, _with(roster, routes, left), travel=travel) == []


def test_solve_fills_room_a_cut_short_search_left(london_network, monkeypatch: pytest.MonkeyPatch):
    """A search that ends with a mandatory visit out, though a day has room, still gives a valid roster."""
    real_decode = solver.decode.decode

    def cut_short(model, assignment):  # noqa: ANN001, ANN202 - the search ended before it served "late"
        routes, unassigned = real_decode(model, assignment)
        out = []
        for route in routes:
            if not any(s.visit_id == "late" for s in route.stops):
                out.append(route)
                continue
            worker = model.plan.worker(route.worker_id)
            stops = [s for s in route.stops if s.visit_id != "late"]
            assert route.stops[-1].visit_id == "late", "the test drops the day's last stop"
            last = model.plan.visit_location(model.plan.visit(stops[-1].visit_id)) if stops else None
            back = model.travel.leg(worker, last, worker.end_location) if stops else (0, 0)
            out.append(make_route(route.worker_id, stops, departure=route.departure, end_travel_s=back[0],
                                  end_travel_m=back[1], breaks=route.breaks))
        return out, [*unassigned, Unassigned("late", "", "dropped")]

    monkeypatch.setattr(solver.decode, "decode", cut_short)
    plan = make_plan(
        workers=[worker("w1", shift=("08:00", "13:00"))],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq")],
        visits=[visit("early", "c1", window=("08:00", "09:00"), priority="mandatory"),
                visit("late", "c2", window=("11:00", "12:00"), priority="mandatory")],
    )
    _, roster, _ = solve_checked(plan, london_network, SolveParams(time_limit_s=0.5))  # checks every rule

    assert [s.visit_id for r in roster.routes for s in r.stops] == ["early", "late"]
    assert roster.unassigned == ()
    assert roster.meta["filled_after_search"] == ["late"]
