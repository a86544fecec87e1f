"""Pinned workers and locked stops: re-optimising keeps what was promised, exactly."""

from __future__ import annotations

import dataclasses

import pytest

from scheduler.errors import PlanError
from scheduler.io import plan_from_dict
from scheduler.roster import LockedStop, locks_from_roster
from scheduler.timeutil import parse_hhmm
from scheduler.validate import check_roster
from solver import SolveParams, solve, travel_for
from tests.helpers import LONDON_NAMES, client, make_roster, plan_dict, stop, visit, worker, solve_checked

FAST = SolveParams(time_limit_s=0.5)


def _day() -> dict:
    """Three carers and eight visits across the morning and afternoon."""
    names = LONDON_NAMES[:8]
    return plan_dict(
        workers=[worker("w1", start_location="marylebone"), worker("w2", start_location="queen_sq"),
                 worker("w3", start_location="euston_sq")],
        clients=[client(f"c{i}", location=name) for i, name in enumerate(names)],
        visits=[visit(f"am{i}", f"c{i}", window=("08:00", "10:00")) for i in range(4)]
        + [visit(f"pm{i}", f"c{i + 4}", window=("12:00", "15:00"), priority="mandatory") for i in range(4)],
    )


def _solve(data: dict, london_network, locked=()):
    plan, roster, _ = solve_checked(data, london_network, FAST, locked=locked)
    return plan, roster


def _servers(roster, visit_id):
    return sorted(r.worker_id for r in roster.routes for s in r.stops if s.visit_id == visit_id)


def test_pinned_visit_goes_to_its_worker(london_network):
    """A visit pinned to the farthest worker is served by that worker."""
    data = _day()
    data["visits"][0]["pinned_worker_id"] = "w3"
    _, roster = _solve(data, london_network)
    assert _servers(roster, "am0") == ["w3"]


def test_pinned_double_handed_visit_includes_its_worker(london_network):
    """A double-handed visit pinned to w2 is served by w2 and one other worker."""
    data = _day()
    data["visits"][1].update(workers_required=2, pinned_worker_id="w2", priority="mandatory")
    _, roster = _solve(data, london_network)
    servers = _servers(roster, "am1")
    assert len(servers) == 2 and "w2" in servers


def test_pinned_to_an_ineligible_worker_is_explained(london_network):
    """A visit pinned to a worker without the required skill is unassigned with code ``pinned``."""
    data = _day()
    data["visits"][0].update(pinned_worker_id="w1", required_skills=["hoist"])
    data["workers"][1]["skills"] = ["hoist"]
    _, roster = _solve(data, london_network)
    (left,) = [u for u in roster.unassigned if u.visit_id == "am0"]
    assert left.code == "pinned"
    assert "pinned worker 'w1' cannot serve it" in left.reason and "hoist" in left.reason


def test_pinned_worker_must_exist():
    """A pin to an unknown worker is a plan error naming the visit and the field."""
    data = _day()
    data["visits"][0]["pinned_worker_id"] = "nobody"
    with pytest.raises(PlanError) as err:
        plan_from_dict(data)
    (problem,) = err.value.problems
    assert (problem.record_id, problem.field) == ("am0", "pinned_worker_id")


def test_reoptimise_after_sickness_keeps_locked_stops(london_network):
    """A carer off sick after 11:00: morning stops stay exactly; afternoon visits are re-planned."""
    plan, first = _solve(_day(), london_network)
    sick = next(r.worker_id for r in first.routes if any(s.visit_id.startswith("pm") for s in r.stops))
    locked = [lk for lk in locks_from_roster(first, before=parse_hhmm("11:00")) if lk.worker_id != sick]
    data = _day()
    data["workers"] = [w for w in data["workers"] if w["id"] != sick]
    # The sick carer's morning stops are in the past: they stay in the plan as done elsewhere,
    # so here they are simply removed with the carer.
    gone = {lk.visit_id for lk in locks_from_roster(first, worker_ids=[sick]) if lk.start < parse_hhmm("11:00")}
    data["visits"] = [v for v in data["visits"] if v["id"] not in gone]
    plan2, second = _solve(data, london_network, locked=locked)
    for lk in locked:
        (kept,) = [s for s in second.route(lk.worker_id).stops if s.visit_id == lk.visit_id]
        assert kept.start == lk.start
    assert all(r.worker_id != sick for r in second.routes)
    assert {v.id for v in plan2.visits if v.id.startswith("pm")} <= {s.visit_id for r in second.routes for s in r.stops}


