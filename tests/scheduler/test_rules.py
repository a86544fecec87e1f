"""scheduler.rules: each rule on its own, the validator as the list of rules, and one set of reason codes."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import scheduler.rules
from scheduler.eligibility import eligibility
from scheduler.model import Plan
from scheduler.roster import Break, LockedStop, Roster, Stop, Unassigned, make_route
from scheduler.rules import CODES, ROSTER_RULES, SOFT_RULES, UNASSIGNED_CODES, WORKER_RULES, Rule, RosterView, WorkerRule, refusals
from scheduler.rules.base import Violation
from scheduler.timeutil import parse_hhmm
from scheduler.validate import check_roster, free_slot
from tests.helpers import FixedTravel, client, make_plan, make_roster, provider, stop, visit, worker

ROOT = Path(__file__).resolve().parents[2]
LEG_S, LEG_M = 300, 1500


def _leg(visit_id: str, start: str, duration_min: int = 30, **kw: Any) -> Stop:
    """A stop reached by one FixedTravel leg."""
    return stop(visit_id, start, duration_min, travel_s=kw.pop("travel_s", LEG_S), travel_m=LEG_M, **kw)


def _rule(code: str) -> Rule:
    return next(rule for rule in ROSTER_RULES if rule.code == code)


@dataclass
class Case:
    """A plan and a roster that break exactly one rule, and the options of the check."""

    plan: Plan
    roster: Roster
    options: dict[str, Any] = field(default_factory=dict)


def _one(plan: Plan, stops: list[Stop] | None = None, unassigned: tuple = (), **options: Any) -> Case:
    """Worker w1 serving ``stops`` (by default v1 just in time at 08:05)."""
    stops = [_leg("v1", "08:05")] if stops is None else stops
    return Case(plan, make_roster(plan, {"w1": stops}, unassigned), options)


def _two_clients() -> list[dict[str, Any]]:
    return [client("c1", location="fitzroy_sq"), client("c2", location="gordon_sq")]


def _case_date() -> Case:
    plan = make_plan()
    return Case(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")]}, date=dt.date(2027, 1, 1)))


def _case_reference() -> Case:
    plan = make_plan()
    return Case(plan, make_roster(plan, {"w1": [_leg("v1", "08:05")], "ghost": []}))


def _case_availability() -> Case:
    plan = make_plan(workers=[worker(availability=[{"start": "08:00", "end": "08:30"},
                                                   {"start": "09:00", "end": "16:00"}])])
    return _one(plan, [_leg("v1", "08:10")])


def _case_capacity() -> Case:
    return _one(make_plan(workers=[worker(capacity=5)], visits=[visit(demand=6)]))


def _case_max_visits() -> Case:
    plan = make_plan(workers=[worker(max_visits=1)], clients=_two_clients(),
                     visits=[visit("v1", "c1"), visit("v2", "c2")])
    return _one(plan, [_leg("v1", "08:05"), _leg("v2", "09:00")])


def _case_break() -> Case:
    plan = make_plan(providers=[provider(**{"break": {"after_min": 60, "duration_min": 20}})],
                     clients=_two_clients(), visits=[visit("v1", "c1"), visit("v2", "c2")])
    return _one(plan, [_leg("v1", "08:05"), _leg("v2", "09:30")])


def _case_double_handed() -> Case:
    plan = make_plan(workers=[worker("w1"), worker("w2", start_location="goodge_st")],
                     visits=[visit("v1", workers_required=2)])
    return Case(plan, make_roster(plan, {"w1": [_leg("v1", "08:10", arrival="08:05")],
                                         "w2": [_leg("v1", "08:11", arrival="08:06")]}))


def _case_linked() -> Case:
    plan = make_plan(visits=[visit("v1"), visit("v2", window=("08:00", "12:00"),
                                                  after={"visit_id": "v1", "min_gap_min": 60})])
    return _one(plan, [_leg("v1", "08:05"), stop("v2", "09:00")])


def _case_pinned() -> Case:
    return _one(make_plan(workers=[worker("w1"), worker("w2")], visits=[visit(pinned_worker_id="w2")]))


def _case_double_handed_limit() -> Case:
    plan = make_plan(providers=[provider(max_double_handed=1)],
                     workers=[worker("w1"), worker("w2", start_location="goodge_st")], clients=_two_clients(),
                     visits=[visit("v1", "c1", workers_required=2), visit("v2", "c2", workers_required=2)])
    return Case(plan, make_roster(plan, {"w1": [_leg("v1", "08:05"), _leg("v2", "09:00")],
                                         "w2": [_leg("v1", "08:05"), _leg("v2", "09:00")]}))


def _case_equipment() -> Case:
    plan = make_plan(clients=[client(equipment=[{"item": "hoist", "installed_from": "09:00"}])],
                     visits=[visit(needs_equipment=["hoist"])])
    return _one(plan)


#: For each rule code: a plan and roster breaking that rule and no other.
CASES: dict[str, Callable[[], Case]] = {
    "date": _case_date,
    "reference": _case_reference,
    "window": lambda: _one(make_plan(), [_leg("v1", "10:01", arrival="08:05")]),
    "duration": lambda: _one(make_plan(), [_leg("v1", "08:05", 25)]),
    "shift": lambda: _one(make_plan(workers=[worker(shift=("08:00", "09:00"))]), [_leg("v1", "08:45")]),
    "availability": _case_availability,
    "order": lambda: _one(make_plan(), [_leg("v1", "08:10", arrival="08:02")]),
    "travel": lambda: _one(make_plan(), [_leg("v1", "08:10", travel_s=200)]),
    "no_provider": lambda: _one(make_plan(providers=[provider("care-1"), provider("care-2")],
                                          workers=[worker("w1", "care-1"), worker("w2", "care-2")],
                                          visits=[visit(provider_id="care-2")])),
    "skill": lambda: _one(make_plan(visits=[visit(required_skills=["hoist"])])),
    "excluded": lambda: _one(make_plan(workers=[worker("w1"), worker("w2")],
                                       clients=[client(excluded_worker_ids=["w1"])])),
    "gender": lambda: _one(make_plan(clients=[client(gender_preference="m")])),
    "capacity": _case_capacity,
    "max_visits": _case_max_visits,
    "working_time": lambda: _one(make_plan(workers=[worker(max_working_min=20)])),
    "break": _case_break,
    "reason": lambda: _one(make_plan(), [], [("v1", " ")]),
    "coverage": lambda: _one(make_plan(), []),
    "double_handed": _case_double_handed,
    "double_handed_limit": _case_double_handed_limit,
    "linked": _case_linked,
    "equipment": _case_equipment,
    "past": lambda: _one(make_plan(), locked_before=parse_hhmm("09:00")),
    "locked": lambda: _one(make_plan(), locked=[LockedStop("v1", "w1", parse_hhmm("08:06"))]),
    "off": lambda: _one(make_plan(workers=[worker(off_from="08:00")])),
    "pinned": _case_pinned,
    "mandatory": lambda: _one(make_plan(visits=[visit(priority="mandatory")]), [], [("v1", "nobody free")]),
    # 30 min of contact at £10 an hour, below £12.71, and the plan makes the minimum wage hard.
    "minimum_wage": lambda: _one(make_plan(providers=[provider(pay={"model": "hourly", "hourly_rate": 10.0,
                                                                    "paid_time": "contact"})],
                                           minimum_wage={"mode": "hard"})),
}


def test_the_valid_roster_the_cases_start_from_breaks_no_rule() -> None:
    """Worker w1 serving v1 just in time at 08:05 is valid: each case below breaks it in one way."""
    case = _one(make_plan())

    assert check_roster(case.plan, case.roster, travel=FixedTravel(LEG_S, LEG_M)) == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_roster_breaking_one_rule_gives_only_that_rules_violations(code: str) -> None:
    """The validator reports the rule broken, and nothing else; the rule alone reports the same."""
    case = CASES[code]()
    travel = FixedTravel(LEG_S, LEG_M)

    violations = check_roster(case.plan, case.roster, travel=travel, **case.options)

    assert violations, f"the {code} case broke no rule"
    assert {v.rule for v in violations} == {code}, [str(v) for v in violations]
    view = RosterView(case.plan, case.roster, travel=travel, locked=tuple(case.options.get("locked", ())),
                      locked_before=case.options.get("locked_before"), free_slot=free_slot)
    assert list(_rule(code).check(view)) == violations


def test_every_rule_has_a_case() -> None:
    """No rule of the validator goes untested on its own here."""
    assert {rule.code for rule in ROSTER_RULES} == set(CASES)


#: For each worker rule: a plan whose one visit its one worker w1 may not serve under that rule only.
REFUSED: dict[str, Callable[[], Plan]] = {
    "no_provider": lambda: make_plan(providers=[provider("care-1"), provider("shop", "delivery")],
                                     visits=[visit(kind="delivery")]),
    "skill": lambda: make_plan(visits=[visit(required_skills=["hoist", "peg"])]),
    "excluded": lambda: make_plan(clients=[client(excluded_worker_ids=["w1"])]),
    "gender": lambda: make_plan(clients=[client(gender_preference="m")]),
    "capacity": lambda: make_plan(workers=[worker(capacity=5)], visits=[visit(demand=6)]),
    "working_time": lambda: make_plan(workers=[worker(max_working_min=20)]),
    "shift": lambda: make_plan(workers=[worker(shift=("12:00", "16:00"))]),
    "double_handed_limit": lambda: make_plan(workers=[worker("w1", max_double_handed=0), worker("w2")],
                                             visits=[visit(workers_required=2)]),
    "equipment": lambda: make_plan(visits=[visit(needs_equipment=["hoist"])]),
}


@pytest.mark.parametrize("code", sorted(REFUSED))
def test_a_worker_rule_refuses_the_worker_and_eligibility_reports_it(code: str) -> None:
    """The rule refuses w1, no other rule does, and eligibility gives the rule's code."""
    plan = REFUSED[code]()
    w1, v1 = plan.worker("w1"), plan.visits[0]
    rule = next(r for r in WORKER_RULES if r.code == code)

    refusal = rule.refuse(plan, w1, v1)

    assert refusal is not None and refusal.code == code and "'w1'" in refusal.message
    assert refusals(plan, w1, v1) == [refusal]
    assert eligibility(plan, v1).code == code
    assert rule.refuse(make_plan(), make_plan().worker("w1"), make_plan().visits[0]) is None


