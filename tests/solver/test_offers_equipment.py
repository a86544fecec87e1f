"""Equipment at the front door: a hoist transfer only once the hoist is in place; installations booked.

A transfer that needs a hoist is offered only from the installation's end, and an installation is
quoted and booked like any visit (solver/offers.py, scheduler/offers.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from scheduler.errors import PlanError
from scheduler.model import Plan
from scheduler.offers import request_from_dict
from scheduler.timeutil import parse_hhmm
from scheduler.validate import check_roster
from solver.offers import Published, book, cancel, quote
from tests.helpers import client, make_plan, provider, visit, worker
from tests.solver.test_offers import published

TUESDAY, WEDNESDAY = dt.date(2026, 11, 24), dt.date(2026, 11, 25)


def kit_plan(*, date: dt.date = TUESDAY, installation: bool = True, hoist_earlier: bool = False) -> Plan:
    """Return two hoist carers and a hoist technician's plan; c1's hoist goes in 10:00-11:00 (e1), c2 has none.

    Without ``installation`` there is no e1; with ``hoist_earlier`` c1's hoist was installed on an earlier day.
    """
    visits = [visit("v2", "c2", window=("09:00", "09:30"))]
    if installation:
        visits.append(visit("e1", "c1", kind="equipment", window=("10:00", "10:00"), duration_min=60,
                            installs="hoist", required_skills=["hoist"]))
    return make_plan(
        date=date.isoformat(),
        providers=[provider("care-1", pay={"model": "hourly", "hourly_rate": 12.0}),
                   provider("kit-1", "equipment", name="County Equipment Service")],
        workers=[worker("w1", skills=["hoist"]), worker("w2", start_location="russell_sq", skills=["hoist"]),
                 worker("t1", "kit-1", start_location="goodge_st", skills=["hoist"])],
        clients=[client("c1", location="fitzroy_sq", equipment=[{"item": "hoist"}] if hoist_earlier else []),
                 client("c2", location="goodge_st")],
        visits=visits,
    )


def kit_day(**kw) -> Published:
    """Return the kit plan as published: w1 serves v2 at 09:00, t1 installs c1's hoist at 10:00 (if in the plan)."""
    plan = kit_plan(**kw)
    placed = {"w1": [("v2", "09:00")]}
    if plan.has_visit("e1"):
        placed["t1"] = [("e1", "10:00")]
    return published(plan, placed)


def transfer(client_id: str = "c1", dates=(TUESDAY,), **fields):  # noqa: ANN001, ANN201
    """Return a request for a 30-minute double-handed hoist transfer."""
    return request_from_dict({"client_id": client_id, "kind": "care", "duration_min": 30, "workers_required": 2,
                              "required_skills": ["hoist"], "needs_equipment": ["hoist"], **fields}, dates=dates)


def starts(q) -> list[int]:  # noqa: ANN001
    """Return every slot's start, earliest first."""
    return sorted(s.start for o in q.offers for s in o.slots)


def assert_books(req, offer, days) -> list[Published]:  # noqa: ANN001
    """Book the offer; every booked (and later) roster passes the validator; return the booked days."""
    booking = book(req, offer, days)
    assert booking.ok, booking.fresh
    for d in (*booking.days, *booking.later):
        assert check_roster(d.plan, d.roster, travel=d.travel) == []
    return [*booking.days, *booking.later]


def test_the_request_reads_the_equipment_fields():
    """needs_equipment and installs reach the request; an installing care visit is refused naming the field."""
    req = transfer()
    assert req.needs_equipment == frozenset({"hoist"}) and req.installs is None
    kit = request_from_dict({"client_id": "c1", "kind": "equipment", "duration_min": 60, "installs": "hoist"})
    assert kit.installs == "hoist"
    with pytest.raises(PlanError, match="installs"):
        request_from_dict({"client_id": "c1", "kind": "care", "duration_min": 30, "installs": "hoist"})


