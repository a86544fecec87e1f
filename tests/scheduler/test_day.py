"""The worker-day engine (scheduler.day): places and refusals for each rule, and the validator's room.

The validator's mandatory rule asks the engine whether a left-out mandatory visit
could have been served; before issue 22 it ignored working time, ``max_visits``,
rest breaks, gaps in availability and links, and claimed room those rules forbid.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.day import Day, NodeData, WorkerDay, link_bounds, pairs
from scheduler.io import plan_from_dict
from scheduler.model import Location, Plan, Worker
from scheduler.roster import Break, Stop, Unassigned, make_route
from scheduler.timeutil import parse_hhmm
from scheduler.validate import check_roster, free_places, free_slot
from tests.helpers import (
    LONDON_NAMES,
    FixedTravel,
    client,
    make_plan,
    make_roster,
    plan_dict,
    provider,
    stop,
    visit,
    worker,
)

LEG_S = 300


def _t(hhmm: str) -> int:
    return parse_hhmm(hhmm)


def _plan(*, workers: list[dict[str, Any]] | None = None, visits: list[dict[str, Any]] | None = None,
          providers: list[dict[str, Any]] | None = None) -> Plan:
    """w1 08:00-16:00 at Great Portland Street; clients c1 (Fitzroy Square) and c2 (Warren Street)."""
    return make_plan(providers=providers, workers=workers or [worker("w1")],
                     clients=[client("c1", location="fitzroy_sq"), client("c2", location="warren_st")],
                     visits=visits)


def _leg_stop(visit_id: str, start: str, client_id: str = "c1", travel_s: int = LEG_S) -> Stop:
    return stop(visit_id, start, travel_s=travel_s, travel_m=1500 if travel_s else 0, client_id=client_id)


def _roster_leaving_out(plan: Plan, stops: list[Stop], left: str = "m", breaks: tuple[Break, ...] = ()):  # noqa: ANN202
    route = make_route("w1", stops, end_travel_s=LEG_S, end_travel_m=1500, breaks=breaks)
    return make_roster(plan, [route], [Unassigned(left, "no room", "busy")])


def _mandatory(plan: Plan, roster) -> list[str]:  # noqa: ANN001
    return [str(v) for v in check_roster(plan, roster, travel=FixedTravel(LEG_S)) if v.rule == "mandatory"]


# --------------------------------------------------------------------------- the validator's room (rule fix)

def _one_stop_day(**w: Any) -> tuple[Plan, Any]:
    """w1 serves ``a`` (c1) at 09:00; the mandatory ``m`` (c2, 30 min, 10:00-15:00) is left out."""
    plan = _plan(workers=[worker("w1", **w)],
                 visits=[visit("a", "c1", window=("09:00", "09:00")),
                         visit("m", "c2", window=("10:00", "15:00"), priority="mandatory")])
    return plan, _roster_leaving_out(plan, [_leg_stop("a", "09:00")])


def test_control_an_idle_afternoon_is_room_for_a_left_out_mandatory_visit():
    """Without a limit, w1's afternoon has room for ``m``: the validator rejects leaving it out."""
    plan, roster = _one_stop_day()
    assert _mandatory(plan, roster) == ["[mandatory] visit 'm': mandatory visit is unassigned but worker 'w1' is "
                                        "free to start it at 10:00"]


def test_the_validator_claims_no_room_that_working_time_forbids():
    """w1 may work 45 min: ``a`` and its legs take 40, so ``m`` would break the limit; leaving it out is right."""
    plan, roster = _one_stop_day(max_working_min=45)
    assert check_roster(plan, roster, travel=FixedTravel(LEG_S)) == []


def test_the_validator_claims_no_room_that_max_visits_forbids():
    """w1 makes at most one visit and has made it."""
    plan, roster = _one_stop_day(max_visits=1)
    assert check_roster(plan, roster, travel=FixedTravel(LEG_S)) == []


