"""``explain_choice`` and ``homecare explain``: why a visit went to its worker, and the next best.

Solved cases use small central-London plans whose answer follows from the road
network (each expected cost is recomputed from the travel matrices); hand-made
rosters with a fixed 10-minute leg check each rule that can leave a worker no room.
Every roster goes through :func:`scheduler.validate.check_roster`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from homecare_cli.care import register
from scheduler.io import load_plan, plan_from_dict, write_roster
from scheduler.model import Plan
from scheduler.roster import Break, Roster, make_route
from scheduler.validate import check_roster
from solver import SolveParams
from solver.why import explain_choice
from tests.helpers import (
    solve_checked,
    LONDON_OSM,
    FixedTravel,
    client,
    make_roster,
    plan_dict,
    provider,
    stop,
    visit,
    worker,
)

FAST = SolveParams(time_limit_s=0.5)


def _solve(plan: Plan, london_network) -> tuple[Roster, object]:
    _, roster, travel = solve_checked(plan, london_network, FAST)
    return roster, travel


def _round_trip(travel, plan: Plan, worker_id: str, client_id: str) -> int:
    w, there = plan.worker(worker_id), plan.client(client_id).location
    return travel.leg(w, w.start_location, there)[0] + travel.leg(w, there, w.end_location)[0]


def _three_carers(**visit_kw) -> dict:
    """Return carers at Fitzroy Square, Queen Square and Marylebone (w3 without medication); a client at Warren St."""
    return plan_dict(
        workers=[worker("w1", start_location="fitzroy_sq", skills=["medication"]),
                 worker("w2", start_location="queen_sq", skills=["medication"]),
                 worker("w3", start_location="marylebone")],
        clients=[client("c1", location="warren_st")],
        visits=[visit("v1", "c1", **{"window": ("09:00", "10:00"), "required_skills": ["medication"],
                                     "priority": "mandatory", **visit_kw})],
    )


def test_explain_names_the_nearest_carer_and_the_next_best(london_network):
    """The carer with the shorter round trip serves, the other is next best at its round trip; w3 lacks the skill."""
    plan = plan_from_dict(_three_carers())
    roster, travel = _solve(plan, london_network)
    trips = {w: _round_trip(travel, plan, w, "c1") for w in ("w1", "w2")}
    chosen, other = sorted(trips, key=trips.get)
    why = explain_choice(plan, roster, "v1", travel)
    (place,) = why.serving
    assert place.worker_id == chosen and place.travel_s == trips[chosen]
    assert place.where() == "as the only visit of the day"
    assert why.best.worker_id == other and why.best.status == "can_take"
    assert why.best.place.travel_s == trips[other] and why.best.place.start == 9 * 3600
    assert why.extra_s == trips[other] - trips[chosen] > 0
    w3 = next(o for o in why.options if o.worker_id == "w3")
    assert w3.status == "not_eligible" and "lacks skill medication" in w3.reason
    text = "\n".join(why.summary())
    assert f"is served by {chosen} at 09:00" in text
    assert f"Next best: {other} could take it as the only visit of the day starting 09:00" in text
    assert "cheapest in travel of 2 workers" in text


def test_explain_says_when_nobody_else_has_room(london_network):
    """w2 is pinned to an hour-long visit over v1's window, w3 lacks the skill: nobody else could take v1."""
    data = _three_carers()
    data["clients"].append(client("c2", location="russell_sq"))
    data["visits"].append(visit("block", "c2", window=("09:00", "09:05"), duration_min=60, pinned_worker_id="w2",
                                priority="mandatory"))
    data["visits"][0]["window"] = {"start": "09:00", "end": "09:30"}
    plan = plan_from_dict(data)
    roster, travel = _solve(plan, london_network)
    why = explain_choice(plan, roster, "v1", travel)
    assert [p.worker_id for p in why.serving] == ["w1"]
    assert why.best is None
    w2 = next(o for o in why.options if o.worker_id == "w2")
    assert w2.status == "no_room" and w2.reason.startswith("booked 09:") and "(block)" in w2.reason
    text = "\n".join(why.summary())
    assert "No other worker could take it: 1 has no room in their day (w2: booked" in text
    assert "1 is not eligible (w3: lacks skill medication)" in text
    assert "no other worker has room for it" in text