def test_every_worker_rule_has_a_refusal_case() -> None:
    """No worker rule goes untested on its own here."""
    assert {rule.code for rule in WORKER_RULES} == set(REFUSED)


def test_working_time_refuses_a_worker_with_no_visits_left() -> None:
    """``max_visits`` 0 leaves no working time: code ``working_time``, as the README's table says."""
    plan = make_plan(workers=[worker(max_visits=0)])

    assert [(r.code, r.message) for r in refusals(plan, plan.worker("w1"), plan.visits[0])] == [
        ("working_time", "worker 'w1' has max_visits 0")]


def test_refusals_lists_every_rule_that_refuses_in_order() -> None:
    """A worker breaking three rules gets three refusals, in the order of the worker rules."""
    plan = make_plan(workers=[worker(shift=("12:00", "16:00"), gender="f")],
                     clients=[client(gender_preference="m")], visits=[visit(required_skills=["hoist"])])

    got = refusals(plan, plan.worker("w1"), plan.visits[0])

    assert [r.code for r in got] == ["skill", "gender", "shift"]


# --------------------------------------------------------------------------- the list of rules


def _rule_modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(scheduler.rules.__path__) if m.name not in ("base", "view")]


def _rule_classes(module_name: str) -> list[type]:
    module = importlib.import_module(f"scheduler.rules.{module_name}")
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if obj.__module__ == module.__name__ and hasattr(obj, "code") and hasattr(obj, "check")]


