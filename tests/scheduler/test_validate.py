"""check_roster: every rule of docs/CONTRACT.md, each proven to be caught with its rule code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from scheduler.model import Plan
from scheduler.roster import Roster, Stop, Unassigned, make_route
from scheduler.validate import Violation, check_roster
from tests.helpers import FixedTravel, client, make_plan, make_roster, provider, stop, visit, worker

LEG_S = 300  # every leg between two different places, by FixedTravel
LEG_M = 1500


def _rules(violations: Sequence[Violation]) -> list[str]:
    return sorted(v.rule for v in violations)


def _check(plan: Plan, roster: Roster, travel: FixedTravel | None = None) -> list[Violation]:
    return check_roster(plan, roster, travel=travel if travel is not None else FixedTravel(LEG_S, LEG_M))


def _leg(visit_id: str, start: str, duration_min: int = 30, *, arrival: str | None = None,
         travel_s: int = LEG_S, travel_m: int = LEG_M) -> Stop:
    """A stop reached by one FixedTravel leg."""
    return stop(visit_id, start, duration_min, travel_s=travel_s, travel_m=travel_m, arrival=arrival)


# --------------------------------------------------------------------------- a valid day


def _rich_plan() -> Plan:
    """Two care providers and a grocer; skills, a gender preference, an exclusion, a double-up, a van."""
    return make_plan(
        providers=[provider("care-1"), provider("care-2"), provider("shop", "delivery")],
        workers=[
            worker("w1", "care-1", skills=["hoist"], gender="f", start_location="great_portland_st"),
            worker("w2", "care-1", gender="m", start_location="goodge_st"),
            worker("w3", "care-2", gender="f", start_location="warren_st"),
            worker("d1", "shop", gender="m", capacity=10, start_location="russell_sq"),
        ],
        clients=[
            client("c1", location="fitzroy_sq"),
            client("c2", location="gordon_sq", gender_preference="f", excluded_worker_ids=["w3"]),
            client("c3", location="tavistock_sq"),
        ],
        visits=[
            visit("v1", "c1", window=("08:00", "09:00"), required_skills=["hoist"], provider_id="care-1",
                  priority="mandatory"),
            visit("v2", "c2", window=("09:00", "10:00")),
            visit("v3", "c3", window=("10:00", "12:00"), duration_min=45, workers_required=2),
            visit("v4", "c3", kind="delivery", window=("10:00", "14:00"), duration_min=10, demand=6),
            visit("v5", "c1", kind="delivery", window=("12:00", "14:00"), duration_min=10, demand=4,
                  provider_id="shop"),
            visit("v6", "c2", window=("14:00", "15:00"), required_skills=["catheter"], priority="mandatory"),
        ],
    )


def _rich_roster(plan: Plan) -> Roster:
    return make_roster(
        plan,
        {
            "w1": [_leg("v1", "08:05"), _leg("v2", "09:00", arrival="08:40"), _leg("v3", "10:00", 45)],
            "w3": [_leg("v3", "10:00", 45, arrival="08:05")],
            "d1": [_leg("v4", "10:00", 10), _leg("v5", "12:00", 10, arrival="10:15")],
            "w2": [],
        },
        [("v6", "no worker with skill 'catheter' works for a care provider")],
    )


def test_check_roster_accepts_a_valid_roster() -> None:
    """A roster obeying every rule gives no violations, with or without a travel oracle."""
    plan = _rich_plan()
    roster = _rich_roster(plan)
    travel = FixedTravel(LEG_S, LEG_M)

    assert check_roster(plan, roster, travel=travel) == []
    assert check_roster(plan, roster) == []
    assert travel.calls, "the oracle should have been asked for the legs"


def test_check_roster_accepts_the_minimal_plan() -> None:
    """The one-visit default plan served just in time is valid."""
    plan = make_plan()

    assert _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]})) == []


def test_check_roster_accepts_stops_at_the_edges() -> None:
    """Starting exactly at the window's end and ending exactly at the shift's end is allowed."""
    plan = make_plan(workers=[worker(shift=("08:00", "10:30"))], visits=[visit(window=("08:00", "10:00"))])

    assert _check(plan, make_roster(plan, {"w1": [_leg("v1", "10:00", arrival="08:05")]})) == []


def test_violation_reads_rule_record_and_message() -> None:
    """A violation prints as ``[rule] kind 'id': message``."""
    assert str(Violation("window", "visit", "v1", "too late")) == "[window] visit 'v1': too late"
    assert str(Violation("date", "roster", None, "wrong day")) == "[date] roster: wrong day"


# --------------------------------------------------------------------------- one rule at a time


def test_check_roster_catches_start_outside_window() -> None:
    """A stop starting after its window closes breaks the ``window`` rule."""
    plan = make_plan()  # v1: start 08:00-10:00

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "10:01", arrival="08:05")]}))

    assert _rules(violations) == ["window"]
    assert violations[0].record_id == "v1"
    assert "starts at 10:01, outside window 08:00-10:00" in violations[0].message


def test_check_roster_catches_wrong_duration() -> None:
    """A stop shorter than ``duration_min`` breaks the ``duration`` rule."""
    plan = make_plan()

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05", duration_min=25)]}))

    assert _rules(violations) == ["duration"]
    assert "lasts 25 min, not 30" in violations[0].message


def test_check_roster_catches_stop_outside_shift() -> None:
    """A stop running past the worker's shift end breaks the ``shift`` rule."""
    plan = make_plan(workers=[worker(shift=("08:00", "09:00"))])

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:45", arrival="08:05")]}))

    assert _rules(violations) == ["shift"]
    assert "08:45-09:15 is outside shift 08:00-09:00" in violations[0].message