def test_explain_unassigned_visit_gives_its_reason(london_network):
    """A visit needing a skill nobody has is unassigned; the explanation repeats the roster's reason."""
    plan = plan_from_dict(_three_carers(required_skills=["PEG"]))
    roster, travel = _solve(plan, london_network)
    why = explain_choice(plan, roster, "v1", travel)
    assert not why.assigned and why.unassigned_code == "skill"
    assert why.summary()[0].startswith("v1 (client c1, start 09:00-10:00, 30 min, mandatory) is unassigned: ")
    assert "PEG" in why.unassigned_reason
    assert all(o.status == "not_eligible" and "lacks skill PEG" in o.reason for o in why.options)


def test_explain_double_handed_alternative_starts_with_the_partner(london_network):
    """The third hoist carer could take a place of the pair only at the minute the pair starts."""
    data = plan_dict(
        workers=[worker(w, start_location=home, skills=["hoist"])
                 for w, home in (("w1", "fitzroy_sq"), ("w2", "goodge_st"), ("w3", "russell_sq"))],
        clients=[client("c1", location="grafton_way")],
        visits=[visit("d1", "c1", window=("10:00", "11:00"), workers_required=2, required_skills=["hoist"],
                      priority="mandatory")],
    )
    plan = plan_from_dict(data)
    roster, travel = _solve(plan, london_network)
    why = explain_choice(plan, roster, "d1", travel)
    pair = {p.worker_id: p for p in why.serving}
    assert len(pair) == 2 and len({p.start for p in pair.values()}) == 1
    (third,) = {"w1", "w2", "w3"} - set(pair)
    best = why.best
    assert best.worker_id == third and best.place.start == next(iter(pair.values())).start
    costliest = max(pair.values(), key=lambda p: p.travel_s)
    assert best.replaces == costliest.worker_id
    assert best.place.travel_s == _round_trip(travel, plan, third, "c1")
    assert why.extra_s == best.place.travel_s - costliest.travel_s
    assert f"in {costliest.worker_id}'s place" in "\n".join(why.summary())


# --------------------------------------------------------------------------- each rule, hand-made

LEG = FixedTravel(600, 2000)


def _rules_plan(visits: list[dict] | None = None) -> Plan:
    """w1 serves v0 (08:00) and v1; the others each break one rule for v1 (09:00-10:00)."""
    return plan_from_dict(plan_dict(
        providers=[provider("care-1"), provider("shop", "delivery")],
        workers=[worker("w1", shift=("07:30", "16:00")),
                 worker("off", shift=("07:30", "16:00"), start_location="queen_sq",
                        availability=[{"start": "12:00", "end": "16:00"}]),
                 worker("full", shift=("07:30", "16:00"), start_location="marylebone", max_visits=1),
                 worker("tired", shift=("07:30", "16:00"), start_location="harley_st", max_working_min=40),
                 worker("free", shift=("07:30", "16:00"), start_location="euston_sq"),
                 worker("van", "shop", capacity=10, start_location="bedford_sq")],
        clients=[client("c0", location="fitzroy_sq"), client("c1", location="warren_st"),
                 client("c2", location="gordon_sq")],
        visits=visits or [visit("v0", "c0", window=("08:00", "08:30")), visit("v1", "c1", window=("09:00", "10:00")),
                          visit("other", "c2", window=("08:00", "12:00"))],
    ))


def _rules_roster(plan: Plan) -> Roster:
    roster = make_roster(plan, {
        "w1": [stop("v0", "08:00", travel_s=600, travel_m=2000),
               stop("v1", "09:00", travel_s=600, travel_m=2000, arrival="08:40")],
        "full": [stop("other", "11:00", travel_s=600, travel_m=2000)],
    })
    assert check_roster(plan, roster, travel=LEG) == []
    return roster


