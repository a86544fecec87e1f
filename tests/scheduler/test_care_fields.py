"""Plan fields for care rules: history, links, availability, limits, pay and break rules."""

from __future__ import annotations

import pytest

from scheduler.errors import PlanError
from scheduler.io import plan_from_dict, plan_to_dict
from scheduler.model import BreakRule, PayModel, TimeWindow, VisitLink
from scheduler.timeutil import parse_hhmm
from tests.helpers import client, plan_dict, provider, visit, worker


def _care_plan() -> dict:
    return plan_dict(
        providers=[provider("care-1", pay={"model": "per_visit", "per_visit_rate": 9.5},
                            **{"break": {"after_min": 300, "duration_min": 30,
                                         "window": {"start": "11:00", "end": "14:00"}}},
                            weekly_cap_min=2400),
                   provider("shop", "delivery")],
        workers=[worker("w1", shift=("07:00", "22:00"), availability=[{"start": "07:00", "end": "13:00"},
                                                                      {"start": "16:00", "end": "22:00"}],
                        max_working_min=480, max_visits=12, week_worked_min=2100),
                 worker("van", "shop", capacity=10)],
        clients=[client("c1")],
        visits=[visit("lunch", window=("12:00", "13:00")),
                visit("groceries", kind="delivery", demand=2, window=("10:00", "12:00"), duration_min=10,
                      before={"visit_id": "lunch", "min_gap_min": 0, "max_gap_min": 60}),
                visit("hair", window=("14:00", "15:00"), after={"visit_id": "lunch", "min_gap_min": 30})],
        history=[{"client_id": "c1", "worker_id": "w1", "visits": 12}],
    )


def test_care_fields_are_read_into_typed_records():
    """History, links, availability, limits, pay and break rules arrive typed."""
    plan = plan_from_dict(_care_plan())
    care = plan.provider("care-1")
    assert care.pay == PayModel(model="per_visit", per_visit_rate=9.5)
    assert care.break_rule == BreakRule(300, 30, TimeWindow(parse_hhmm("11:00"), parse_hhmm("14:00")))
    assert care.weekly_cap_min == 2400
    assert plan.provider("shop").break_rule == BreakRule(after_min=24 * 60)  # tests.helpers.NO_BREAKS
    w1 = plan.worker("w1")
    assert [str(a) for a in w1.availability] == ["07:00-13:00", "16:00-22:00"]
    assert (w1.max_working_min, w1.max_visits, w1.week_worked_min) == (480, 12, 2100)
    assert plan.visit("groceries").before == VisitLink("lunch", 0, 60)
    assert plan.visit("hair").links() == [("lunch", "hair", 30, None)]
    assert plan.familiar("c1", "w1") and not plan.familiar("c1", "van")


def test_care_fields_round_trip():
    """plan_to_dict writes the care fields back so they read to an equal plan."""
    plan = plan_from_dict(_care_plan())
    again = plan_from_dict(plan_to_dict(plan))
    assert again == plan
    assert again.history == plan.history


def test_default_break_window_is_the_middle_third_of_the_shift():
    """With no window, the break starts in the middle third of the shift."""
    window = BreakRule().window_for(TimeWindow(parse_hhmm("07:00"), parse_hhmm("22:00")))
    assert (window.start, window.end) == (parse_hhmm("12:00"), parse_hhmm("16:40"))


@pytest.mark.parametrize("change, field, text", [
    (lambda d: d["visits"][1]["before"].update(visit_id="nope"), "before.visit_id", "not a visit in the plan"),
    (lambda d: d["visits"][2]["after"].update(max_gap_min=10), "after.max_gap_min", "less than min_gap_min"),
    (lambda d: d["history"].append({"client_id": "c1", "worker_id": "w9", "visits": 1}), "worker_id",
     "not a worker in the plan"),
    (lambda d: d["workers"][0].update(availability=[{"start": "06:00", "end": "08:00"}]), "availability[0]",
     "outside shift"),
    (lambda d: d["providers"][0].update(pay={"model": "hourly"}), "pay.hourly_rate", "needs a non-negative"),
    (lambda d: d["workers"][0].update(max_visits=-1), "max_visits", "negative"),
])
def test_care_fields_errors_name_record_and_field(change, field, text):
    """Each malformed care field is reported with its record and field."""
    data = _care_plan()
    change(data)
    with pytest.raises(PlanError) as err:
        plan_from_dict(data)
    assert any(p.field == field and text in p.message for p in err.value.problems), err.value.problems


def test_links_must_stay_at_one_client():
    """A link to another client's visit is refused."""
    data = _care_plan()
    data["clients"].append(client("c2", location="queen_sq"))
    data["visits"].append(visit("other", "c2", after={"visit_id": "lunch"}))
    with pytest.raises(PlanError, match="linked visits must be at the same client"):
        plan_from_dict(data)