def test_the_validator_claims_no_room_over_a_rest_break():
    """``m`` may start only 10:00-10:10, over w1's 10:00-10:30 rest break."""
    rule = {"after_min": 60, "duration_min": 30, "window": {"start": "10:00", "end": "10:00"}}
    plan = _plan(providers=[provider(**{"break": rule})],
                 visits=[visit("a", "c1", window=("09:00", "09:00")), visit("b", "c1", window=("11:00", "11:00")),
                         visit("m", "c2", window=("10:00", "10:10"), priority="mandatory")])
    roster = _roster_leaving_out(plan, [_leg_stop("a", "09:00"), _leg_stop("b", "11:00", travel_s=0)],
                                 breaks=(Break(_t("10:00"), _t("10:30")),))
    assert check_roster(plan, roster, travel=FixedTravel(LEG_S)) == []
    # The same day without the break has room.
    plain = _plan(visits=[visit("a", "c1", window=("09:00", "09:00")), visit("b", "c1", window=("11:00", "11:00")),
                          visit("m", "c2", window=("10:00", "10:10"), priority="mandatory")])
    assert _mandatory(plain, _roster_leaving_out(plain, [_leg_stop("a", "09:00"),
                                                         _leg_stop("b", "11:00", travel_s=0)]))


def test_the_validator_claims_no_room_across_a_gap_in_availability():
    """w1 works 08:00-10:00 and 11:00-16:00; ``m`` (09:50-11:00) fits only across the gap or after ``a``'s time."""
    availability = [{"start": "08:00", "end": "10:00"}, {"start": "11:00", "end": "16:00"}]
    plan = _plan(workers=[worker("w1", availability=availability)],
                 visits=[visit("a", "c1", window=("11:05", "11:05")),
                         visit("m", "c2", window=("09:50", "11:00"), priority="mandatory")])
    roster = _roster_leaving_out(plan, [_leg_stop("a", "11:05")])
    assert check_roster(plan, roster, travel=FixedTravel(LEG_S)) == []
    plain = _plan(visits=[visit("a", "c1", window=("11:05", "11:05")),
                          visit("m", "c2", window=("09:50", "11:00"), priority="mandatory")])
    assert _mandatory(plain, _roster_leaving_out(plain, [_leg_stop("a", "11:05")]))


def test_the_validator_claims_no_room_its_link_forbids():
    """``m`` must start 60-90 min after ``a`` ends (10:30-11:00), but its window closes at 10:00."""
    link = {"visit_id": "a", "min_gap_min": 60, "max_gap_min": 90}
    plan = _plan(visits=[visit("a", "c1", window=("09:00", "09:00")),
                         visit("m", "c1", window=("09:30", "10:00"), priority="mandatory", after=link)])
    roster = _roster_leaving_out(plan, [_leg_stop("a", "09:00")])
    assert check_roster(plan, roster, travel=FixedTravel(LEG_S)) == []
    loose = _plan(visits=[visit("a", "c1", window=("09:00", "09:00")),
                          visit("m", "c1", window=("09:30", "10:00"), priority="mandatory")])
    assert _mandatory(loose, _roster_leaving_out(loose, [_leg_stop("a", "09:00")]))


def test_the_validator_claims_no_room_over_max_double_handed():
    """w1 and w2 may make one double-handed visit each and make ``a``: the mandatory pair ``m`` has no room."""
    def plan_with(limit: int | None) -> Plan:
        extra = {} if limit is None else {"max_double_handed": limit}
        return _plan(providers=[provider(**extra)], workers=[worker("w1"), worker("w2")],
                     visits=[visit("a", "c1", window=("09:00", "09:00"), workers_required=2),
                             visit("m", "c2", window=("10:00", "15:00"), workers_required=2, priority="mandatory")])

    def roster(plan: Plan):  # noqa: ANN202
        routes = [make_route(w, [_leg_stop("a", "09:00")], end_travel_s=LEG_S, end_travel_m=1500) for w in ("w1", "w2")]
        return make_roster(plan, routes, [Unassigned("m", "no room", "busy")])

    limited = plan_with(1)
    assert check_roster(limited, roster(limited), travel=FixedTravel(LEG_S)) == []
    refusal = WorkerDay(limited, limited.worker("w1"), roster(limited).routes[0], FixedTravel(LEG_S)).ask(
        limited.visit("m")).refusal
    assert refusal is not None and refusal.code == "double_handed_limit"
    free = plan_with(None)
    assert _mandatory(free, roster(free))