def test_a_hoist_transfer_is_not_offered_before_the_installation_ends():
    """Installed 10:00-11:00 today: every transfer starts at 11:00 or later; without the need, earlier ones exist."""
    day = kit_day()
    q = quote(transfer(), [day])
    plain = quote(dataclasses.replace(transfer(), needs_equipment=frozenset()), [day])

    assert q.offers and starts(q)[0] >= parse_hhmm("11:00")
    assert starts(plain)[0] < parse_hhmm("11:00")
    assert_books(transfer(), q.offers[0], [day])


def test_a_hoist_installed_earlier_lets_the_transfer_come_any_time():
    """A hoist in place from an earlier day: transfers are offered from the morning."""
    day = kit_day(installation=False, hoist_earlier=True)
    q = quote(transfer(), [day])

    assert q.offers and starts(q)[0] < parse_hhmm("10:00")
    assert_books(transfer(), q.offers[0], [day])


def test_a_transfer_with_no_hoist_anywhere_is_refused_in_the_residents_words():
    """c2 has no hoist and no installation: no offer, code equipment, the resident told to book the installation."""
    q = quote(transfer("c2"), [kit_day()])

    assert q.offers == () and q.codes == {TUESDAY: "equipment"}
    assert q.reason == "a hoist has to be installed first: book the installation"


def test_a_transfer_is_refused_when_the_installation_is_not_served():
    """The installation is in the plan but the roster left it out: nothing puts the hoist in, code equipment."""
    plan = kit_plan()
    q = quote(transfer(), [published(plan, {"w1": [("v2", "09:00")]})])

    assert q.offers == () and q.codes == {TUESDAY: "equipment"}


def test_booking_an_installation_then_the_transfer_comes_after_it():
    """Book c2's hoist on Tuesday, then its transfer: on Tuesday after the installation's end, Wednesday any time.

    Only technicians are offered; the hoist is in c2's equipment from its end on Tuesday, all day on Wednesday.
    """
    tuesday, wednesday = kit_day(), kit_day(date=WEDNESDAY)
    kit = request_from_dict({"client_id": "c2", "kind": "equipment", "duration_min": 60, "installs": "hoist"},
                            dates=[TUESDAY])
    offers = quote(kit, [tuesday, wednesday]).offers
    assert offers and {w for o in offers for s in o.slots for w in s.worker_ids} == {"t1"}

    booked_tue, booked_wed = assert_books(kit, offers[0], [tuesday, wednesday])
    end = offers[0].slots[0].start + 3600
    assert booked_wed.date == WEDNESDAY and booked_wed.roster is wednesday.roster
    (hoist,) = booked_tue.plan.client("c2").equipment
    assert (hoist.item, hoist.installed_from) == ("hoist", end)
    assert [(e.item, e.installed_from) for e in booked_wed.plan.client("c2").equipment] == [("hoist", None)]

    after = quote(transfer("c2"), [booked_tue])
    assert after.offers and starts(after)[0] >= end
    assert_books(transfer("c2"), after.offers[0], [booked_tue])
    anytime = quote(transfer("c2", dates=(WEDNESDAY,)), [booked_wed])
    assert anytime.offers and starts(anytime)[0] < end
    assert_books(transfer("c2", dates=(WEDNESDAY,)), anytime.offers[0], [booked_wed])


def test_cancelling_a_booked_installation_takes_the_hoist_out_unless_a_transfer_needs_it():
    """Cancelled alone, the installation takes its hoist with it; with a transfer booked after it, it is refused."""
    tuesday = kit_day()
    kit = request_from_dict({"client_id": "c2", "kind": "equipment", "duration_min": 60, "installs": "hoist"},
                            dates=[TUESDAY])
    booking = book(kit, quote(kit, [tuesday]).offers[0], [tuesday])
    (installed,), (install_id,) = booking.days, booking.visit_ids

    gone = cancel(install_id, installed)
    assert gone.plan.client("c2").equipment == () and not gone.plan.has_visit(install_id)
    assert check_roster(gone.plan, gone.roster, travel=gone.travel) == []

    with_transfer = book(transfer("c2"), quote(transfer("c2"), [installed]).offers[0], [installed]).days[0]
    with pytest.raises(PlanError, match="needs the hoist this installation puts in place"):
        cancel(install_id, with_transfer)
