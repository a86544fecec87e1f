"""Equipment first: a visit that needs a hoist starts once the hoist is in place (scheduler.rules.equipment)."""

from __future__ import annotations

import pytest

from scheduler.day import WorkerDay
from scheduler.eligibility import eligibility
from scheduler.errors import PlanError
from scheduler.io import plan_from_dict, plan_to_dict
from scheduler.rules.equipment import available_from, missing
from scheduler.validate import check_roster, free_slot
from solver import SolveParams
from tests.helpers import FixedTravel, client, make_plan, make_roster, plan_dict, provider, solve_checked, stop, \
    visit, worker

FAST = SolveParams(time_limit_s=1)


def _plan(*, technician: bool = True, care_window: tuple[str, str] = ("08:00", "14:00"), **care: object) -> dict:
    """A carer and an equipment technician; client c1 gets a hoist installed (e1) and a hoist transfer (v1)."""
    workers = [worker("w1", "care-1", start_location="fitzroy_sq")]
    if technician:
        workers.append(worker("t1", "kit-1", start_location="goodge_st", skills=["hoist"]))
    return plan_dict(
        providers=[provider("care-1"), provider("kit-1", "equipment", name="County Equipment Service")],
        workers=workers,
        clients=[client("c1")],
        visits=[visit("e1", kind="equipment", window=("09:00", "12:00"), duration_min=60, installs="hoist",
                      required_skills=["hoist"]),
                visit("v1", window=care_window, duration_min=30, needs_equipment=["hoist"], **care)],
    )


def test_the_fields_read_and_write_back():
    """needs_equipment, installs and a client's equipment reach the records and are written back unchanged."""
    data = _plan()
    data["clients"][0]["equipment"] = [{"item": "key_safe"}, {"item": "alarm", "installed_from": "10:15"}]
    plan = plan_from_dict(data)

    c1, e1, v1 = plan.client("c1"), plan.visit("e1"), plan.visit("v1")
    assert [(e.item, e.installed_from) for e in c1.equipment] == [("key_safe", None), ("alarm", 10 * 3600 + 900)]
    assert e1.installs == "hoist" and v1.needs_equipment == frozenset({"hoist"})
    assert plan_from_dict(plan_to_dict(plan)) == plan


def test_only_an_equipment_visit_installs():
    """A care visit that claims to install an item is refused, naming the visit and field."""
    data = _plan()
    data["visits"][1]["installs"] = "hoist"
    with pytest.raises(PlanError, match="v1"):
        plan_from_dict(data)


def test_a_visit_waits_for_the_installation_to_end(london_network):
    """With the rule, the hoist transfer starts after the installation ends (the carer alone would go at 08:00)."""
    plan, roster, _ = solve_checked(_plan(), london_network, FAST)

    stops = {s.visit_id: s for r in roster.routes for s in r.stops}
    assert set(stops) == {"e1", "v1"} and not roster.unassigned
    assert stops["v1"].start >= stops["e1"].end


def test_a_visit_waits_for_equipment_installed_today(london_network):
    """A hoist in place from 09:30 (client equipment): the transfer, free from 08:00, starts at 09:30 or later."""
    data = plan_dict(clients=[client("c1", equipment=[{"item": "hoist", "installed_from": "09:30"}])],
                     visits=[visit("v1", window=("08:00", "12:00"), needs_equipment=["hoist"])])
    plan, roster, _ = solve_checked(data, london_network, FAST)

    (route,) = [r for r in roster.routes if r.stops]
    assert route.stops[0].start >= 9 * 3600 + 1800


def test_without_an_installer_the_visit_is_unassigned_for_equipment(london_network):
    """No technician: the installation is not served, so the hoist transfer is not either, with code equipment."""
    plan, roster, _ = solve_checked(_plan(technician=False), london_network, FAST)

    assert not [s for r in roster.routes for s in r.stops]
    reasons = {u.visit_id: u for u in roster.unassigned}
    assert reasons["v1"].code == "equipment" and "'e1'" in reasons["v1"].reason


def test_the_first_roster_leaves_out_a_visit_whose_installation_it_left_out(london_network):
    """The technician is off before the installation can start: the first roster does not place the transfer.

    (Placed, it would be a first roster OR-Tools rejects, falling back to its own heuristic.)
    """
    from solver import travel_for
    from solver.construct import construct_routes
    from solver.model import build_model

    data = _plan()
    data["workers"][1]["shift"] = {"start": "06:00", "end": "08:30"}
    plan = plan_from_dict(data)
    model = build_model(plan, travel_for(plan, london_network), FAST)

    routes = construct_routes(model, model.node_allowed)

    assert not [x for r in routes for x in r]


