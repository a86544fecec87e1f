"""The minimum-wage rule (scheduler.rules.minimum_wage) and its plan setting (``minimum_wage``)."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import pytest

from scheduler import pay
from scheduler.errors import SchemaError
from scheduler.io import plan_from_dict, plan_to_dict
from scheduler.model import MinimumWage
from scheduler.pay import pay_report
from scheduler.rules import Rule
from scheduler.rules.minimum_wage import MinimumWageRule, objective_weight, wage_terms
from tests.helpers import client, make_roster, plan_dict, provider, stop, visit, worker

CONTACT_15 = {"model": "hourly", "hourly_rate": 15.0, "paid_time": "contact"}


def _plan(mode: str | None = None, **setting) -> dict:
    """One carer paid £15 an hour of contact, two 30-min visits 45 minutes apart at one client."""
    extra = {} if mode is None else {"minimum_wage": {"mode": mode, **setting}}
    return plan_dict(providers=[provider("care-1", pay=CONTACT_15)], workers=[worker("w1"), worker("w2")],
                     clients=[client("c1")],
                     visits=[visit("v1", window=("08:30", "08:30")), visit("v2", window=("09:45", "09:45"))],
                     **extra)


def _one_carer(plan):
    """w1 serves both visits: 60 min of contact, 45 min of waiting (working time), paid £15."""
    return make_roster(plan, {"w1": [stop("v1", "08:30", travel_s=120), stop("v2", "09:45", travel_s=0)]})


def test_the_setting_defaults_to_penalty_at_the_national_living_wage():
    plan = plan_from_dict(_plan())
    assert plan.minimum_wage == MinimumWage("penalty", 12.71, 20.0)
    assert "minimum_wage" not in plan_to_dict(plan)  # the default is not written out


def test_the_setting_is_read_and_written_back():
    plan = plan_from_dict(_plan("price", hourly_rate=10.0, travel_hour_value=30))
    assert plan.minimum_wage == MinimumWage("price", 10.0, 30.0)
    assert plan_from_dict(plan_to_dict(plan)) == plan


def test_bad_settings_name_the_plan_and_each_field():
    """Every problem of the setting is reported at once, by record ``plan`` and ``minimum_wage.<field>``."""
    data = _plan("sometimes", hourly_rate=-1, travel_hour_value="cheap", bonus=3)
    with pytest.raises(SchemaError) as caught:
        plan_from_dict(data)
    fields = {(p.record_kind, p.record_id, p.field) for p in caught.value.problems}
    assert fields == {("plan", None, "minimum_wage.mode"), ("plan", None, "minimum_wage.hourly_rate"),
                      ("plan", None, "minimum_wage.travel_hour_value"), ("plan", None, "minimum_wage.bonus")}
    data["minimum_wage"] = "hard"
    with pytest.raises(SchemaError, match="minimum_wage should be an object"):
        plan_from_dict(data)


def test_hard_mode_names_each_worker_below_the_minimum():
    plan = plan_from_dict(_plan("hard"))
    violations = list(MinimumWageRule().check(SimpleNamespace(plan=plan, roster=_one_carer(plan))))
    assert isinstance(MinimumWageRule(), Rule)
    assert [(v.rule, v.record_kind, v.record_id) for v in violations] == [("minimum_wage", "worker", "w1")]
    # 1 h 45 min of working time owes £22.24 at £12.71; £15 paid.
    assert "below the minimum wage of £12.71/h by £7.24" in violations[0].message


@pytest.mark.parametrize("mode", ["penalty", "price", "off"])
def test_other_modes_leave_the_shortfall_to_the_report(mode):
    plan = plan_from_dict(_plan(mode))
    roster = _one_carer(plan)
    assert list(MinimumWageRule().check(SimpleNamespace(plan=plan, roster=roster))) == []
    assert [w.worker_id for w in pay_report(plan, roster).below] == ["w1"]


def test_the_report_checks_against_the_plans_rate():
    """The pay report's default rate is the plan's: a rate of £8 leaves w1 above it."""
    plan = plan_from_dict(_plan("hard", hourly_rate=8.0))
    roster = _one_carer(plan)
    assert pay_report(plan, roster).minimum_wage == 8.0
    assert pay_report(plan, roster).below == ()
    assert list(MinimumWageRule().check(SimpleNamespace(plan=plan, roster=roster))) == []


def test_the_rule_counts_working_time_with_the_pay_reports_definition(monkeypatch):
    """The rule has no working time of its own: change the one definition and its verdict follows."""
    plan = plan_from_dict(_plan("hard"))
    roster = _one_carer(plan)
    real = pay.working_time

    def no_waiting(*args, **kwargs):
        time = real(*args, **kwargs)
        return pay.WorkingTime(time.contact_s, time.travel_s, 0, time.own_time_s + time.waiting_s, time.commute_s)

    monkeypatch.setattr(pay, "working_time", no_waiting)
    assert list(MinimumWageRule().check(SimpleNamespace(plan=plan, roster=roster))) == []


def test_price_mode_converts_pounds_to_seconds_of_travel():
    """£1 weighs 3600 / travel_hour_value seconds; the search counts in 1/60 pennies (6,000 to the pound)."""
    assert objective_weight(MinimumWage("price", travel_hour_value=20.0)) * 6000 == 180
    assert objective_weight(MinimumWage("price", travel_hour_value=20.0)) == Fraction(3, 100)
    assert objective_weight(MinimumWage("penalty")) * 6000 == 6000
    assert objective_weight(MinimumWage("off")) == 0


def test_wage_terms_follow_the_pay_model():
    """Contact-only pay leaves travel and waiting unpaid; span pay at or above the rate cannot fall below."""
    plan = plan_from_dict(_plan())
    terms = wage_terms(plan, plan.worker("w1"))
    assert (terms.minimum, terms.paid_contact, terms.paid_travel, terms.paid_waiting) == (1271, 1500, 0, 0)
    assert terms.at_risk
    data = _plan()
    data["providers"][0]["pay"] = {"model": "hourly", "hourly_rate": 13.0, "paid_time": "span"}
    assert not wage_terms(plan_from_dict(data), plan.worker("w1")).at_risk
    del data["providers"][0]["pay"]
    assert wage_terms(plan_from_dict(data), plan.worker("w1")) is None
