"""Each solver rule on small hand-made central-London plans whose right answer is known.

Every roster produced here goes through :func:`scheduler.validate.check_roster`
with the road-network travel oracle, and must have no violation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from scheduler.io import plan_from_dict
from scheduler.model import Plan
from scheduler.roster import Roster
from scheduler.timeutil import parse_hhmm
from scheduler.validate import check_roster
from solver import SolveParams, solve, travel_for
from solver.network import RoadNetwork
from tests.helpers import client, plan_dict, provider, visit, worker
from tests.helpers import solve_checked as helpers_solve_checked

FAST = SolveParams(time_limit_s=0.5)


def solve_checked(london_network: RoadNetwork, params: SolveParams = FAST, **plan_kw: Any) -> tuple[Plan, Roster]:
    """Solve a hand-made plan on central London and assert the roster obeys every rule."""
    plan, roster, _ = helpers_solve_checked(plan_dict(**plan_kw), london_network, params)
    return plan, roster


def served_by(roster: Roster) -> dict[str, list[str]]:
    """Map each served visit id to the workers serving it."""
    out: dict[str, list[str]] = {}
    for route in roster.routes:
        for s in route.stops:
            out.setdefault(s.visit_id, []).append(route.worker_id)
    return out


def start_of(roster: Roster, visit_id: str) -> list[int]:
    """Return the start times (seconds) of a visit's stops."""
    return [s.start for r in roster.routes for s in r.stops if s.visit_id == visit_id]


def reasons(roster: Roster) -> dict[str, tuple[str, str]]:
    """Map each unassigned visit id to its (code, reason)."""
    return {u.visit_id: (u.code, u.reason) for u in roster.unassigned}


def test_routing_windows_order_the_route(london_network):
    """Two visits whose windows force the order are served in window order, each inside its window."""
    _, roster = solve_checked(
        london_network,
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("late", "c1", window=("10:00", "10:10")), visit("early", "c2", window=("09:00", "09:10"))],
    )
    (route,) = roster.routes
    assert [s.visit_id for s in route.stops] == ["early", "late"]
    assert parse_hhmm("09:00") <= route.stops[0].start <= parse_hhmm("09:10")
    assert parse_hhmm("10:00") <= route.stops[1].start <= parse_hhmm("10:10")


def test_routing_shift_bounds_the_day(london_network):
    """A visit that cannot fit the only worker's shift is unassigned with a shift reason."""
    _, roster = solve_checked(
        london_network,
        workers=[worker("w1", shift=("08:00", "12:00"))],
        visits=[visit("v1", window=("09:00", "09:30")), visit("evening", window=("18:00", "19:00"), priority="mandatory")],
    )
    assert served_by(roster) == {"v1": ["w1"]}
    code, reason = reasons(roster)["evening"]
    assert code == "shift" and "18:00-19:00" in reason


def test_routing_shift_end_leaves_time_to_get_back(london_network):
    """A visit that would end exactly at shift end but leave no time to travel home is not served."""
    _, roster = solve_checked(
        london_network,
        workers=[worker("w1", shift=("08:00", "09:00"), start_location="marylebone")],
        clients=[client("c1", location="queen_sq")],
        visits=[visit("v1", window=("08:30", "08:30"), duration_min=30)],
    )
    assert roster.unassigned and roster.unassigned[0].visit_id == "v1"
    assert reasons(roster)["v1"][0] == "unreachable"


def test_routing_skills_pick_the_skilled_worker(london_network):
    """A hoist visit goes to the worker with the hoist skill, though the other lives next door."""
    _, roster = solve_checked(
        london_network,
        workers=[worker("near", start_location="fitzroy_sq"),
                 worker("skilled", start_location="queen_sq", skills=["hoist"])],
        visits=[visit("v1", required_skills=["hoist"])],
    )
    assert served_by(roster) == {"v1": ["skilled"]}


def test_routing_missing_skill_is_explained(london_network):
    """A visit needing a skill nobody has is unassigned with a reason naming the skill."""
    _, roster = solve_checked(london_network, visits=[visit("v1", required_skills=["PEG"], priority="mandatory")])
    code, reason = reasons(roster)["v1"]
    assert code == "skill" and "'PEG'" in reason


