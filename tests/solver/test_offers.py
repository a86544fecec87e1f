"""Quoting slots and booking them into a published roster (solver/offers.py), rule by rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sys
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.errors import PlanError
from scheduler.model import Location, Plan, Worker
from scheduler.offers import request_from_dict
from scheduler.roster import Roster, Unassigned, compute_kpis, make_route
from scheduler.timeutil import format_hhmm, parse_hhmm
from scheduler.validate import check_roster
from solver.offers import Published, book, cancel, quote, with_location
from solver.repair import insert_stop
from tests.helpers import (
    LONDON_OSM,
    client,
    haversine_m,
    make_plan,
    plan_dict,
    provider,
    visit,
    worker,
)

TUESDAY = dt.date(2026, 11, 24)


class CrowTravel:
    """A travel oracle that differs by leg: straight-line metres at 5 m/s (fake roads, real variety)."""

    def leg(self, worker: Worker, origin: Location, destination: Location) -> tuple[int, int]:
        """Return (seconds, metres) of the leg."""
        metres = round(haversine_m(origin, destination))
        return math.ceil(metres / 5), metres


TRAVEL = CrowTravel()


def published(plan: Plan, placed: Mapping[str, Sequence[tuple[str, str]]], travel=TRAVEL) -> Published:
    """The plan's roster with ``placed`` visits (worker -> (visit, start HH:MM) in order), timed as a solve does."""
    routes = []
    for wid, items in placed.items():
        route = make_route(wid, ())
        for n, (vid, hhmm) in enumerate(items):
            route = insert_stop(plan, route, plan.visit(vid), n, parse_hhmm(hhmm), travel, None)
        routes.append(route)
    served = {vid for items in placed.values() for vid, _ in items}
    left = [Unassigned(v.id, "nobody free", "busy") for v in plan.visits if v.id not in served]
    roster = Roster(plan.date, tuple(routes), tuple(left), compute_kpis(plan, routes, left))
    assert check_roster(plan, roster, travel=travel) == []
    return Published(plan, roster, travel)


PLAIN_CLIENTS = [client("c1", location="fitzroy_sq"), client("c2", location="goodge_st"),
                 client("c3", location="bedford_sq"), client("c4", location="euston_sq")]


def day_plan(**kw) -> Plan:
    """Three carers (w3 a man with a hoist), one hairdresser, four clients with a visit each."""
    data = dict(
        providers=[provider("care-1", pay={"model": "hourly", "hourly_rate": 12.0}),
                   provider("hair-1", "hairdressing")],
        workers=[worker("w1"), worker("w2", start_location="russell_sq"),
                 worker("w3", start_location="marylebone", gender="m", skills=["hoist"]),
                 worker("h1", "hair-1", start_location="queen_sq")],
        clients=[client("c1", location="fitzroy_sq"), client("c2", location="goodge_st"),
                 client("c3", location="bedford_sq", gender_preference="f", excluded_worker_ids=["w2"]),
                 client("c4", location="euston_sq", preferred_worker_ids=["w2"])],
        visits=[visit("v1", "c1", window=("09:00", "09:30")), visit("v2", "c2", window=("10:00", "10:30")),
                visit("v3", "c3", window=("11:00", "12:00")), visit("v4", "c4", window=("13:00", "14:00"))],
    )
    data.update(kw)
    return make_plan(**data)