def test_locked_stop_outside_a_changed_window_is_refused(london_network):
    """A lock whose start no longer fits the visit's window is a plan error naming the visit."""
    plan = plan_from_dict(_day())
    travel = travel_for(plan, london_network)
    with pytest.raises(PlanError) as err:
        solve(plan, params=FAST, travel=travel, locked=[LockedStop("am0", "w1", parse_hhmm("11:00"))])
    (problem,) = err.value.problems
    assert (problem.record_id, problem.field) == ("am0", "locked")
    assert "not a minute inside its window 08:00-10:00" in problem.message


def test_locked_stops_that_clash_are_refused(london_network):
    """Two locks a worker cannot both keep (same minute, two places) are refused with the reason."""
    plan = plan_from_dict(_day())
    travel = travel_for(plan, london_network)
    at = parse_hhmm("09:00")
    with pytest.raises(PlanError) as err:
        solve(plan, params=FAST, travel=travel,
              locked=[LockedStop("am0", "w1", at), LockedStop("am1", "w1", at)])
    assert {p.field for p in err.value.problems} == {"locked"}
    assert "cannot be kept" in str(err.value)


def test_lock_to_unknown_worker_is_refused(london_network):
    """A lock naming a worker not in the plan is a plan error."""
    plan = plan_from_dict(_day())
    travel = travel_for(plan, london_network)
    with pytest.raises(PlanError, match="who is not in the plan"):
        solve(plan, params=FAST, travel=travel, locked=[LockedStop("am0", "w9", parse_hhmm("09:00"))])


def test_locks_from_roster_selects_by_time_visit_and_worker():
    """Stops are kept if before the cut-off, named, or of a named worker; the rest are free."""
    plan = plan_from_dict(_day())
    roster = make_roster(plan, {"w1": [stop("am0", "08:00"), stop("pm0", "12:00")],
                                "w2": [stop("am1", "09:00"), stop("pm1", "13:00")]})
    assert {lk.visit_id for lk in locks_from_roster(roster, before=parse_hhmm("10:00"))} == {"am0", "am1"}
    assert {lk.visit_id for lk in locks_from_roster(roster, visit_ids=["pm1"])} == {"pm1"}
    assert {lk.visit_id for lk in locks_from_roster(roster, worker_ids=["w1"])} == {"am0", "pm0"}
    assert locks_from_roster(roster) == ()


def test_check_roster_flags_moved_locked_stops_and_broken_pins():
    """The validator reports a locked stop moved in time and a pinned visit served by another worker."""
    data = _day()
    data["visits"][1]["pinned_worker_id"] = "w1"
    plan = plan_from_dict(data)
    roster = make_roster(plan, {"w1": [stop("am0", "08:30")], "w2": [stop("am1", "09:00")]},
                         unassigned=[(v.id, "test") for v in plan.visits if v.id not in ("am0", "am1")])
    lock = LockedStop("am0", "w1", parse_hhmm("08:00"))
    rules = {v.rule for v in check_roster(plan, roster, locked=[lock])}
    assert rules == {"locked", "pinned"}
    kept = dataclasses.replace(lock, start=parse_hhmm("08:30"))
    assert {v.rule for v in check_roster(plan, roster, locked=[kept])} == {"pinned"}


def test_locked_double_handed_visit_needs_a_partner(london_network):
    """A double-handed visit locked to one worker whose partner is gone and nobody can join: clear error."""
    data = _day()
    data["visits"][0].update(workers_required=2, priority="mandatory", window={"start": "09:00", "end": "09:00"})
    data["workers"] = data["workers"][:2]  # w2, the only possible partner, is locked elsewhere at 09:00
    plan = plan_from_dict(data)
    travel = travel_for(plan, london_network)
    with pytest.raises(PlanError, match="no second eligible worker can join at that minute") as err:
        solve(plan, params=FAST, travel=travel, locked=[LockedStop("am0", "w1", parse_hhmm("09:00")),
                                                        LockedStop("am1", "w2", parse_hhmm("09:00"))])
    assert err.value.problems[0].record_id == "am0"


def _replan(first, data: dict, london_network, at: str):
    """Re-plan ``first`` for the changed plan ``data`` at ``at``, as ``solve --keep --lock-before`` does."""
    from scheduler.roster import replan_locks

    plan = plan_from_dict(data)
    travel = travel_for(plan, london_network)
    replan = replan_locks(first, plan, before=parse_hhmm(at))
    roster = solve(plan, params=FAST, travel=travel, locked=replan.locked, locked_before=replan.locked_before).roster
    violations = check_roster(plan, roster, travel=travel, locked=replan.locked, locked_before=replan.locked_before)
    assert violations == [], [str(v) for v in violations]
    return plan, roster, replan