def test_routing_excluded_worker_is_never_sent(london_network):
    """A client's excluded worker is not sent even though they are the nearest."""
    _, roster = solve_checked(
        london_network,
        workers=[worker("near", start_location="fitzroy_sq"), worker("far", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq", excluded_worker_ids=["near"])],
        visits=[visit("v1")],
    )
    assert served_by(roster) == {"v1": ["far"]}


def test_routing_gender_preference_is_matched(london_network):
    """A client who prefers a male carer gets the male worker."""
    _, roster = solve_checked(
        london_network,
        workers=[worker("wf", gender="f", start_location="fitzroy_sq"),
                 worker("wm", gender="m", start_location="queen_sq")],
        clients=[client("c1", gender_preference="m")],
        visits=[visit("v1")],
    )
    assert served_by(roster) == {"v1": ["wm"]}


def test_routing_provider_and_kind_restrict_workers(london_network):
    """A hairdressing visit goes to the hairdresser; a visit tied to a provider to its worker."""
    _, roster = solve_checked(
        london_network,
        providers=[provider("care-a"), provider("care-b"), provider("hair", kind="hairdressing")],
        workers=[worker("a1", "care-a", start_location="fitzroy_sq"),
                 worker("b1", "care-b", start_location="queen_sq"),
                 worker("h1", "hair", start_location="marylebone")],
        visits=[visit("cut", kind="hairdressing", window=("10:00", "12:00"), duration_min=45),
                visit("care", provider_id="care-b")],
    )
    assert served_by(roster) == {"cut": ["h1"], "care": ["b1"]}


def test_routing_capacity_limits_a_van(london_network):
    """A van of capacity 5 takes one of two 3-crate deliveries; the other is unassigned for capacity."""
    _, roster = solve_checked(
        london_network,
        providers=[provider("shop", kind="delivery")],
        workers=[worker("van", "shop", capacity=5, shift=("08:00", "18:00"))],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("d1", "c1", kind="delivery", demand=3, window=("10:00", "12:00"), duration_min=10),
                visit("d2", "c2", kind="delivery", demand=3, window=("10:00", "12:00"), duration_min=10)],
    )
    assert len(served_by(roster)) == 1
    (left,) = roster.unassigned
    assert left.code == "capacity"


def test_routing_capacity_is_shared_between_vans(london_network):
    """Two vans of capacity 5 carry three 3-crate deliveries between them: none left behind."""
    _, roster = solve_checked(
        london_network,
        providers=[provider("shop", kind="delivery")],
        workers=[worker("van1", "shop", capacity=5), worker("van2", "shop", capacity=5)],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("d1", "c1", kind="delivery", demand=3, duration_min=10),
                visit("d2", "c2", kind="delivery", demand=3, duration_min=10),
                visit("d3", "c2", kind="delivery", demand=2, duration_min=10)],
    )
    assert not roster.unassigned
    loads = {r.worker_id: sum(3 if s.visit_id != "d3" else 2 for s in r.stops) for r in roster.routes}
    assert max(loads.values()) <= 5


def test_routing_double_handed_visit_starts_together(london_network):
    """A double-handed visit is served by two different workers starting at the same minute,
    even when one of them is busy elsewhere first."""
    _, roster = solve_checked(
        london_network,
        workers=[worker("w1", start_location="marylebone"), worker("w2", start_location="queen_sq"),
                 worker("w3", start_location="queen_sq", shift=("12:00", "16:00"))],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("busy", "c2", window=("08:00", "08:00"), duration_min=60, provider_id=None),
                visit("pair", "c1", window=("08:30", "10:00"), workers_required=2, priority="mandatory")],
    )
    workers = served_by(roster)["pair"]
    assert len(workers) == 2 and len(set(workers)) == 2
    starts = start_of(roster, "pair")
    assert starts[0] == starts[1]
    assert starts[0] >= parse_hhmm("08:30")


def test_routing_double_handed_needs_two_eligible(london_network):
    """With one worker on shift, a double-handed visit is unassigned, never served by one."""
    _, roster = solve_checked(london_network, visits=[visit("pair", workers_required=2, priority="mandatory")])
    assert not served_by(roster)
    code, reason = reasons(roster)["pair"]
    assert "double-handed" in reason and code == "no_provider"


def test_routing_priorities_decide_who_is_dropped(london_network):
    """One worker, clashing visits: mandatory beats high beats normal beats low."""
    clash = dict(window=("09:00", "09:00"), duration_min=60)
    _, roster = solve_checked(
        london_network,
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq"),
                 client("c3", location="gordon_sq"), client("c4", location="bedford_sq")],
        visits=[visit("low", "c1", priority="low", **clash), visit("mand", "c2", priority="mandatory", **clash),
                visit("normal", "c3", priority="normal", **clash), visit("high", "c4", priority="high", **clash)],
    )
    assert list(served_by(roster)) == ["mand"]
    _, roster = solve_checked(
        london_network,
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("normal", "c1", priority="normal", **clash), visit("high", "c2", priority="high", **clash)],
    )
    assert list(served_by(roster)) == ["high"]