def test_explain_each_rule_that_leaves_no_room():
    """Limits leave carers no room, availability makes one ineligible, the van is not listed.

    max_visits and the working-time limit leave no room; the van is of another kind.
    """
    plan = _rules_plan()
    why = explain_choice(plan, _rules_roster(plan), "v1", LEG)
    (place,) = why.serving
    assert (place.worker_id, place.after_visit_id, place.before_visit_id, place.travel_s) == ("w1", "v0", None, 600)
    options = {o.worker_id: o for o in why.options}
    assert set(options) == {"off", "full", "tired", "free"} and why.other_workers == 1
    assert options["off"].status == "not_eligible"
    assert options["off"].reason == "availability is only 12:00-16:00: no start in 09:00-10:00 (30 min) fits"
    assert options["full"].reason == "already has 1 visit, their max_visits"
    assert options["tired"].status == "no_room" and "no working time left: 50 min" in options["tired"].reason
    free = options["free"]
    assert free.status == "can_take" and why.best is free
    assert (free.place.start, free.place.latest_start, free.place.travel_s) == (9 * 3600, 10 * 3600, 1200)
    assert why.extra_s == 600


def test_explain_alternative_keeps_the_links_of_served_visits():
    """v1 must start at least 90 min after v0 (same client) ends at 08:30: any alternative starts at 10:00 too."""
    plan = _rules_plan([visit("v0", "c1", window=("08:00", "08:30")),
                        visit("v1", "c1", window=("09:00", "10:00"), after={"visit_id": "v0", "min_gap_min": 90}),
                        visit("other", "c2", window=("08:00", "12:00"))])
    roster = make_roster(plan, {
        "w1": [stop("v0", "08:00", travel_s=600, travel_m=2000),
               stop("v1", "10:00", travel_s=0, travel_m=0, arrival="08:30")],
        "full": [stop("other", "11:00", travel_s=600, travel_m=2000)],
    })
    assert check_roster(plan, roster, travel=LEG) == []
    why = explain_choice(plan, roster, "v1", LEG)
    assert why.serving[0].travel_s == 0  # v0 is at the same client
    assert why.best.worker_id == "free" and why.best.place.start == 10 * 3600  # 08:30 + 90 min
    assert why.best.place.latest_start == 10 * 3600


def test_explain_places_respect_rest_breaks():
    """A place keeps clear of rest breaks, and of the break a stint would come to need.

    A journey after a break follows it whole (the order rule); a visit in an empty stint over 6 h must leave
    room for one.
    """
    plan = plan_from_dict(plan_dict(
        providers=[provider("care-1", **{"break": {"after_min": 360, "duration_min": 20}})],
        workers=[worker("w1", shift=("07:30", "16:00")),
                 worker("free", shift=("07:30", "16:00"), start_location="euston_sq"),
                 worker("short", shift=("09:00", "15:30"), start_location="harley_st")],
        clients=[client("c1", location="warren_st"), client("c2", location="gordon_sq")],
        visits=[visit("v1", "c1", window=("09:00", "10:00")),
                visit("long", "c2", window=("11:00", "11:00"), duration_min=150)],
    ))
    roster = make_roster(plan, [
        make_route("w1", [stop("v1", "09:00", travel_s=600, travel_m=2000)], breaks=[Break(37800, 39000)]),
        make_route("free", [], breaks=[Break(9 * 3600, 9 * 3600 + 1200)]),
    ], [("long", "nobody is free for 2.5 hours at 11:00")])
    assert check_roster(plan, roster, travel=LEG) == []
    options = {o.worker_id: o for o in explain_choice(plan, roster, "v1", LEG).options}
    assert options["free"].place.start == 9 * 3600 + 1800  # the 10-min leg after the 09:00-09:20 break
    assert options["short"].place.start == 9 * 3600 + 600  # 09:00 shift start plus the 10-min leg
    why = explain_choice(plan, roster, "long", LEG)
    options = {o.worker_id: o for o in why.options}
    # "short" (09:00-15:30, over 6 h) would need a break starting 11:10-13:00: the visit fills that.
    assert options["short"].status == "no_room"
    assert options["short"].reason == "no room for the 20-min rest break it would call for (start 11:10-13:00)"
    assert options["free"].status == "can_take" and options["w1"].status == "can_take"
    assert why.summary()[0].endswith("is unassigned: nobody is free for 2.5 hours at 11:00")


