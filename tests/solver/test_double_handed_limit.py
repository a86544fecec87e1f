"""At most N double-handed visits per carer per day (provider or worker ``max_double_handed``)."""

from __future__ import annotations

from collections import Counter

import pytest

from scheduler.errors import SchemaError
from scheduler.io import plan_from_dict, plan_to_dict
from scheduler.rules.double_handed_limit import limit
from scheduler.validate import check_roster
from solver import SolveParams
from tests.helpers import FixedTravel, LONDON_NAMES, client, make_roster, plan_dict, provider, solve_checked, stop, visit, worker

FAST = SolveParams(time_limit_s=1)


def _plan(*, provider_limit: int | None = None, worker_limits: dict[str, int] | None = None) -> dict:
    """Three carers at one office and three double-handed morning visits, each long enough for one pair at a time.

    Without a limit the cheapest roster sends the same two carers to all three
    visits (one trip round the block); with a limit of 1 every carer makes at most one.
    """
    extra = {} if provider_limit is None else {"max_double_handed": provider_limit}
    workers = [worker(f"w{i}", start_location="fitzroy_sq", **({"max_double_handed": worker_limits[f"w{i}"]}
                                                                if worker_limits and f"w{i}" in worker_limits else {}))
               for i in range(1, 4)]
    return plan_dict(
        providers=[provider("care-1", **extra)],
        workers=workers,
        clients=[client(f"c{i}", location=LONDON_NAMES[i + 2]) for i in range(3)],
        visits=[visit(f"v{i}", f"c{i}", window=("08:00", "12:00"), workers_required=2, priority="mandatory")
                for i in range(3)],
    )


def _double_handed_per_worker(roster) -> Counter:
    return Counter({r.worker_id: len(r.stops) for r in roster.routes if r.stops})


def _check(plan, roster) -> list:
    """The validator's violations of this rule (it is one of ``ROSTER_RULES``)."""
    return [v for v in check_roster(plan, roster, travel=FixedTravel(300, 1000)) if v.rule == "double_handed_limit"]


def test_without_a_limit_one_pair_takes_every_double_handed_visit(london_network):
    """The premise of the next test: left alone, the search gives some carer two or more hoists."""
    plan, roster, _ = solve_checked(_plan(), london_network, FAST)
    assert max(_double_handed_per_worker(roster).values()) >= 2


def test_provider_limit_caps_each_carer(london_network):
    """With the provider's max_double_handed 2, no carer makes more than two; all three visits are served."""
    plan, roster, _ = solve_checked(_plan(provider_limit=2), london_network, FAST)
    assert not roster.unassigned
    assert max(_double_handed_per_worker(roster).values()) <= 2
    assert not [v for v in check_roster(plan, roster) if v.rule == "double_handed_limit"]


def test_worker_limit_overrides_the_provider(london_network):
    """w1 makes none (max_double_handed 0), although their provider allows three."""
    plan, roster, _ = solve_checked(_plan(provider_limit=3, worker_limits={"w1": 0}), london_network, FAST)
    assert limit(plan, plan.worker("w1")) == 0 and limit(plan, plan.worker("w2")) == 3
    assert roster.route("w1").stops == ()
    assert not roster.unassigned


def test_the_rule_reports_a_day_over_the_limit():
    """A hand-made roster giving w1 two double-handed visits under a limit of 1 breaks the rule, naming w1."""
    plan = plan_from_dict(_plan(provider_limit=1))
    roster = make_roster(plan, {
        "w1": [stop("v0", "08:10", travel_s=300, travel_m=1000), stop("v1", "09:00", travel_s=300, travel_m=1000)],
        "w2": [stop("v0", "08:10", travel_s=300, travel_m=1000), stop("v2", "10:00", travel_s=300, travel_m=1000)],
        "w3": [stop("v1", "09:00", travel_s=300, travel_m=1000), stop("v2", "10:00", travel_s=300, travel_m=1000)],
    })
    found = _check(plan, roster)
    assert {(v.rule, v.record_id) for v in found} == {("double_handed_limit", "w1"), ("double_handed_limit", "w2"),
                                                      ("double_handed_limit", "w3")}
    assert "more than max_double_handed 1" in found[0].message


def test_a_negative_limit_names_record_and_field():
    data = _plan(provider_limit=-1)
    with pytest.raises(SchemaError) as err:
        plan_from_dict(data)
    assert any(p.record_kind == "provider" and p.field == "max_double_handed" for p in err.value.problems)


def test_zero_limits_survive_writing_the_plan_back():
    """max_double_handed 0 and max_visits 0 mean something, so writing a plan keeps them (they were dropped)."""
    data = _plan(provider_limit=0, worker_limits={"w2": 0})
    data["workers"][2]["max_visits"] = 0
    again = plan_from_dict(plan_to_dict(plan_from_dict(data)))
    assert again.provider("care-1").max_double_handed == 0
    assert again.worker("w2").max_double_handed == 0
    assert again.worker("w3").max_visits == 0