def test_routing_travel_uses_each_workers_mode(london_network):
    """A walker and a driver get travel_s from their own mode's matrix; walking is slower."""
    plan, roster = solve_checked(
        london_network,
        workers=[worker("walker", travel_mode="walk", start_location="marylebone", shift=("08:00", "11:00")),
                 worker("driver", start_location="marylebone", shift=("12:00", "18:00"))],
        clients=[client("c1", location="queen_sq")],
        visits=[visit("am", "c1", window=("09:00", "10:00")), visit("pm", "c1", window=("13:00", "14:00"))],
    )
    walk = roster.route("walker").stops[0].travel_s
    drive = roster.route("driver").stops[0].travel_s
    assert walk > 2 * drive > 0


def test_routing_seed_is_reproducible(london_network):
    """The same seed gives the same roster; the roster is valid for other seeds too."""
    kw = dict(
        workers=[worker("w1"), worker("w2", start_location="queen_sq")],
        clients=[client(f"c{i}", location=name) for i, name in enumerate(["fitzroy_sq", "russell_sq", "gordon_sq"])],
        visits=[visit(f"v{i}", f"c{i}") for i in range(3)],
    )
    _, a = solve_checked(london_network, params=FAST.replace(seed=3), **kw)
    _, b = solve_checked(london_network, params=FAST.replace(seed=3), **kw)
    assert a.routes == b.routes
    solve_checked(london_network, params=FAST.replace(seed=4), **kw)


def test_routing_no_workers_leaves_everything_explained(london_network):
    """A plan with visits but no workers solves to an all-unassigned roster with reasons.

    Such a plan is refused by the loader (``validate_plan``); the solver still copes with one built in code.
    """
    plan = dataclasses.replace(plan_from_dict(plan_dict()), workers=())
    result = solve(plan, params=FAST, travel=travel_for(plan, london_network))
    assert [u.visit_id for u in result.roster.unassigned] == ["v1"]
    assert result.roster.unassigned[0].reason
    assert check_roster(plan, result.roster) == []