def test_explain_rejects_an_unknown_visit():
    """A visit the plan does not have is a KeyError naming it."""
    plan = _rules_plan()
    with pytest.raises(KeyError, match="nope"):
        explain_choice(plan, _rules_roster(plan), "nope", LEG)


# --------------------------------------------------------------------------- command line

@pytest.fixture
def solved_files(tmp_path: Path, london_network) -> tuple[Path, Path]:
    """Write the three-carer plan as a file naming the London network, and its solved roster."""
    data = _three_carers()
    data["network"] = str(LONDON_OSM)
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(data))
    plan = load_plan(plan_path)
    roster, _ = _solve(plan, london_network)
    assert roster.meta["plan"] == str(plan_path.resolve())
    return plan_path, write_roster(roster, tmp_path / "roster.json")


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_cli_explain_prints_the_choice_and_json(solved_files, network_cache_dir):
    """``homecare explain ROSTER v1`` reads the plan from the roster and prints text, or JSON with --json."""
    _, roster_path = solved_files
    args = ["explain", str(roster_path), "v1", "--cache-dir", str(network_cache_dir)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "is served by w" in result.output and "Next best:" in result.output and "lacks skill" in result.output
    result = CliRunner().invoke(_app(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["visit_id"] == "v1" and data["assigned"] and data["next_best"]["status"] == "can_take"
    assert data["extra_travel_s"] == data["next_best"]["place"]["travel_s"] - data["current_travel_s"]


def test_cli_explain_unknown_visit_exits_2(solved_files, network_cache_dir):
    """An unknown visit id is one clear error, exit code 2."""
    _, roster_path = solved_files
    result = CliRunner().invoke(_app(), ["explain", str(roster_path), "v9", "--cache-dir", str(network_cache_dir)])
    assert result.exit_code == 2 and "v9" in result.output


@pytest.mark.parametrize(("carers", "expected"), [
    (1, "the 1 eligible worker who can reach it in time (w1) is booked around"),
    (2, "the 2 eligible workers who can reach it in time (w1, w2) are all booked around"),
])
def test_explain_unassigned_busy_counts_the_eligible_workers_in_the_right_number(carers, expected):
    """A visit dropped because every carer who could reach it is busy across its window says how many
    there are in the right number ("1 eligible worker ... is", "2 eligible workers ... are")."""
    from solver.explain import explain_visit

    ids = [f"w{i}" for i in range(1, carers + 1)]
    data = plan_dict(
        workers=[worker(w) for w in ids],
        clients=[client("c1"), client("c2", location="russell_sq")],
        visits=[visit(f"long{w}", "c1", window=("09:00", "09:00"), duration_min=60) for w in ids]
        + [visit("v1", "c2", window=("09:00", "09:30"))],
    )
    plan = plan_from_dict(data)
    travel = FixedTravel(600)
    routes = {w: [stop(f"long{w}", "09:00", 60, travel_s=600, travel_m=1500)] for w in ids}
    code, reason = explain_visit(plan, plan.visit("v1"), make_roster(plan, routes).routes, travel)
    roster = make_roster(plan, routes, [("v1", reason)])
    assert check_roster(plan, roster, travel=travel) == []
    assert code == "busy" and expected in reason, reason


def test_explain_lists_every_rule_that_makes_a_worker_ineligible():
    """A carer who lacks the skill and is off shift then is not eligible for both reasons, each named once."""
    plan = plan_from_dict(plan_dict(
        workers=[worker("w1", skills=["medication"]), worker("late", shift=("12:00", "16:00"))],
        visits=[visit("v1", required_skills=["medication"])],
    ))
    roster = make_roster(plan, {"w1": [stop("v1", "08:10", travel_s=600, travel_m=2000)]})
    assert check_roster(plan, roster, travel=LEG) == []

    (late,) = [o for o in explain_choice(plan, roster, "v1", LEG).options if o.worker_id == "late"]

    assert late.status == "not_eligible"
    assert late.reason == ("lacks skill medication; shift 12:00-16:00 cannot hold a start in 08:00-10:00 (30 min)")