def _sick_day() -> tuple[dict, str]:
    """_day() with a morning window that closes at 09:30, and the carer who is to fall sick: w1, pinned at 08:15."""
    data = _day()
    data["visits"][0].update(window={"start": "08:15", "end": "08:15"}, pinned_worker_id="w1", priority="mandatory")
    data["visits"][1].update(window={"start": "09:00", "end": "09:30"})
    return data, "w1"


def test_replan_starts_nothing_before_the_lock_time(london_network):
    """Re-planned at 09:45 with the sick carer removed: every stop not kept starts at or after 09:45, workers
    with nothing kept leave home no earlier, and what the sick carer started is listed as ``past``, not re-given."""
    data, sick = _sick_day()
    _, first = _solve(data, london_network)
    at = parse_hhmm("09:45")
    started = {s.visit_id for s in first.route(sick).stops if s.start < at}
    assert "am0" in started
    data["workers"] = [w for w in data["workers"] if w["id"] != sick]
    data["visits"][0]["pinned_worker_id"] = None
    _, second, replan = _replan(first, data, london_network, "09:45")
    kept = {(lk.visit_id, lk.worker_id, lk.start) for lk in replan.locked if lk.worker_id != sick}
    for route in second.routes:
        for s in route.stops:
            assert (s.visit_id, route.worker_id, s.start) in kept or s.start >= at, (route.worker_id, s)
            assert s.locked == ((s.visit_id, route.worker_id, s.start) in kept)
        if route.stops and not any(s.locked for s in route.stops):
            assert route.departure >= at
    unassigned = {u.visit_id: u for u in second.unassigned}
    for visit_id in started:
        assert unassigned[visit_id].code == "past" and repr(sick) in unassigned[visit_id].reason
    assert second.locked_before == at


def test_replan_keeps_an_off_worker_stops_as_done(london_network):
    """A sick carer kept in the plan with ``off_from`` keeps the stops they started, as done, and takes nothing new."""
    data, sick = _sick_day()
    _, first = _solve(data, london_network)
    at = parse_hhmm("09:45")
    started = {(s.visit_id, s.start) for s in first.route(sick).stops if s.start < at}
    later = {s.visit_id for s in first.route(sick).stops if s.start >= at}
    next(w for w in data["workers"] if w["id"] == sick)["off_from"] = "09:45"
    _, second, _ = _replan(first, data, london_network, "09:45")
    assert {(s.visit_id, s.start) for s in second.route(sick).stops} == started
    assert all(s.locked for s in second.route(sick).stops)
    served = {s.visit_id for r in second.routes for s in r.stops}
    assert later <= served | {u.visit_id for u in second.unassigned}


def test_replan_lists_visits_whose_window_closed_as_past(london_network):
    """A visit left unassigned whose window closed before the lock time is listed with code ``past``."""
    data, _ = _sick_day()
    data["visits"].append(visit("early", "c0", window=("08:00", "08:30"), priority="low"))
    plan = plan_from_dict(data)
    first = make_roster(plan, {}, unassigned=[(v.id, "test") for v in plan.visits])
    _, second, _ = _replan(first, data, london_network, "09:45")
    codes = {u.visit_id: u.code for u in second.unassigned}
    assert codes["early"] == "past" and codes["am0"] == "past"
    assert all(s.start >= parse_hhmm("09:45") for r in second.routes for s in r.stops)


def test_check_roster_flags_new_stops_before_the_lock_time():
    """The validator reports a stop not kept that starts before the lock time, and a worker leaving home before it."""
    plan = plan_from_dict(_day())
    roster = make_roster(plan, {"w1": [stop("am0", "08:00")], "w2": [stop("am1", "10:00")]},
                         unassigned=[(v.id, "test") for v in plan.visits if v.id not in ("am0", "am1")])
    at = parse_hhmm("09:00")
    assert check_roster(plan, roster) == []
    violations = check_roster(plan, roster, locked_before=at)
    assert [(v.rule, v.record_id) for v in violations] == [("past", "am0"), ("past", "w1")]
    kept = [LockedStop("am0", "w1", parse_hhmm("08:00"))]
    assert check_roster(plan, roster, locked=kept, locked_before=at) == []
    late = dataclasses.replace(roster, locked_before=at)  # the roster's own lock time counts too
    assert {v.rule for v in check_roster(plan, late)} == {"past"}