def test_a_window_that_closes_before_any_installation_is_refused():
    """A transfer whose window ends before the installation can end gets no worker, code equipment."""
    plan = plan_from_dict(_plan(care_window=("08:00", "09:30")))

    assert missing(plan, plan.visit("v1")) == ["hoist"]
    elig = eligibility(plan, plan.visit("v1"))
    assert elig.code == "equipment" and not elig.worker_ids and "book the installation" in elig.reason


def test_equipment_installed_earlier_needs_no_installation():
    """A hoist installed on an earlier day is in place all day; one installed at 10:00 from then."""
    earlier = make_plan(clients=[client(equipment=[{"item": "hoist"}])], visits=[visit(needs_equipment=["hoist"])])
    today = make_plan(clients=[client(equipment=[{"item": "hoist", "installed_from": "10:00"}])],
                      visits=[visit(needs_equipment=["hoist"], window=("08:00", "12:00"))])

    assert available_from(earlier, earlier.visits[0], {}) == 0
    assert available_from(today, today.visits[0], {}) == 10 * 3600


def test_the_validator_rejects_a_transfer_before_the_installation():
    """Serving the transfer at 08:05 and the installation at 09:00-10:00 breaks the rule (and only it)."""
    plan = plan_from_dict(_plan())
    roster = make_roster(plan, {"w1": [stop("v1", "08:05", 30)],
                                "t1": [stop("e1", "09:00", 60, travel_s=300, travel_m=1500)]})

    violations = check_roster(plan, roster, travel=FixedTravel(300, 1500))

    assert {v.rule for v in violations} == {"equipment"}
    assert "before the equipment it needs is in place at 10:00" in violations[0].message


def test_free_room_for_a_mandatory_transfer_waits_for_the_installation():
    """The validator's proof of room for a left-out visit starts no earlier than the installation's end."""
    plan = plan_from_dict(_plan(priority="mandatory"))
    served = make_roster(plan, {"t1": [stop("e1", "09:00", 60, travel_s=300, travel_m=1500)]}, [("v1", "x")])
    unserved = make_roster(plan, {}, [("v1", "x"), ("e1", "y")])

    assert "at 10:00" in free_slot(plan, served.routes, plan.visit("v1"), FixedTravel(300, 1500))
    assert free_slot(plan, unserved.routes, plan.visit("v1"), FixedTravel(300, 1500)) is None


# --------------------------------------------------------------------------- the worker-day engine

def _carer_day(plan):  # noqa: ANN001, ANN202
    """Return w1's empty day in the plan."""
    return WorkerDay(plan, plan.worker("w1"), None, FixedTravel(300, 1500))


def test_the_engine_starts_a_transfer_once_the_installation_has_ended():
    """Asked with the served installations' ends, the carer's day offers the transfer from 10:00, not 08:05."""
    plan = plan_from_dict(_plan())

    answer = _carer_day(plan).ask(plan.visit("v1"), ends={"e1": 10 * 3600})

    assert answer.refusal is None and answer.places
    assert min(p.earliest for p in answer.places) == 10 * 3600


def test_the_engine_refuses_a_transfer_when_nothing_installs_the_hoist():
    """No served installation and no hoist in place: refused with code equipment and the rule's sentence."""
    plan = plan_from_dict(_plan())

    answer = _carer_day(plan).ask(plan.visit("v1"), ends={})

    assert not answer.places and answer.refusal is not None
    assert answer.refusal.code == "equipment" and "'e1'" in answer.refusal.message
    assert "serve the installation first" in answer.refusal.message


def test_the_engine_refuses_for_equipment_when_the_day_is_full_after_the_installation():
    """Free before the 13:30 installation's end, busy after it: the refusal says equipment, not busy."""
    data = _plan(care_window=("08:00", "14:00"))
    data["visits"].append(visit("a", window=("13:00", "13:00"), duration_min=180))
    plan = plan_from_dict(data)
    day = WorkerDay(plan, plan.worker("w1"), make_roster(plan, {"w1": [stop("a", "13:00", 180, travel_s=300,
                                                                              travel_m=1500)]}).route("w1"),
                    FixedTravel(300, 1500))

    answer = day.ask(plan.visit("v1"), ends={"e1": 13 * 3600 + 1800})

    assert not answer.places and answer.refusal is not None and answer.refusal.code == "equipment"
    assert "from 13:30" in answer.refusal.message
    assert day.ask(plan.visit("v1"), ends={"e1": 9 * 3600}).places  # earlier, there is room