# --------------------------------------------------------------------------- places and refusals

def _day(plan: Plan, stops: list[Stop], wid: str = "w1", **kw: Any) -> WorkerDay:
    return WorkerDay(plan, plan.worker(wid), make_route(wid, stops), FixedTravel(LEG_S), **kw)


def test_places_in_an_empty_day_from_the_window_to_getting_home():
    """An empty 08:00-16:00 day: the visit starts 08:05 (5 min away) to its window's end, for both legs."""
    plan = _plan(visits=[visit("v", "c1", window=("08:00", "12:00"))])
    answer = _day(plan, []).ask(plan.visit("v"))
    assert answer.refusal is None
    assert answer.places == (answer.cheapest,)
    assert (answer.cheapest.position, answer.cheapest.earliest, answer.cheapest.latest,
            answer.cheapest.travel_s) == (0, _t("08:05"), _t("12:00"), 2 * LEG_S)


def test_places_between_stops_keep_their_times():
    """Between ``a`` (09:00-09:30) and ``b`` (11:00) the visit at c2 may start 09:35 to 10:25."""
    plan = _plan(visits=[visit("a", "c1", window=("09:00", "09:00")), visit("b", "c1", window=("11:00", "11:00")),
                         visit("v", "c2", window=("08:00", "10:30"))])
    places = _day(plan, [_leg_stop("a", "09:00"), _leg_stop("b", "11:00", travel_s=0)]).places(plan.visit("v"))
    assert [(p.position, p.earliest, p.latest, p.travel_s) for p in places] == [
        (0, _t("08:05"), _t("08:25"), LEG_S),
        (1, _t("09:35"), _t("10:25"), 2 * LEG_S),
    ]


def test_refusals_name_the_rule():
    """Each rule that leaves no place gives its public code."""
    visits = [visit("a", "c1", window=("09:00", "09:00"), demand=2), visit("v", "c2", window=("09:00", "15:00"),
                                                                         demand=2)]
    a = [_leg_stop("a", "09:00")]
    cases = {
        "capacity": dict(capacity=3),
        "working_time": dict(max_visits=1),
    }
    for code, w in cases.items():
        plan = _plan(workers=[worker("w1", **w)], visits=visits)
        refusal = _day(plan, a).ask(plan.visit("v")).refusal
        assert refusal is not None and refusal.code == code, (code, refusal)
    plan = _plan(workers=[worker("w1", max_working_min=45)], visits=visits)
    refusal = _day(plan, a).ask(plan.visit("v")).refusal
    assert refusal is not None and refusal.code == "working_time" and "over the 45 min allowed" in refusal.message

    busy = _plan(visits=[visit("a", "c1", window=("09:00", "09:00"), duration_min=120),
                         visit("v", "c2", window=("09:00", "10:00"))])
    refusal = _day(busy, [stop("a", "09:00", 120, travel_s=LEG_S, travel_m=1500)]).ask(busy.visit("v")).refusal
    assert refusal is not None and refusal.code == "busy" and "booked 09:00-11:00 (a)" in refusal.message

    far = _plan(workers=[worker("w1", shift=("12:00", "16:00"))], visits=[visit("v", "c2", window=("09:00", "10:00"))])
    refusal = _day(far, []).ask(far.visit("v")).refusal
    assert refusal is not None and refusal.code == "unreachable"


def test_a_first_visit_in_a_long_stint_leaves_room_for_the_break_it_calls_for():
    """A 6-hour rule's 60-min break must start 11:00-11:30; a visit 11:00-12:00 leaves no room, 09:00 does."""
    rule = {"after_min": 60, "duration_min": 60, "window": {"start": "11:00", "end": "11:30"}}
    plan = _plan(providers=[provider(**{"break": rule})],
                 visits=[visit("v", "c1", window=("10:40", "11:20"), duration_min=60),
                         visit("u", "c1", window=("09:00", "09:00"), duration_min=60)])
    day = _day(plan, [])
    refusal = day.ask(plan.visit("v")).refusal
    assert refusal is not None and refusal.code == "shift" and "60-min rest break" in refusal.message
    assert [p.earliest for p in day.places(plan.visit("u"))] == [_t("09:00")]
    # Without the need, 10:40 works (it ends 11:40, before which no break fits).
    assert day.places(plan.visit("v"), new_break=False)[0].earliest == _t("10:40")