@pytest.fixture
def day() -> Published:
    """The day plan with w1 and w2 busy, w3 and the hairdresser free."""
    plan = day_plan()
    return published(plan, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00"), ("v4", "13:00")]})


def ask(**fields) -> object:
    """A care request for 30 min on Tuesday, with ``fields``."""
    return request_from_dict({"kind": "care", "duration_min": 30, **fields}, dates=[TUESDAY])


def workers_offered(q) -> set[str]:
    """Every worker in any offer of the quote."""
    return {w for o in q.offers for s in o.slots for w in s.worker_ids}


def assert_booked_as_quoted(before: Published, offer, booking) -> Published:
    """The booked visit starts at the quoted minute with the quoted workers, in the quoted window; travel matches."""
    assert booking.ok, booking.fresh
    after = booking.days[0]
    slot = offer.slots[0]
    vid = booking.visit_ids[0]
    got = {(r.worker_id, s.start) for r in after.roster.routes for s in r.stops if s.visit_id == vid}
    assert got == {(w, slot.start) for w in slot.worker_ids}
    v = after.plan.visit(vid)
    assert (v.window.start, v.window.end) == (slot.window_start, slot.window_end)
    assert slot.window_start <= slot.start < slot.window_end
    assert after.roster.kpis.travel_s - before.roster.kpis.travel_s == slot.extra_travel_s
    assert check_roster(after.plan, after.roster, travel=after.travel) == []
    return after


def test_quote_offers_only_workers_with_the_skills(day):
    """A hoist visit is offered with w3 alone, the only carer with a hoist."""
    q = quote(ask(client_id="c1", required_skills=["hoist"]), [day])
    assert q.offers and workers_offered(q) == {"w3"}


def test_quote_keeps_the_clients_gender_preference_and_exclusions(day):
    """Client c3 wants a woman and excludes w2: only w1 is offered (w3 is a man)."""
    q = quote(ask(client_id="c3"), [day])
    assert workers_offered(q) == {"w1"}


def test_quote_marks_the_worker_the_client_prefers_as_known(day):
    """Client c4 prefers w2: the offers with w2 say a known worker comes, the others do not."""
    q = quote(ask(client_id="c4"), [day])
    assert {o.known_worker for o in q.offers} == {True, False}
    assert all(o.known_worker == ("w2" in o.slots[0].worker_ids) for o in q.offers)


def test_quote_says_why_in_the_residents_words_when_no_provider_works(day):
    """Nobody of the kind: "no hairdresser works on Tuesday 24 November in your area"-style sentences."""
    plan = day_plan(providers=[provider("care-1")], workers=[worker("w1")], clients=PLAIN_CLIENTS)
    lone = published(plan, {"w1": [("v1", "09:00")]})
    q = quote(request_from_dict({"client_id": "c1", "kind": "hairdressing", "duration_min": 30}, dates=[TUESDAY]),
              [lone])
    assert q.offers == () and q.codes == {TUESDAY: "no_provider"}
    assert q.reason == "no hairdresser works on Tuesday 24 November in your area"


def test_quote_says_fully_booked_when_no_working_time_is_left():
    """Carers with 60 minutes a day, already used: "every carer who could come is fully booked on ..."."""
    plan = day_plan(workers=[worker("w1", max_working_min=60), worker("w2", start_location="russell_sq",
                                                                       max_working_min=60)])
    full = published(plan, {"w1": [("v1", "09:00")], "w2": [("v2", "10:00")]})
    q = quote(ask(client_id="c4", duration_min=45), [full])
    assert q.offers == ()
    assert q.reason == "every carer who could come is fully booked on Tuesday 24 November"
    assert q.codes[TUESDAY] == "working_time"


def test_quote_a_double_handed_visit_pairs_two_carers_at_one_minute(day):
    """Two carers of one provider, one start: booking puts both there and the roster passes."""
    req = ask(client_id="c2", workers_required=2, preferred_times=[{"start": "14:00", "end": "16:00"}])
    q = quote(req, [day])
    assert q.offers
    for offer in q.offers:
        slot = offer.slots[0]
        assert len(set(slot.worker_ids)) == 2
        assert parse_hhmm("14:00") <= slot.window_start and slot.window_end <= parse_hhmm("16:00")
    assert_booked_as_quoted(day, q.offers[0], book(req, q.offers[0], [day]))


def test_every_offer_books_exactly_as_quoted(day):
    """Each offer of a quote, booked into the day as published: window, worker, start and extra travel hold."""
    req = ask(client_id="c2", duration_min=45)
    q = quote(req, [day])
    assert len(q.offers) > 10
    for offer in q.offers:
        assert_booked_as_quoted(day, offer, book(req, offer, [day]))


def test_ranking_puts_green_offers_first_and_the_extra_cost_follows_the_rate():
    """Green offers lead, by extra travel; the cost is that travel at the provider's 12/h (minimum wage off)."""
    plan = day_plan(minimum_wage={"mode": "off"})
    day = published(plan, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00"), ("v4", "13:00")]})
    q = quote(ask(client_id="c2"), [day])
    greens = [o.green for o in q.offers]
    assert greens == sorted(greens, reverse=True) and greens[0]
    lead = [o.extra_travel_s for o in q.offers if o.green]
    assert lead == sorted(lead)
    for o in q.offers:
        assert o.extra_cost == pytest.approx(round(o.extra_travel_s / 3600 * 12.0, 2))


def test_a_stale_offer_is_quoted_again_not_booked(day):
    """Two offers of w1 at one time: after the first is booked, the second comes back stale with fresh offers."""
    req = ask(client_id="c2", preferred_times=[{"start": "14:00", "end": "15:00"}])
    q = quote(req, [day])
    first = next(o for o in q.offers if o.slots[0].worker_ids == ("w1",))
    after = book(req, first, [day]).days[0]
    again = book(req, first, [after])
    assert again.stale and not again.ok and again.days == ()
    assert again.fresh is not None
    assert all((o.slots[0].worker_ids, o.slots[0].start) != (("w1",), first.slots[0].start)
               for o in again.fresh.offers)


def test_cancel_gives_back_the_day_as_it_was(day):
    """Booking then cancelling leaves the same visits, stops and travel; the roster passes."""
    req = ask(client_id="c2")
    offer = quote(req, [day]).offers[3]
    booked = book(req, offer, [day])
    undone = cancel(booked.visit_ids[0], booked.days[0])
    assert [v.id for v in undone.plan.visits] == [v.id for v in day.plan.visits]
    assert undone.roster.kpis.travel_s == day.roster.kpis.travel_s
    assert [(r.worker_id, [(s.visit_id, s.start, s.travel_s) for s in r.stops]) for r in undone.roster.routes if r.stops] \
        == [(r.worker_id, [(s.visit_id, s.start, s.travel_s) for s in r.stops]) for r in day.roster.routes if r.stops]
    assert check_roster(undone.plan, undone.roster, travel=TRAVEL) == []
    with pytest.raises(PlanError):
        cancel("nope", day)


def test_a_recurring_request_books_every_date_or_none():
    """Weekly on Tuesdays over two Tuesdays: only times free on both; booking makes both visits."""
    plan = day_plan()
    tue1 = published(plan, {"w1": [("v1", "09:00")], "w2": [("v2", "10:00")]})
    plan2 = dataclasses.replace(plan, date=TUESDAY + dt.timedelta(days=7))
    tue2 = published(plan2, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00"), ("v4", "13:00")]})
    req = request_from_dict({"client_id": "c1", "kind": "care", "duration_min": 30,
                             "recurrence": {"weekdays": ["tue"]}, "preferred_times": [{"start": "10:30",
                                                                                        "end": "11:30"}]},
                            dates=[TUESDAY, plan2.date])
    q = quote(req, [tue1, tue2])
    assert q.offers and all(len(o.slots) == 2 for o in q.offers)
    assert all(o.slots[0].window_start == o.slots[1].window_start for o in q.offers)
    booking = book(req, q.offers[0], [tue1, tue2])
    assert [d.date for d in booking.days] == [TUESDAY, plan2.date] and len(booking.visit_ids) == 2
    for d in booking.days:
        assert check_roster(d.plan, d.roster, travel=TRAVEL) == []
    # Two carers are free together on the first Tuesday, not on the second: nothing is offered.
    busy = request_from_dict({"client_id": "c1", "kind": "care", "duration_min": 60,
                              "recurrence": {"weekdays": ["tue"]}, "workers_required": 2,
                              "preferred_times": [{"start": "10:00", "end": "11:00"}]}, dates=[TUESDAY, plan2.date])
    two = day_plan(workers=[worker("w1"), worker("w2", start_location="russell_sq")], date=plan2.date.isoformat())
    tue2 = published(two, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00")]})
    assert quote(dataclasses.replace(busy, recurrence=None, dates=(plan2.date,)), [tue2]).offers == ()
    none = quote(busy, [tue1, tue2])
    assert quote(dataclasses.replace(busy, recurrence=None, dates=(TUESDAY,)), [tue1]).offers
    assert none.offers == () and none.reason


def test_no_offer_makes_a_day_owe_a_rest_break_it_lacks():
    """A worker on 08:00-16:00 with a 3-hour morning and no break: nothing offered takes their day past 6 h.

    Before the engine knew it, the last afternoon slots were offered, and booking one broke the break rule.
    """
    plan = day_plan(providers=[provider("care-1", **{"break": {"after_min": 360, "duration_min": 20}})],
                    workers=[worker("w1")], clients=PLAIN_CLIENTS)
    morning = published(plan, {"w1": [("v1", "09:00"), ("v2", "10:00"), ("v3", "11:00")]})
    req = ask(client_id="c4", duration_min=30)
    q = quote(req, [morning])
    assert q.offers
    latest = max(o.slots[0].start for o in q.offers)
    assert latest < parse_hhmm("15:00"), format_hhmm(latest)
    for offer in q.offers:
        assert_booked_as_quoted(morning, offer, book(req, offer, [morning]))


def test_new_clients_travel_matches_the_plans_own(london_network):
    """A new client's home gets travel both ways equal, to the second and metre, to the plan's own matrices."""
    from solver import travel_for

    plan = make_plan(**{k: v for k, v in plan_dict(network=LONDON_OSM).items() if k in ("workers", "clients", "visits")})
    travel = travel_for(plan, london_network)
    here = Location(51.5250, -0.1285)  # Tavistock Square
    day = Published(plan, Roster(plan.date, (), (), compute_kpis(plan, (), ())), travel)
    [grown] = with_location([day], london_network, here)
    withc = make_plan(clients=[client("c1"), client("new", location=(here.lat, here.lon))])
    fresh = travel_for(withc, london_network)
    w = plan.worker("w1")
    for loc in (plan.client("c1").location, w.start_location):
        assert grown.travel.leg(w, here, loc) == fresh.leg(w, here, loc)
        assert grown.travel.leg(w, loc, here) == fresh.leg(w, loc, here)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3", "c4"]), st.sampled_from([15, 30, 45, 60, 90]),
                          st.sampled_from([1, 1, 2]), st.integers(7, 17), st.integers(1, 6), st.integers(0, 99)),
                min_size=1, max_size=6))
def test_random_bookings_land_as_quoted_and_pass_the_validator(requests):
    """Random requests booked one after another into a small day: each as quoted; every roster passes."""
    plan = day_plan(providers=[provider("care-1", **{"break": {"after_min": 360, "duration_min": 20}}),
                               provider("hair-1", "hairdressing")])
    now = published(plan, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00"), ("v4", "13:00")]})
    for cid, minutes, n, hour, hours, pick in requests:
        req = request_from_dict({"client_id": cid, "kind": "care", "duration_min": minutes, "workers_required": n,
                                 "preferred_times": [{"start": f"{hour:02d}:00",
                                                      "end": f"{min(hour + hours, 23):02d}:00"}]}, dates=[TUESDAY])
        q = quote(req, [now])
        if not q.offers:
            assert q.reason
            continue
        offer = q.offers[pick % len(q.offers)]
        now = assert_booked_as_quoted(now, offer, book(req, offer, [now]))


def test_a_journey_after_a_rest_break_follows_it_whole():
    """After a break the leg starts when the break ends (as decode places breaks); no offer starts sooner.

    Before the engine knew it, a visit could start as if travel went on before the break, and
    booking it broke the order rule.
    """
    from scheduler.roster import Break

    plan = day_plan(providers=[provider("care-1", **{"break": {"after_min": 360, "duration_min": 20}})],
                    workers=[worker("w1")], clients=PLAIN_CLIENTS)
    route = make_route("w1", (), breaks=[Break(parse_hhmm("11:35"), parse_hhmm("11:55"))])
    for n, (vid, hhmm) in enumerate([("v1", "09:00"), ("v2", "10:00"), ("v3", "11:00")]):
        route = insert_stop(plan, route, plan.visit(vid), n, parse_hhmm(hhmm), TRAVEL, None)
    left = [Unassigned("v4", "nobody free", "busy")]
    roster = Roster(plan.date, (route,), tuple(left), compute_kpis(plan, (route,), left))
    assert check_roster(plan, roster, travel=TRAVEL) == []
    day = Published(plan, roster, TRAVEL)
    req = request_from_dict({"client": {"location": {"lat": 51.5200, "lon": -0.1500}}, "kind": "care",
                             "duration_min": 30, "preferred_times": [{"start": "11:30", "end": "13:00"}]},
                            dates=[TUESDAY])
    q = quote(req, [day])
    assert q.offers
    leg = TRAVEL.leg(plan.worker("w1"), plan.client("c3").location, Location(51.5200, -0.1500))[0]
    assert min(o.slots[0].start for o in q.offers) >= parse_hhmm("11:55") + leg
    for offer in q.offers:
        assert_booked_as_quoted(day, offer, book(req, offer, [day]))


def test_a_client_booked_on_one_date_can_ask_for_another():
    """A new resident booked on one Tuesday asks by id for the next: the client comes from the plan that knows them."""
    plan = day_plan()
    tue1 = published(plan, {"w1": [("v1", "09:00")]})
    tue2 = published(dataclasses.replace(plan, date=TUESDAY + dt.timedelta(days=7)), {"w1": [("v1", "09:00")]})
    req = request_from_dict({"client": {"location": {"lat": 51.5200, "lon": -0.1500}}, "kind": "care",
                             "duration_min": 30}, dates=[TUESDAY])
    booked = book(req, quote(req, [tue1]).offers[0], [tue1])
    again = request_from_dict({"client_id": booked.client_id, "kind": "care", "duration_min": 30},
                              dates=[TUESDAY, tue2.date])
    q = quote(again, [booked.days[0], tue2])
    assert {o.date for o in q.offers} == {TUESDAY, tue2.date}
    offer = next(o for o in q.offers if o.date == tue2.date)
    assert_booked_as_quoted(tue2, offer, book(again, offer, [booked.days[0], tue2]))
    with pytest.raises(PlanError, match="client_id 'nobody'"):
        quote(dataclasses.replace(again, client_id="nobody"), [tue2])


def test_new_clients_one_after_another_on_road_travel(london_network):
    """On road travel: a new client books, the next asks on the day that now holds them, both land as quoted.

    The first quote lends the published day's worker days a home they do not know, and gives them back
    unchanged: a second quote of the day for an existing client is the same after as before.
    """
    from solver import travel_for

    plan = day_plan()
    travel = travel_for(plan, london_network)
    day = published(plan, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00")]}, travel)
    known = ask(client_id="c2")
    before = quote(known, [day])
    first = request_from_dict({"client": {"location": {"lat": 51.5250, "lon": -0.1285}}, "kind": "care",
                               "duration_min": 30}, dates=[TUESDAY])
    q1 = quote(first, [day], network=london_network)
    assert quote(known, [day]) == before
    booked = book(first, q1.offers[0], [day], network=london_network)
    day2 = assert_booked_as_quoted(day, q1.offers[0], booked)
    second = request_from_dict({"client": {"location": {"lat": 51.5205, "lon": -0.1480}}, "kind": "care",
                                "duration_min": 45}, dates=[TUESDAY])
    q2 = quote(second, [day2], network=london_network)
    assert q2.offers
    for offer in q2.offers[:5]:
        assert_booked_as_quoted(day2, offer, book(second, offer, [day2], network=london_network))
    again = ask(client_id=booked.client_id)
    for offer in quote(again, [day2]).offers[:5]:
        assert_booked_as_quoted(day2, offer, book(again, offer, [day2]))


def test_a_new_client_at_a_booked_new_clients_home_is_quoted_and_booked(london_network):
    """A second new client living where a first one (booked, so their home came with the booking) lives.

    The day's travel knows the home already: the quote must not lend it a second time (it did, and
    crashed reading the grown travel rows), and the offers land as quoted.
    """
    from solver import travel_for

    plan = day_plan()
    travel = travel_for(plan, london_network)
    day = published(plan, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00")]}, travel)
    home = {"lat": 51.5250, "lon": -0.1285}
    first = request_from_dict({"client": {"location": home}, "kind": "care", "duration_min": 30}, dates=[TUESDAY])
    booked = book(first, quote(first, [day], network=london_network).offers[0], [day], network=london_network)
    day2 = booked.days[0]
    second = request_from_dict({"client": {"location": home, "name": "Neighbour"}, "kind": "care",
                                "duration_min": 45}, dates=[TUESDAY])
    q = quote(second, [day2], network=london_network)
    assert q.offers and quote(second, [day2], network=london_network) == q
    for offer in q.offers[:3]:
        assert_booked_as_quoted(day2, offer, book(second, offer, [day2], network=london_network))


def test_new_clients_quoted_at_once_from_threads(london_network):
    """Quotes for new clients from several threads at once answer as one at a time.

    The days share one road travel; afterwards the travel the worker days read is as it was: the homes
    they lent are gone, nothing grew.
    """
    from concurrent.futures import ThreadPoolExecutor

    from solver import travel_for
    from solver.offers import _ROWS, warm

    plan = day_plan()
    travel = travel_for(plan, london_network)
    tue = published(plan, {"w1": [("v1", "09:00"), ("v3", "11:00")], "w2": [("v2", "10:00")]}, travel)
    wed = dataclasses.replace(tue, plan=dataclasses.replace(plan, date=TUESDAY + dt.timedelta(days=1)),
                              roster=dataclasses.replace(tue.roster, date=TUESDAY + dt.timedelta(days=1)))
    days = [tue, wed]
    warm(days)
    homes = [(51.5250, -0.1285), (51.5205, -0.1480), (51.5230, -0.1350), (51.5190, -0.1400)]
    asks = [request_from_dict({"client": {"location": {"lat": lat, "lon": lon}}, "kind": "care",
                               "duration_min": 30 + 15 * (i % 2)}, dates=[d.date for d in days])
            for i, (lat, lon) in enumerate(homes)] * 3
    alone = [quote(r, days, network=london_network) for r in asks]
    assert all(q.offers for q in alone)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns within a quote, as under load
    try:
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(lambda r: quote(r, days, network=london_network), asks))
    finally:
        sys.setswitchinterval(switch)
    assert together == alone
    shared = _ROWS[id(travel)]
    n = len(travel.locations)
    assert len(shared.index) == n
    for rows in shared.modes.values():
        assert len(rows) == n and {len(r) for r in rows} == {n}
    for offer in alone[0].offers[:3]:
        assert_booked_as_quoted(next(d for d in days if d.date == offer.date), offer,
                                book(asks[0], offer, days, network=london_network))