def _two_visit_plan() -> Plan:
    return make_plan(
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq")],
        visits=[visit("v1", "c1"), visit("v2", "c2")],
    )


def test_check_roster_catches_overlapping_stops() -> None:
    """A second stop starting before the first ends breaks the ``order`` rule."""
    plan = _two_visit_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:05"), _leg("v2", "08:30")]})

    violations = _check(plan, roster)

    assert _rules(violations) == ["order"]
    assert violations[0].record_id == "v2"
    assert "before the previous end 08:40 plus 300 s travel" in violations[0].message


def test_check_roster_catches_arrival_before_previous_end_plus_travel() -> None:
    """Arriving sooner than the previous end plus ``travel_s`` breaks ``order`` even without overlap."""
    plan = _two_visit_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:05"), _leg("v2", "08:50", arrival="08:42")]})

    violations = _check(plan, roster)

    assert _rules(violations) == ["order"]
    assert "arrives at 08:42" in violations[0].message


def test_check_roster_catches_first_arrival_before_shift_start_plus_travel() -> None:
    """The first leg starts no earlier than the shift: arriving at 08:02 after 300 s is too soon."""
    plan = make_plan()

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:02")]}))

    assert _rules(violations) == ["order"]


def test_check_roster_catches_start_before_arrival() -> None:
    """A stop cannot start before the worker arrives."""
    plan = make_plan()

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:20")]}))

    assert _rules(violations) == ["order"]
    assert "before arriving at 08:20" in violations[0].message


def test_check_roster_catches_travel_time_differing_from_network() -> None:
    """``travel_s`` unlike the oracle's time breaks ``travel``; within the tolerance it does not."""
    plan = make_plan()
    short = make_roster(plan, {"w1": [_leg("v1", "08:10", travel_s=200, arrival="08:05")]})
    close = make_roster(plan, {"w1": [_leg("v1", "08:10", travel_s=301, arrival="08:06")]})

    violations = _check(plan, short)

    assert _rules(violations) == ["travel"]
    assert "travel_s 200 differs from the network's 300 s (drive)" in violations[0].message
    assert _check(plan, close) == []
    assert _rules(check_roster(plan, close, travel=FixedTravel(LEG_S, LEG_M), tolerance_s=0)) == ["travel"]


def test_check_roster_catches_travel_distance_differing_from_network() -> None:
    """``travel_m`` unlike the oracle's distance breaks ``travel``."""
    plan = make_plan()

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:10", travel_m=900, arrival="08:05")]}))

    assert _rules(violations) == ["travel"]
    assert "travel_m 900" in violations[0].message


