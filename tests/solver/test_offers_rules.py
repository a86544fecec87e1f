"""Each rule of a worker's day in a quote: a small plan where the rule alone removes an offer (solver/offers.py).

Skills, gender and exclusions, working time and equipment have theirs in ``test_offers.py`` and
``test_offers_equipment.py``; here: two workers at one minute, the double-handed limit, links and
the minimum wage (mode ``hard`` leaves an offer out; ``penalty`` and ``price`` put the shortfall it
changes in its cost). Every roster a booking makes goes through ``check_roster``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from scheduler.model import Plan, TimeWindow
from scheduler.offers import asked_visit, booked_plan, request_from_dict
from scheduler.pay import pay_report
from scheduler.timeutil import parse_hhmm
from scheduler.validate import check_roster
from solver.offers import Published, book, quote
from solver.repair import with_visit
from tests.helpers import client, make_plan, provider, visit, worker
from tests.solver.test_offers import TRAVEL, published

TUESDAY = dt.date(2026, 11, 24)
PER_VISIT_10 = {"model": "per_visit", "per_visit_rate": 10.0}


def ask(**fields):  # noqa: ANN003, ANN201
    """Return a care request on Tuesday for client c2, with ``fields``."""
    return request_from_dict({"client_id": "c2", "kind": "care", "duration_min": 30, **fields}, dates=[TUESDAY])


def two_carers(*, w2: dict | None = None, pay: dict | None = None, mode: str = "off", **kw) -> Plan:
    """Two carers, three clients; v1 (c1, 10:00-11:00) and v3 (c3, 12:00); ``w2`` fields for the second carer."""
    data = {"providers": [provider("care-1", **({"pay": pay} if pay else {}))],
            "workers": [worker("w1"), worker("w2", start_location="russell_sq", **(w2 or {}))],
            "clients": [client("c1", location="fitzroy_sq"), client("c2", location="goodge_st"),
                        client("c3", location="bedford_sq")],
            "visits": [visit("v1", "c1", window=("10:00", "10:00"), duration_min=60),
                       visit("v3", "c3", window=("12:00", "12:00"))],
            "minimum_wage": {"mode": mode}}
    return make_plan(**{**data, **kw})


def booked_ok(req, offer, day: Published) -> Published:  # noqa: ANN001
    """Book the offer: it lands as quoted and the roster passes the validator."""
    booking = book(req, offer, [day])
    assert booking.ok, booking.fresh
    after = booking.days[0]
    slot = offer.slots[0]
    vid = booking.visit_ids[0]
    assert {(r.worker_id, s.start) for r in after.roster.routes for s in r.stops if s.visit_id == vid} \
        == {(w, slot.start) for w in slot.worker_ids}
    assert check_roster(after.plan, after.roster, travel=after.travel) == []
    return after


# --------------------------------------------------------------------------- two workers at one minute

def test_a_double_handed_visit_is_not_offered_when_only_one_carer_is_free():
    """10:00-10:30: w1 is at v1 until 11:00, so one carer (w2) can come but not two; later both can."""
    day = published(two_carers(), {"w1": [("v1", "10:00")]})
    times = [{"start": "10:00", "end": "10:30"}]
    alone = quote(ask(preferred_times=times), [day])
    assert {s.worker_ids for o in alone.offers for s in o.slots} == {("w2",)}
    pair = quote(ask(preferred_times=times, workers_required=2), [day])
    assert pair.offers == () and pair.codes == {TUESDAY: "pair"}
    assert pair.reason == "no two carers are free at the same time on Tuesday 24 November"
    later = ask(preferred_times=[{"start": "14:00", "end": "15:00"}], workers_required=2)
    q = quote(later, [day])
    assert q.offers and all(set(o.slots[0].worker_ids) == {"w1", "w2"} for o in q.offers)
    booked_ok(later, q.offers[0], day)


def test_the_double_handed_limit_leaves_a_carer_out_of_pairs():
    """w2 may do one double-handed visit a day and does one at 08:30: no pair in the afternoon.

    Both are free then; with a limit of 2 they pair; alone, w2 still comes.
    """
    times = [{"start": "14:00", "end": "15:00"}]
    visits = [visit("v1", "c1", window=("10:00", "10:00"), duration_min=60),
              visit("vd", "c3", window=("08:30", "08:30"), workers_required=2)]
    placed = {"w1": [("vd", "08:30"), ("v1", "10:00")], "w2": [("vd", "08:30")]}
    roomy = published(two_carers(w2={"max_double_handed": 2}, visits=visits), placed)
    assert quote(ask(preferred_times=times, workers_required=2), [roomy]).offers
    limited = published(two_carers(w2={"max_double_handed": 1}, visits=visits), placed)
    q = quote(ask(preferred_times=times, workers_required=2), [limited])
    assert q.offers == () and q.codes[TUESDAY] == "double_handed_limit"
    assert q.reason == "no two carers who could come together are free on Tuesday 24 November"
    assert quote(ask(preferred_times=times), [limited]).offers


# --------------------------------------------------------------------------- links

def test_booking_keeps_a_linked_pair_where_it_is():
    """v3 follows v1 by 60-90 min (a link); a quote between them is offered and booked without moving either.

    A requested visit has no links of its own, and booking keeps every other stop's time, so a link can
    never be broken by a booking and removes no offer: every offer between the pair books and passes the
    validator's link rule.
    """
    plan = two_carers(visits=[visit("v1", "c1", window=("10:00", "10:00"), duration_min=60),
                              visit("v3", "c1", window=("12:00", "12:30"),
                                    after={"visit_id": "v1", "min_gap_min": 60, "max_gap_min": 90})])
    day = published(plan, {"w1": [("v1", "10:00"), ("v3", "12:15")]})
    req = ask(preferred_times=[{"start": "11:00", "end": "12:00"}])
    q = quote(req, [day])
    between = [o for o in q.offers if o.slots[0].worker_ids == ("w1",)]
    assert between
    for offer in between:
        after = booked_ok(req, offer, day)
        starts = {s.visit_id: s.start for r in after.roster.routes for s in r.stops}
        assert (starts["v1"], starts["v3"]) == (10 * 3600, 12 * 3600 + 900)


# --------------------------------------------------------------------------- the minimum wage

def test_hard_minimum_wage_refuses_a_day_that_would_pay_below_it():
    """Paid £10 a visit, a 90-minute visit pays £6.67 an hour: in mode hard nobody is offered, in the resident's words.

    With the rule off the same request has offers; in mode hard the date's code is ``minimum_wage``.
    """
    req = ask(duration_min=90, preferred_times=[{"start": "14:00", "end": "16:00"}])
    off = published(two_carers(pay=PER_VISIT_10), {})
    assert quote(req, [off]).offers
    hard = published(two_carers(pay=PER_VISIT_10, mode="hard"), {})
    q = quote(req, [hard])
    assert q.offers == () and q.codes == {TUESDAY: "minimum_wage"}
    assert q.reason == ("no carer can come on Tuesday 24 November at the times you asked for without being paid "
                        "below the minimum wage; try other times or another day")


def test_hard_minimum_wage_offers_only_what_books_and_books_nothing_it_refuses():
    """£10 a visit, minimum £12.71/h: after w1's 30-min v3 a 60-min visit pays enough only if it follows closely.

    Every offer made books and passes the validator (with the minimum-wage rule, mode hard); each
    slot the rule left out (offered with the rule off) would put w1 below the minimum if booked,
    and booking it in mode hard is stale.
    """
    visits = [visit("v3", "c3", window=("12:00", "12:00"))]
    off_plan = two_carers(pay=PER_VISIT_10, visits=visits, workers=[worker("w1")])
    hard_plan = two_carers(pay=PER_VISIT_10, visits=visits, workers=[worker("w1")], mode="hard")
    req = ask(duration_min=60, preferred_times=[{"start": "12:00", "end": "14:00"}], slot_min=5)
    off, hard = published(off_plan, {"w1": [("v3", "12:00")]}), published(hard_plan, {"w1": [("v3", "12:00")]})
    offered = {o.slots[0].start: o for o in quote(req, [hard]).offers}
    every = {o.slots[0].start: o for o in quote(req, [off]).offers}
    refused = sorted(set(every) - set(offered))
    assert offered and refused and set(offered) < set(every)
    for offer in offered.values():
        booked_ok(req, offer, hard)
    for start in refused:
        offer, slot = every[start], every[start].slots[0]
        assert book(req, offer, [hard]).stale
        # Put in by hand where it was offered with the rule off: w1 ends the day below the minimum wage.
        forced = asked_visit(hard_plan, req, hard_plan.client("c2"), TimeWindow(slot.window_start, slot.window_end))
        plan = booked_plan(hard_plan, hard_plan.client("c2"), forced)
        routes = with_visit(plan, hard.roster.routes, forced, slot.start, [("w1", slot.positions[0])], TRAVEL, None)
        broken = check_roster(plan, dataclasses.replace(hard.roster, routes=tuple(routes)), travel=TRAVEL)
        assert [v.rule for v in broken] == ["minimum_wage"], broken


@pytest.mark.parametrize("mode", ["penalty", "price"])
def test_the_cost_of_an_offer_includes_the_shortfall_it_changes(mode):
    """Paid £12 an hour of visits (below £12.71 with travel): an offer's cost carries the shortfall it changes.

    Each offer costs its travel at £12/h plus the change in the worker's shortfall, to the penny
    as the pay report counts it after booking.
    """
    pay = {"model": "hourly", "hourly_rate": 12.0, "paid_time": "contact"}
    day = published(two_carers(pay=pay, mode=mode), {"w1": [("v1", "10:00"), ("v3", "12:00")]})
    off = published(two_carers(pay=pay), {"w1": [("v1", "10:00"), ("v3", "12:00")]})
    req = ask(duration_min=30)
    q = quote(req, [day])
    assert q.offers
    before = {r.worker_id: r.shortfall for r in pay_report(day.plan, day.roster).workers}
    changed = 0
    for offer in q.offers:
        after = booked_ok(req, offer, day)
        now = {r.worker_id: r.shortfall for r in pay_report(after.plan, after.roster).workers}
        slot = offer.slots[0]
        more = sum(now.get(w, 0.0) - before.get(w, 0.0) for w in slot.worker_ids)
        travel = round(slot.extra_travel_s / 3600 * 12.0, 2)
        assert slot.extra_cost == pytest.approx(round(travel + more, 2), abs=0.011)
        changed += abs(more) >= 0.01
    assert changed
    # With the rule off the same offers cost their travel alone.
    plain = {(o.window_start, o.slots[0].worker_ids): o.extra_cost for o in quote(req, [off]).offers}
    assert any(plain[(o.window_start, o.slots[0].worker_ids)] != o.extra_cost for o in q.offers)


def test_a_booking_is_not_refused_for_what_was_broken_before_it():
    """A published day where w2 is already paid below the minimum (mode hard set after it was published):
    a booking that adds nothing broken books, and the day is left with only what was broken before.

    ``book`` used to check the whole roster after the booking and raise for w2's old shortfall.
    """
    placed = {"w1": [("v3", "12:00")], "w2": [("v1", "10:00")]}
    plan = two_carers(pay=PER_VISIT_10)
    day = published(plan, placed)
    hard = dataclasses.replace(plan, minimum_wage=dataclasses.replace(plan.minimum_wage, mode="hard"))
    before = check_roster(hard, day.roster, travel=TRAVEL)
    assert [(v.rule, v.record_id) for v in before] == [("minimum_wage", "w2")], before
    broken_day = Published(hard, day.roster, TRAVEL)
    req = ask(preferred_times=[{"start": "13:00", "end": "15:00"}])
    offers = [o for o in quote(req, [broken_day]).offers if o.slots[0].worker_ids == ("w1",)]
    assert offers
    booking = book(req, offers[0], [broken_day])
    assert booking.ok, booking.fresh
    after = booking.days[0]
    assert [(v.rule, v.record_id) for v in check_roster(after.plan, after.roster, travel=after.travel)] \
        == [("minimum_wage", "w2")]


# --------------------------------------------------------------------------- rest breaks a booking cannot add

def test_a_first_visit_in_a_long_stint_is_not_offered_where_it_would_owe_a_break_the_roster_lacks():
    """A split shift (07:00-14:00, 16:00-22:00), one visit at 19:15, rest breaks after 6 h.

    A visit early in the first stint makes the day in it (leaving home to 14:00) over 6 h: the break
    rule then wants a 20-min break there, which booking (every other stop and break as it was) does
    not add. Before the fix the quote offered 07:00 and booking it broke the roster (SolverError on
    the break rule); now the first stint's offers start late enough to owe none, and each books valid.
    """
    plan = make_plan(providers=[provider("care-1", **{"break": {"after_min": 360, "duration_min": 20}})],
                     workers=[worker("w1", shift=("07:00", "22:00"),
                                     availability=[{"start": "07:00", "end": "14:00"},
                                                   {"start": "16:00", "end": "22:00"}])],
                     clients=[client("c1", location="fitzroy_sq"), client("c2", location="goodge_st")],
                     visits=[visit("v1", "c1", window=("19:15", "19:15"))])
    day = published(plan, {"w1": [("v1", "19:15")]})
    req = ask(duration_min=60, preferred_times=[{"start": "07:00", "end": "10:00"}])
    offers = quote(req, [day]).offers
    assert offers, quote(req, [day]).reason
    leg = TRAVEL.leg(plan.worker("w1"), plan.worker("w1").start_location, plan.client("c2").location)[0]
    assert min(o.slots[0].start for o in offers) >= parse_hhmm("08:00") + leg
    for offer in offers:
        booked_ok(req, offer, day)