def test_a_place_splits_around_a_rest_break():
    """A break 12:00-12:20 in a free afternoon: starts before it (to 11:30) and after it (from 12:20)."""
    rule = {"after_min": 60, "duration_min": 20, "window": {"start": "12:00", "end": "12:00"}}
    plan = _plan(providers=[provider(**{"break": rule})],
                 visits=[visit("a", "c1", window=("09:00", "09:00")), visit("v", "c1", window=("11:00", "13:00"))])
    day = WorkerDay(plan, plan.worker("w1"), make_route("w1", [_leg_stop("a", "09:00")],
                                                        breaks=(Break(_t("12:00"), _t("12:20")),)), FixedTravel(LEG_S))
    assert [(p.position, p.earliest, p.latest) for p in day.places(plan.visit("v"))] == [
        (1, _t("11:00"), _t("11:30")), (1, _t("12:20"), _t("13:00"))]


def test_links_lock_time_and_off_from_bound_the_start():
    """A link to a placed visit, a re-plan's lock time and ``off_from`` each narrow the starts."""
    link = {"visit_id": "a", "min_gap_min": 60, "max_gap_min": 90}
    plan = _plan(visits=[visit("a", "c1", window=("09:00", "09:00")),
                         visit("v", "c1", window=("09:00", "15:00"), after=link)])
    day = _day(plan, [_leg_stop("a", "09:00")])
    answer = day.ask(plan.visit("v"), starts={"a": _t("09:00")})
    assert [(p.earliest, p.latest) for p in answer.places] == [(_t("10:30"), _t("11:00"))]
    lo, hi, links = link_bounds(plan, plan.visit("v"), {"a": _t("09:00")})
    assert (lo, hi, [(k.other_id, k.first, k.gap()) for k in links]) == (_t("10:30"), _t("11:00"),
                                                                         [("a", False, "60-90")])
    assert day.places(plan.visit("v"), within=(lo, hi)) == list(answer.places)
    late = _day(plan, [_leg_stop("a", "09:00")], not_before=_t("14:00"))
    refusal = late.ask(plan.visit("v"), starts={"a": _t("09:00")}).refusal
    assert refusal is not None and refusal.code == "linked"
    assert late.places(plan.visit("v"))[0].earliest == _t("14:00")
    off = _plan(workers=[worker("w1", off_from="12:00")], visits=[visit("v", "c1", window=("09:00", "15:00"))])
    assert max(p.latest for p in _day(off, []).places(off.visit("v"))) == _t("11:59") // 60 * 60


def test_pairs_share_a_minute_and_at_fixes_it():
    """A double-handed visit: two workers with room at one common minute; ``at`` asks for that minute only."""
    plan = _plan(workers=[worker("w1"), worker("w2"), worker("w3")],
                 visits=[visit("a", "c1", window=("09:00", "09:00")),
                         visit("v", "c2", window=("08:00", "12:00"), workers_required=2)])
    days = {w: _day(plan, [_leg_stop("a", "09:00")] if w == "w1" else [], w) for w in ("w1", "w2", "w3")}
    answers = [d.ask(plan.visit("v")) for d in days.values()]
    found = list(pairs(answers))
    assert {(w1, w2) for _, _, _, w1, w2 in found} == {("w1", "w2"), ("w1", "w3"), ("w2", "w3")}
    assert all(max(g1.earliest, g2.earliest) == t for t, g1, g2, _, _ in found)
    assert days["w2"].ask(plan.visit("v"), at=_t("10:00")).places[0].earliest == _t("10:00")
    refusal = days["w1"].ask(plan.visit("v"), at=_t("09:10")).refusal
    assert refusal is not None and refusal.code == "busy" and "when the other worker of the pair starts" in refusal.message
    room = list(free_places(plan, make_roster(plan, {"w1": [_leg_stop("a", "09:00")]}).routes, plan.visit("v"),
                            FixedTravel(LEG_S)))
    assert room[0][0] == _t("08:05") and [g.worker_id for g in room[0][1]] == ["w1", "w2"]
    assert free_slot(plan, (), plan.visit("v"), FixedTravel(LEG_S)).startswith("workers 'w1' and 'w2'")