def test_check_roster_asks_the_oracle_for_each_leg_from_where_the_worker_was() -> None:
    """Legs run from the start location to the first client and from client to client."""
    plan = _two_visit_plan()
    travel = FixedTravel(LEG_S, LEG_M)
    roster = make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:05"), _leg("v2", "09:00")]})

    assert check_roster(plan, roster, travel=travel) == []

    w1 = plan.worker("w1")
    c1, c2 = plan.client("c1").location, plan.client("c2").location
    assert travel.calls == [("w1", w1.start_location, c1), ("w1", c1, c2)]


def test_check_roster_without_oracle_trusts_travel() -> None:
    """Without an oracle any ``travel_s`` is accepted, but ``order`` still uses it."""
    plan = make_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:10", travel_s=5, arrival="08:01")]})

    assert check_roster(plan, roster) == []


def test_check_roster_catches_worker_of_another_provider() -> None:
    """A visit tied to provider care-2 served by a care-1 worker breaks ``no_provider``."""
    plan = make_plan(
        providers=[provider("care-1"), provider("care-2")],
        workers=[worker("w1", "care-1"), worker("w2", "care-2")],
        visits=[visit("v1", provider_id="care-2")],
    )

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["no_provider"]
    assert "of provider 'care-1' is not of provider 'care-2'" in violations[0].message


def test_check_roster_catches_worker_of_another_kind() -> None:
    """A delivery visit served by a carer breaks ``no_provider``."""
    plan = make_plan(
        providers=[provider("care-1"), provider("shop", "delivery")],
        workers=[worker("w1", "care-1"), worker("d1", "shop")],
        visits=[visit("v1", kind="delivery", duration_min=10)],
    )

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05", 10)]}))

    assert _rules(violations) == ["no_provider"]
    assert "is not of a delivery provider" in violations[0].message


def test_check_roster_catches_missing_skill() -> None:
    """A worker without a required skill breaks ``skill``, naming the skill."""
    plan = make_plan(workers=[worker(skills=["medication"])], visits=[visit(required_skills=["hoist", "medication"])])

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["skill"]
    assert "lacks skill hoist" in violations[0].message


def test_check_roster_catches_excluded_worker() -> None:
    """A worker the client excludes breaks ``excluded``."""
    plan = make_plan(workers=[worker("w1"), worker("w2")], clients=[client(excluded_worker_ids=["w1"])])

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["excluded"]
    assert "client 'c1' excludes worker 'w1'" in violations[0].message


def test_check_roster_catches_gender_preference() -> None:
    """A female worker at a client who prefers men breaks ``gender``."""
    plan = make_plan(workers=[worker(gender="f")], clients=[client(gender_preference="m")])

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["gender"]
    assert "prefers gender 'm', worker 'w1' is 'f'" in violations[0].message


def _double_plan() -> Plan:
    return make_plan(
        workers=[worker("w1"), worker("w2", start_location="goodge_st")],
        visits=[visit("v1", workers_required=2)],
    )


def test_check_roster_accepts_double_handed_visit_starting_together() -> None:
    """Two workers starting in the same minute serve a double-handed visit."""
    plan = _double_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:05")],
                                "w2": [_leg("v1", "08:10", arrival="08:06")]})

    assert _check(plan, roster) == []


def test_check_roster_catches_double_handed_starts_in_different_minutes() -> None:
    """Double-handed stops starting a minute apart break ``double_handed``."""
    plan = _double_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:05")],
                                "w2": [_leg("v1", "08:11", arrival="08:06")]})

    violations = _check(plan, roster)

    assert _rules(violations) == ["double_handed"]
    assert "starts at 08:10 (w1) and 08:11 (w2)" in violations[0].message


def test_check_roster_catches_double_handed_visit_given_to_one_worker_twice() -> None:
    """Both places of a double-handed visit on one worker break ``double_handed``."""
    plan = _double_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:05"), _leg("v1", "08:10", travel_s=0)]})

    violations = _check(plan, roster)

    handed = [v for v in violations if v.rule == "double_handed"]
    assert len(handed) == 1
    assert "both places of the double-handed visit go to worker 'w1'" in handed[0].message
    assert "coverage" not in _rules(violations)


