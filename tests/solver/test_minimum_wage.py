"""The minimum wage in the search (solver/constraints/minimum_wage.py).

The plan: two carers at one home, paid £15 an hour of contact only, and two 30-min
visits at one client, at 08:30 and at 09:45 sharp. One carer serving both waits 45
minutes between them, working time at the minimum wage (HMRC): 1 h 45 min owes
£22.24 at £12.71 and earns £15, £7.24 short. Two carers, one visit each, travel
twice as far and are each paid above the minimum.
"""

from __future__ import annotations

import pytest

from scheduler.io import plan_from_dict
from scheduler.pay import pay_report
from solver import SolveParams, travel_for
from solver.model import build_model
from tests.helpers import client, plan_dict, provider, solve_checked, visit, worker

FAST = SolveParams(time_limit_s=1)
CONTACT_15 = {"model": "hourly", "hourly_rate": 15.0, "paid_time": "contact"}


def _plan(mode: str | None, pay: dict | None = CONTACT_15, **setting) -> dict:
    extra = {} if mode is None else {"minimum_wage": {"mode": mode, **setting}}
    providers = [provider("care-1", **({} if pay is None else {"pay": pay}))]
    return plan_dict(providers=providers,
                     workers=[worker("w1", start_location="queen_sq"), worker("w2", start_location="queen_sq")],
                     clients=[client("c1", location="fitzroy_sq")],
                     visits=[visit("v1", window=("08:30", "08:30"), priority="mandatory"),
                             visit("v2", window=("09:45", "09:45"), priority="mandatory")], **extra)


def _served_by(roster) -> list[int]:
    return sorted(len(r.stops) for r in roster.routes if r.stops)


def test_without_the_rule_one_carer_serves_both_and_falls_below(london_network):
    plan, roster, _ = solve_checked(_plan("off"), london_network, FAST)
    assert _served_by(roster) == [2]
    (below,) = pay_report(plan, roster).below
    assert below.shortfall == pytest.approx(7.24)


@pytest.mark.parametrize("mode", [None, "penalty", "hard"])
def test_with_the_rule_nobody_falls_below(london_network, mode):
    """By default (penalty) and when hard, the search pays the second carer's travel instead."""
    plan, roster, _ = solve_checked(_plan(mode), london_network, FAST)
    assert _served_by(roster) == [1, 1]
    assert pay_report(plan, roster).below == ()
    assert not roster.unassigned


def test_price_mode_weighs_the_top_up_against_travel(london_network):
    """At £1,000 an hour of travel the £7.24 top-up is cheaper than a second carer's travel; at £1 it is not."""
    plan, roster, _ = solve_checked(_plan("price", travel_hour_value=1000), london_network, FAST)
    assert _served_by(roster) == [2] and len(pay_report(plan, roster).below) == 1
    plan, roster, _ = solve_checked(_plan("price", travel_hour_value=1), london_network, FAST)
    assert _served_by(roster) == [1, 1] and pay_report(plan, roster).below == ()


@pytest.mark.parametrize(("mode", "pay"), [("penalty", None), ("off", CONTACT_15),
                                           ("penalty", {"model": "hourly", "hourly_rate": 13.0, "paid_time": "span"})])
def test_no_dimension_when_nobody_could_fall_below(london_network, mode, pay):
    """No pay model, mode off, or span pay at or above the rate: the model is built as before the rule."""
    plan = plan_from_dict(_plan(mode, pay=pay))
    model = build_model(plan, travel_for(plan, london_network), FAST)
    assert "Wage" not in model.routing.GetAllDimensionNames()
    plan = plan_from_dict(_plan("penalty"))
    assert "Wage" in build_model(plan, travel_for(plan, london_network), FAST).routing.GetAllDimensionNames()