@pytest.mark.parametrize("first_solution", ["PAIR_INSERTION", "LOCAL_CHEAPEST_INSERTION"])
def test_routing_first_solution_strategies_give_valid_rosters(london_network, first_solution):
    """Our pair insertion and an OR-Tools strategy both give valid rosters on a small plan."""
    _, roster = solve_checked(
        london_network, params=FAST.replace(first_solution=first_solution),
        workers=[worker("w1"), worker("w2", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00"))],
    )
    assert not roster.unassigned


def test_routing_iterated_local_search_starts_from_our_first_roster(london_network):
    """ILS keeps the double-handed visit our insertion seats; OR-Tools' own first solution seats it too.

    From our pair insertion (rebuilt through :class:`solver.model.WarmStart`) the
    pair is served. OR-Tools' first-solution strategies insert one node at a time and
    used to put both halves on one route, where they cannot start together, and so left
    the pair out. Since the halves are incompatible visit types (one route may not hold
    both), its insertion seats them on two routes as well.
    """
    kw = dict(
        workers=[worker("w1"), worker("w2", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                visit("pair", "c1", window=("12:00", "13:00"), workers_required=2)],
    )
    ils = FAST.replace(iterated_local_search=True, ils_acceptance="SIMULATED_ANNEALING")
    _, ours = solve_checked(london_network, params=ils, **kw)
    assert not ours.unassigned
    assert sorted(served_by(ours)["pair"]) == ["w1", "w2"]
    assert ours.meta["status"] == "SUCCESS"  # OR-Tools' ILS itself leaves NOT_SOLVED
    _, theirs = solve_checked(london_network, params=ils.replace(first_solution="PARALLEL_CHEAPEST_INSERTION"), **kw)
    assert not theirs.unassigned
    assert sorted(served_by(theirs)["pair"]) == ["w1", "w2"]


def test_routing_failed_searches_keep_our_first_roster(london_network, monkeypatch, caplog):
    """If the search from our first roster fails twice, our first roster stands; nothing else is searched.

    Seen when the regions of a big day leave the whole-day search almost no time:
    it ends at once with FAIL_TIMEOUT, and so may the retry. The day still gets the
    roster the search started from, not an error, and OR-Tools' own first solution
    (which overran the time limit on a big day) is not tried.
    """
    import solver.search as routing

    starts = []

    def failing(routing_model, search, start=None, warm=None):
        starts.append(start)
        return None

    monkeypatch.setattr(routing, "run_search", failing)
    with caplog.at_level("WARNING", logger="homecare.routing"):
        _, roster = solve_checked(
            london_network,
            workers=[worker("w1"), worker("w2", start_location="queen_sq")],
            clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
            visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                    visit("pair", "c1", window=("12:00", "13:00"), workers_required=2)],
        )
    assert "keeping the roster the search started from" in caplog.text
    assert len(starts) == 2 and None not in starts
    assert not roster.unassigned
    assert sorted(served_by(roster)["pair"]) == ["w1", "w2"]


def test_routing_a_search_that_fails_after_searching_keeps_our_first_roster(london_network, monkeypatch,
                                                                           caplog):
    """A whole-day search that really searched, then failed, still leaves the first roster.

    OR-Tools 9.12 will not take routes back into a model that has searched
    (``ReadAssignmentFromRoutes`` fails even on the routes the search just returned;
    ``benchmarks/RESULTS.md``, sixth round), so the first roster cannot be restored
    after a failed search: it is kept aside before the search instead.
    """
    import solver.search as routing

    real = routing.run_search
    searched = []

    def fails_after_searching(routing_model, search, start=None, warm=None):
        searched.append(real(routing_model, search, start, warm) is not None)
        return None

    monkeypatch.setattr(routing, "run_search", fails_after_searching)
    with caplog.at_level("WARNING", logger="homecare.routing"):
        _, roster = solve_checked(
            london_network,
            providers=[provider("care-1", **{"break": {"after_min": 120, "duration_min": 20}})],
            workers=[worker("w1"), worker("w2", start_location="queen_sq")],
            clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
            visits=[visit("v1", "c1"), visit("v2", "c2", window=("09:00", "11:00")),
                    visit("pair", "c1", window=("12:00", "13:00"), workers_required=2)],
        )
    assert searched and all(searched)
    # The kept roster's breaks, decoded: owed by every day longer than the rule's 2 hours.
    long_days = [r for r in roster.routes if r.stops and r.return_arrival - r.departure > 2 * 3600]
    assert long_days and all(route.breaks for route in long_days)
    assert "keeping the roster the search started from" in caplog.text
    assert not roster.unassigned
    assert sorted(served_by(roster)["pair"]) == ["w1", "w2"]


def test_progress_splits_penalties_out_of_the_best_objective(london_network):
    """Progress reports the penalties inside the best objective: those of the visits left out."""
    clash = dict(window=("09:00", "09:00"), duration_min=60)
    data = plan_dict(
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("normal", "c1", priority="normal", **clash), visit("high", "c2", priority="high", **clash)],
    )
    plan = plan_from_dict(data)
    seen = []

    class Reporter:
        def stage(self, *args: Any) -> None:
            pass

        def advance(self, *args: Any) -> None:
            pass

        def search(self, progress: Any) -> None:
            seen.append(progress)

    params = SolveParams(time_limit_s=0.5, seed=1)
    result = solve(plan, params=params, travel=travel_for(plan, london_network), reporter=Reporter())
    assert check_roster(plan, result.roster, travel=travel_for(plan, london_network)) == []
    assert [u.visit_id for u in result.roster.unassigned] == ["normal"]
    assert seen, "no progress was reported"
    for progress in seen:  # reports are throttled, so the last one may predate the final roster
        assert progress.best_penalty == params.penalty("normal")
        assert progress.best_objective >= result.objective


def test_construction_stops_repeat_passes_at_its_budget(london_network, caplog):
    """With a visit that fits nowhere, the heuristic retries; a zero budget leaves it at one pass."""
    from solver.construct import construct_routes
    from solver.model import build_model

    clash = dict(window=("09:00", "09:00"), duration_min=60)
    plan = plan_from_dict(plan_dict(
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="russell_sq")],
        visits=[visit("a", "c1", **clash), visit("b", "c2", **clash)],
    ))
    model = build_model(plan, travel_for(plan, london_network), SolveParams(time_limit_s=1))
    with caplog.at_level("INFO", logger="homecare.construct"):
        routes = construct_routes(model, model.node_allowed, budget_s=0.0)
    assert sum(len(r) for r in routes) == 1
    assert "first roster: 1 passes" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="homecare.construct"):
        construct_routes(model, model.node_allowed, rounds=3, budget_s=60.0)
    assert "passes" not in caplog.text  # every pass ran: the budget never cut in