def test_insert_and_remove_update_the_day_as_a_fresh_build_would():
    """After inserting ``v``, the day answers for ``u`` as one built with ``v`` in it."""
    plan = _plan(visits=[visit("a", "c1", window=("09:00", "09:00")), visit("v", "c2", window=("10:00", "12:00")),
                         visit("u", "c1", window=("08:00", "15:00"))])
    day = _day(plan, [_leg_stop("a", "09:00")])
    place = day.ask(plan.visit("v")).cheapest
    day.insert(plan.visit("v"), place.position, place.earliest)
    fresh = _day(plan, [_leg_stop("a", "09:00"), _leg_stop("v", "10:00", "c2")])
    assert day.places(plan.visit("u")) == fresh.places(plan.visit("u"))
    assert (day.day.earliest, day.day.latest, day.day.work) == (fresh.day.earliest, fresh.day.latest,
                                                                 fresh.day.work)
    day.remove("v")
    alone = _day(plan, [_leg_stop("a", "09:00")])
    assert day.places(plan.visit("u")) == alone.places(plan.visit("u"))


# --------------------------------------------------------------------------- properties

class MatrixTravel:
    """Travel from a matrix over locations (seconds; metres ten times the seconds)."""

    def __init__(self, points: list[Location], seconds: list[list[int]]) -> None:
        self.index = {p: i for i, p in enumerate(points)}
        self.seconds = seconds

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return (seconds, metres) of the leg."""
        s = self.seconds[self.index[origin]][self.index[destination]]
        return s, 10 * s


@st.composite
def small_days(draw: st.DrawFn) -> tuple[Plan, MatrixTravel, list[int]]:
    """A worker, up to six visits at up to four clients, a travel matrix; maybe split shifts and limits."""
    n_clients = draw(st.integers(1, 4))
    names = LONDON_NAMES[1:1 + n_clients]
    availability = draw(st.sampled_from([None, [("08:00", "11:00"), ("12:00", "16:00")],
                                         [("07:30", "09:00"), ("09:10", "13:00"), ("15:00", "18:00")]]))
    extra: dict[str, Any] = {}
    if availability:
        extra["availability"] = [{"start": a, "end": b} for a, b in availability]
        shift = (availability[0][0], availability[-1][1])
    else:
        shift = ("08:00", "16:00")
    extra["capacity"] = draw(st.sampled_from([None, 3, 6]))
    extra["max_visits"] = draw(st.sampled_from([None, 3, 5]))
    extra["max_working_min"] = draw(st.sampled_from([None, 150, 300]))
    visits = []
    for i in range(draw(st.integers(1, 6))):
        start = draw(st.integers(7 * 60, 16 * 60))
        length = draw(st.sampled_from([0, 15, 60, 180]))
        visits.append(visit(f"v{i}", f"c{draw(st.integers(0, n_clients - 1))}",
                            window=(f"{start // 60:02d}:{start % 60:02d}",
                                    f"{min(start + length, 17 * 60) // 60:02d}:{min(start + length, 17 * 60) % 60:02d}"),
                            duration_min=draw(st.sampled_from([15, 30, 45])), demand=draw(st.integers(0, 2))))
    data = plan_dict(workers=[worker("w1", shift=shift, **extra)],
                     clients=[client(f"c{i}", location=name) for i, name in enumerate(names)], visits=visits)
    plan = plan_from_dict(data)
    points = [plan.workers[0].start_location, *(c.location for c in plan.clients)]
    n = len(points)
    seconds = [[0 if i == j else draw(st.integers(60, 1500)) for j in range(n)] for i in range(n)]
    order = draw(st.permutations(range(len(plan.visits))))
    return plan, MatrixTravel(points, seconds), list(order)


def _route_with(plan: Plan, travel: MatrixTravel, day: WorkerDay):  # noqa: ANN202
    """The day's stops as a route, with the road legs."""
    w = plan.workers[0]
    stops, here = [], w.start_location
    for s in day.stops:
        there = plan.visit_location(plan.visit(s.visit_id))
        leg_s, leg_m = travel.leg(w, here, there)
        stops.append(dataclasses.replace(s, arrival=s.start, travel_s=leg_s, travel_m=leg_m))
        here = there
    back_s, back_m = travel.leg(w, here, w.end_location)
    return make_route(w.id, stops, end_travel_s=back_s, end_travel_m=back_m)