def test_check_roster_catches_van_over_capacity() -> None:
    """Two drops that each fit but together exceed the van break ``capacity`` once, for the worker."""
    plan = make_plan(
        providers=[provider("shop", "delivery")],
        workers=[worker("d1", "shop", capacity=10)],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq")],
        visits=[visit("v1", "c1", kind="delivery", demand=6), visit("v2", "c2", kind="delivery", demand=6)],
    )
    roster = make_roster(plan, {"d1": [_leg("v1", "08:05"), _leg("v2", "09:00")]})

    violations = _check(plan, roster)

    assert _rules(violations) == ["capacity"]
    assert (violations[0].record_kind, violations[0].record_id) == ("worker", "d1")
    assert "demand 12, more than capacity 10" in violations[0].message


def test_check_roster_catches_one_drop_over_capacity() -> None:
    """A single drop larger than the van is flagged on the stop and on the worker."""
    plan = make_plan(
        providers=[provider("shop", "delivery")],
        workers=[worker("d1", "shop", capacity=5)],
        visits=[visit("v1", kind="delivery", demand=6)],
    )

    violations = _check(plan, make_roster(plan, {"d1": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["capacity", "capacity"]
    assert {v.record_kind for v in violations} == {"visit", "worker"}


def test_check_roster_catches_visit_neither_served_nor_unassigned() -> None:
    """A visit missing from the roster breaks ``coverage``."""
    plan = _two_visit_plan()

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["coverage"]
    assert violations[0].record_id == "v2"
    assert "served 0 times, needs 1" in violations[0].message


def test_check_roster_catches_visit_served_too_often() -> None:
    """A single-handed visit served by two workers breaks ``coverage``."""
    plan = _double_plan()
    single = make_plan(workers=[worker("w1"), worker("w2", start_location="goodge_st")])
    roster = make_roster(single, {"w1": [_leg("v1", "08:10", arrival="08:05")],
                                  "w2": [_leg("v1", "08:10", arrival="08:05")]})

    violations = _check(single, roster)

    assert _rules(violations) == ["coverage"]
    assert "served 2 times, needs 1" in violations[0].message
    assert plan.visit("v1").workers_required == 2  # the same roster is fine for a double-up
    assert _check(plan, make_roster(plan, roster.routes)) == []


def test_check_roster_catches_double_handed_visit_served_once() -> None:
    """A double-handed visit with one worker breaks ``coverage``."""
    plan = _double_plan()

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["coverage"]
    assert "served 1 times, needs 2" in violations[0].message


def test_check_roster_catches_visit_both_unassigned_and_served() -> None:
    """A served visit also listed as unassigned breaks ``coverage``."""
    plan = make_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:05")]}, [("v1", "nobody free")])

    violations = _check(plan, roster)

    assert _rules(violations) == ["coverage"]
    assert "listed as unassigned but served by w1" in violations[0].message


def test_check_roster_catches_visit_unassigned_twice() -> None:
    """A visit listed twice as unassigned breaks ``coverage``."""
    plan = make_plan()
    roster = make_roster(plan, {}, [("v1", "nobody free"), ("v1", "still nobody")])

    assert _rules(_check(plan, roster)) == ["coverage"]


def test_check_roster_catches_unassigned_without_reason() -> None:
    """An unassigned visit with a blank reason breaks ``reason``."""
    plan = make_plan()

    violations = _check(plan, make_roster(plan, {}, [("v1", "   ")]))

    assert _rules(violations) == ["reason"]
    assert violations[0].record_id == "v1"


def test_check_roster_catches_unknown_worker() -> None:
    """A route for a worker not in the plan breaks ``reference``; its stops count for nothing."""
    plan = make_plan()

    violations = _check(plan, make_roster(plan, {"w9": [_leg("v1", "08:05")]}))

    assert _rules(violations) == ["coverage", "reference"]
    ref = next(v for v in violations if v.rule == "reference")
    assert (ref.record_kind, ref.record_id) == ("route", "w9")


def test_check_roster_catches_unknown_visit() -> None:
    """A stop or an unassigned entry naming a visit not in the plan breaks ``reference``."""
    plan = _two_visit_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:05"), _leg("v9", "09:00")]}, [("v2", "x"), ("v8", "y")])

    violations = _check(plan, roster)

    assert _rules(violations) == ["reference", "reference"]
    assert {(v.record_kind, v.record_id) for v in violations} == {("stop", "v9"), ("unassigned", "v8")}


def test_check_roster_catches_two_routes_for_one_worker() -> None:
    """A worker with two routes breaks ``reference``."""
    plan = _two_visit_plan()
    routes = [make_route("w1", [_leg("v1", "08:05")]), make_route("w1", [_leg("v2", "09:00")])]

    violations = _check(plan, make_roster(plan, routes))

    assert "reference" in _rules(violations)
    assert any("more than one route" in v.message for v in violations)


def test_check_roster_catches_wrong_date() -> None:
    """A roster for another day breaks ``date``."""
    plan = make_plan()
    roster = make_roster(plan, {"w1": [_leg("v1", "08:05")]}, date=dt.date(2026, 11, 25))

    violations = _check(plan, roster)

    assert _rules(violations) == ["date"]
    assert "roster date 2026-11-25 differs from plan date 2026-11-24" in violations[0].message


def test_check_roster_reports_several_violations_of_one_stop() -> None:
    """Every broken rule of one stop is reported, not only the first."""
    plan = make_plan(workers=[worker(gender="m")], clients=[client(gender_preference="f")],
                     visits=[visit(required_skills=["hoist"])])

    violations = _check(plan, make_roster(plan, {"w1": [_leg("v1", "10:30", duration_min=20, arrival="08:05")]}))

    assert _rules(violations) == ["duration", "gender", "skill", "window"]


# --------------------------------------------------------------------------- mandatory visits


def test_check_roster_catches_mandatory_visit_left_with_an_idle_worker() -> None:
    """A mandatory visit left unassigned while an eligible worker is idle breaks ``mandatory``."""
    plan = make_plan(visits=[visit(priority="mandatory")])

    violations = _check(plan, make_roster(plan, {}, [("v1", "solver ran out of time")]))

    assert _rules(violations) == ["mandatory"]
    assert "worker 'w1' is free to start it at 08:05" in violations[0].message


def test_check_roster_accepts_mandatory_visit_nobody_may_serve() -> None:
    """A mandatory visit needing a skill no worker has may be unassigned."""
    plan = make_plan(visits=[visit(priority="mandatory", required_skills=["catheter"])])

    assert _check(plan, make_roster(plan, {}, [("v1", "no worker with skill 'catheter'")])) == []


def test_check_roster_accepts_mandatory_visit_when_the_worker_is_busy() -> None:
    """A mandatory visit whose only eligible worker is busy for its whole window may be unassigned."""
    plan = make_plan(
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq")],
        visits=[visit("v1", "c1", window=("08:00", "09:00"), duration_min=120),
                visit("v2", "c2", window=("08:10", "08:40"), priority="mandatory")],
    )
    roster = make_roster(plan, {"w1": [_leg("v1", "08:05", 120)]}, [("v2", "w1 is busy")])

    assert _check(plan, roster) == []


def test_check_roster_catches_mandatory_visit_fitting_between_stops() -> None:
    """A gap between two stops long enough for the visit and both legs proves it could be served."""
    plan = make_plan(
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq")],
        visits=[visit("v1", "c1", window=("08:00", "08:10")), visit("v3", "c1", window=("11:00", "11:00")),
                visit("v2", "c2", window=("09:00", "10:00"), priority="mandatory")],
    )
    roster = make_roster(plan, {"w1": [_leg("v1", "08:05"), _leg("v3", "11:00", travel_s=0, travel_m=0)]},
                         [("v2", "?")])

    violations = _check(plan, roster)

    assert _rules(violations) == ["mandatory"]
    assert "free to start it at 09:00" in violations[0].message


def test_check_roster_mandatory_double_up_needs_two_free_workers() -> None:
    """A mandatory double-up is flagged only when two eligible workers are free at the same time."""
    plan = make_plan(
        workers=[worker("w1"), worker("w2", start_location="goodge_st", shift=("12:00", "16:00"))],
        visits=[visit("v1", workers_required=2, priority="mandatory", window=("08:00", "10:00"))],
    )
    later = make_plan(
        workers=[worker("w1"), worker("w2", start_location="goodge_st", shift=("09:00", "16:00"))],
        visits=[visit("v1", workers_required=2, priority="mandatory", window=("08:00", "10:00"))],
    )

    assert _check(plan, make_roster(plan, {}, [("v1", "no second carer on shift")])) == []
    violations = _check(later, make_roster(later, {}, [("v1", "?")]))
    assert _rules(violations) == ["mandatory"]
    assert "workers 'w1' and 'w2' are both free to start it at 09:05" in violations[0].message


def test_check_roster_ignores_unassigned_non_mandatory_visits() -> None:
    """A normal-priority visit may be left unassigned even when a worker is idle."""
    plan = make_plan(visits=[visit(priority="high")])

    assert _check(plan, make_roster(plan, {}, [("v1", "low value")])) == []


def test_check_roster_without_oracle_skips_the_mandatory_rule() -> None:
    """Without travel times nobody can prove a mandatory visit fits, so it is not flagged."""
    plan = make_plan(visits=[visit(priority="mandatory")])

    assert check_roster(plan, make_roster(plan, {}, [("v1", "?")])) == []


@pytest.mark.parametrize("capacity", [3, 10])
def test_check_roster_mandatory_respects_van_capacity(capacity: int) -> None:
    """A mandatory drop is only provably servable by a van with room left for it."""
    plan = make_plan(
        providers=[provider("shop", "delivery")],
        workers=[worker("d1", "shop", capacity=capacity)],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq")],
        visits=[visit("v1", "c1", kind="delivery", demand=3),
                visit("v2", "c2", kind="delivery", demand=3, priority="mandatory", window=("12:00", "13:00"))],
    )

    violations = _check(plan, make_roster(plan, {"d1": [_leg("v1", "08:05")]}, [("v2", "van full")]))

    assert _rules(violations) == ([] if capacity == 3 else ["mandatory"])


def test_check_roster_ignores_unassigned_entry_code() -> None:
    """Any non-empty reason is accepted whatever the code."""
    plan = make_plan()
    roster = make_roster(plan, {}, [Unassigned("v1", "client in hospital", "client_away")])

    assert _check(plan, roster) == []


# --------------------------------------------------------------------------- listed order, breaks included

def _two_visits_with_break(arrival: str) -> Roster:
    """v1 08:10-08:40, a 09:00-09:20 break, then v2 starting 09:30 and arriving at ``arrival``."""
    from scheduler.roster import Break

    plan = _two_visit_plan()
    route = make_route("w1", [_leg("v1", "08:10", arrival="08:05"), _leg("v2", "09:30", arrival=arrival)],
                       breaks=[Break(9 * 3600, 9 * 3600 + 1200)])
    return make_roster(plan, [route])


def test_check_roster_checks_arrival_after_a_listed_break_plus_travel() -> None:
    """A stop listed after a break must arrive no earlier than the break's end plus its travel (the contract's
    rule in listed order): arriving at 08:50 after a break ending 09:20 breaks it; arriving at 09:30 does not."""
    plan = _two_visit_plan()
    early = _check(plan, _two_visits_with_break("08:50"))
    assert [(v.rule, v.record_id) for v in early] == [("order", "v2")]
    assert "before the previous end 09:20 plus 300 s travel (the break before it)" in early[0].message
    assert _check(plan, _two_visits_with_break("09:30")) == []


def test_check_roster_checks_the_listed_order_of_a_roster_file() -> None:
    """A roster file listing a break after a visit that starts later is out of time order: an ``order`` violation."""
    from scheduler.io import roster_from_dict, roster_to_dict

    plan = _two_visit_plan()
    data = roster_to_dict(_two_visits_with_break("09:30"))
    stops = data["routes"][0]["stops"]
    assert [s["kind"] for s in stops] == ["visit", "break", "visit"]  # written in time order
    assert _check(plan, roster_from_dict(data)) == []
    stops.append(stops.pop(1))  # the break listed last
    violations = _check(plan, roster_from_dict(data))
    assert {(v.rule, v.record_id) for v in violations} == {("order", "w1")}
    assert any("before the stop listed before it" in v.message for v in violations)