@pytest.mark.parametrize("module_name", _rule_modules())
def test_every_rule_of_every_module_is_in_the_validator(module_name: str) -> None:
    """A rule module holds rules, and each is in ROSTER_RULES; a worker rule also in WORKER_RULES."""
    classes = _rule_classes(module_name)

    assert classes, f"scheduler/rules/{module_name}.py defines no rule"
    for cls in classes:
        soft = any(type(rule) is cls for rule in SOFT_RULES)
        assert soft or any(type(rule) is cls for rule in ROSTER_RULES), f"{cls.__name__} is not in ROSTER_RULES"
        assert isinstance(cls(), Rule)
        if hasattr(cls, "refuse"):
            assert isinstance(cls(), WorkerRule)
            assert any(type(rule) is cls for rule in WORKER_RULES), f"{cls.__name__} is not in WORKER_RULES"


def test_the_rule_module_scan_sees_the_modules() -> None:
    """The scan above finds the rule modules (and would find a new one)."""
    assert {"coverage", "locks", "provider", "shifts", "working_time"} <= set(_rule_modules())
    assert {cls.__name__ for cls in _rule_classes("locks")} == {"LockedRule", "PastRule", "OffRule", "PinnedRule"}


def test_worker_rules_are_roster_rules_too() -> None:
    """A worker rule also checks finished rosters, in the validator's list, once."""
    assert all(rule in ROSTER_RULES for rule in WORKER_RULES)
    assert len({id(rule) for rule in ROSTER_RULES}) == len(ROSTER_RULES)