def _valid(plan: Plan, travel: MatrixTravel, day: WorkerDay) -> list[str]:
    route = _route_with(plan, travel, day)
    served = {s.visit_id for s in route.stops}
    left = [Unassigned(v.id, "left out", "busy") for v in plan.visits if v.id not in served]
    return [str(v) for v in check_roster(plan, make_roster(plan, [route], left), travel=travel)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_days(), st.data())
def test_every_place_offered_gives_a_valid_route_at_its_earliest_and_latest_start(case, data):
    """Insert visits one by one at an offered place; both ends of every place offered pass check_roster."""
    plan, travel, order = case
    w = plan.workers[0]
    day = WorkerDay(plan, w, None, travel)
    for i in order:
        v = plan.visits[i]
        places = day.places(v)
        for p in places:
            for start in {p.earliest, p.latest}:
                trial = WorkerDay(plan, w, _route_with(plan, travel, day), travel)
                trial.insert(v, p.position, start)
                assert _valid(plan, travel, trial) == [], (v.id, p, start)
        if places:
            p = data.draw(st.sampled_from(places))
            day.insert(v, p.position, data.draw(st.sampled_from([p.earliest, p.latest])))
            assert _valid(plan, travel, day) == []
            fresh = WorkerDay(plan, w, _route_with(plan, travel, day), travel)
            assert (day.day.earliest, day.day.latest, day.day.work, day.day.load) == (
                fresh.day.earliest, fresh.day.latest, fresh.day.work, fresh.day.load)


@st.composite
def sequences(draw: st.DrawFn) -> dict[str, Any]:
    """Free nodes (windows, durations) on a minute matrix, blocked time, and a list of edits."""
    n = draw(st.integers(1, 8))
    locs = 5
    tt = [[0 if i == j else draw(st.integers(1, 40)) for j in range(locs)] for i in range(locs)]
    lo = [draw(st.integers(0, 600)) for _ in range(n)]
    hi = [a + draw(st.integers(0, 300)) for a in lo]
    blocks = draw(st.sampled_from([[], [(300, 330)], [(200, 260), (500, 520)]]))
    fixed = {x: lo[x] for x in range(n) if draw(st.booleans()) and draw(st.booleans())}
    edits = draw(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), max_size=12))
    return {"data": NodeData([draw(st.integers(1, locs - 1)) for _ in range(n)], lo, hi,
                             [draw(st.integers(5, 60)) for _ in range(n)], [1] * n, fixed),
            "tt": tt, "blocks": blocks, "edits": edits, "n": n}


@settings(max_examples=150, deadline=None)
@given(sequences())
def test_incremental_insert_and_remove_equal_a_fresh_build(case):
    """Earliest and latest starts, load and working time after each edit equal those of a day built afresh."""
    data, n = case["data"], case["n"]

    def build(nodes: list[int]) -> Day:
        return Day(data, start_loc=0, end_loc=0, ready=0, bound=1440, tt=case["tt"], blocks=case["blocks"],
                   nodes=nodes)

    day = build([])
    outside = list(range(n))
    for add, k in case["edits"]:
        if add and outside:
            x = outside.pop(k % len(outside))
            day.insert(x, k % (len(day.nodes) + 1))
        elif day.nodes:
            outside.append(day.remove(k % len(day.nodes)))
            data.fixed.pop(outside[-1], None)
        fresh = build(list(day.nodes))
        assert (day.earliest, day.latest, day.load, day.work) == (fresh.earliest, fresh.latest, fresh.load, fresh.work)
        for x in outside:
            assert day.slots(x) == fresh.slots(x)