# --------------------------------------------------------------------------- one set of codes


def test_rule_codes_are_distinct_and_documented() -> None:
    """Each rule has its own code, and every code is in the one documented set."""
    codes = [rule.code for rule in ROSTER_RULES]

    assert len(codes) == len(set(codes))
    assert set(codes) <= set(CODES)
    assert set(UNASSIGNED_CODES) <= set(CODES)
    assert set(CODES) == set(codes) | set(UNASSIGNED_CODES)


def test_a_worker_rules_code_is_a_public_unassigned_code() -> None:
    """What a worker rule says about a roster and about an unassigned visit is one code."""
    assert {rule.code for rule in WORKER_RULES} <= set(UNASSIGNED_CODES)


def test_the_readme_lists_the_unassigned_codes() -> None:
    """The README's roster table lists exactly the unassigned codes, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| unassigned | `code` |"))

    assert tuple(re.findall(r"`([a-z_]+)`", row.split("|")[3])) == UNASSIGNED_CODES


def test_the_violation_docstring_lists_every_rule_code() -> None:
    """``Violation``'s docstring names every code a rule can give, and no other."""
    doc = Violation.__doc__ or ""
    listed = doc.split("one of :data:`scheduler.rules.CODES`:")[1].split(".")[0]

    assert set(re.findall(r"``([a-z_]+)``", listed)) == {rule.code for rule in ROSTER_RULES}


def test_a_broken_roster_gives_only_documented_codes() -> None:
    """A roster breaking many rules at once still reports only codes of the set."""
    plan = make_plan(workers=[worker(capacity=1, max_visits=0, gender="m")],
                     clients=[client(gender_preference="f", excluded_worker_ids=["w1"])],
                     visits=[visit(required_skills=["hoist"], demand=2, priority="mandatory")])
    roster = Roster(date=dt.date(2027, 1, 1), routes=(make_route("w1", [_leg("v1", "07:00", 10, arrival="07:30")],
                                                                 breaks=[Break(25200, 25800)]),),
                    unassigned=(Unassigned("v1", ""), Unassigned("ghost", "x")), kpis=None)

    violations = check_roster(plan, roster, travel=FixedTravel(1, 1))

    assert len({v.rule for v in violations}) >= 8
    assert {v.rule for v in violations} <= set(CODES)
