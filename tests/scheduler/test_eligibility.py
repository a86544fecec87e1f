"""Which workers may serve a visit, and the reasons given when too few can."""

from __future__ import annotations

import pytest

from scheduler.eligibility import describe_window, eligibility, is_eligible, serves_kind, shift_can_hold
from scheduler.model import Plan
from tests.helpers import client, make_plan, provider, visit, worker


def _eligibility(plan: Plan):
    return eligibility(plan, plan.visits[0])


def test_eligibility_lists_every_eligible_worker_in_plan_order() -> None:
    """Workers who pass every rule are listed; the visit is ``ok`` with no reason or code."""
    plan = make_plan(workers=[worker("w2"), worker("w1"), worker("w3", shift=("12:00", "16:00"))])

    result = _eligibility(plan)

    assert result.worker_ids == ("w2", "w1")
    assert result.ok
    assert (result.reason, result.code) == (None, None)


def test_eligibility_without_workers_of_the_kind_names_the_kind() -> None:
    """A delivery visit with no delivery workers gets code ``no_provider``."""
    plan = make_plan(providers=[provider("care-1"), provider("shop", "delivery")],
                     visits=[visit(kind="delivery")])

    result = _eligibility(plan)

    assert not result.ok
    assert result.code == "no_provider"
    assert result.reason == "no worker of a delivery provider is in the plan"


def test_eligibility_without_workers_of_the_provider_names_the_provider() -> None:
    """A visit tied to a provider with no workers names that provider."""
    plan = make_plan(providers=[provider("care-1"), provider("care-2")], visits=[visit(provider_id="care-2")])

    result = _eligibility(plan)

    assert result.code == "no_provider"
    assert result.reason == "no worker of provider 'care-2' is in the plan"


def test_eligibility_names_missing_skill() -> None:
    """When nobody has the skill, the reason names it and the code is ``skill``."""
    plan = make_plan(workers=[worker(skills=["medication"])], visits=[visit(required_skills=["hoist"])])

    result = _eligibility(plan)

    assert result.code == "skill"
    assert result.reason == "no worker of a care provider has skill 'hoist'"
    assert result.worker_ids == ()


def test_eligibility_names_every_required_skill() -> None:
    """Several required skills are all named, sorted."""
    plan = make_plan(visits=[visit(required_skills=["medication", "hoist"])])

    assert _eligibility(plan).reason == "no worker of a care provider has skills 'hoist', 'medication'"


def test_eligibility_names_client_and_excluded_workers() -> None:
    """When the client excludes every candidate, the reason names client and workers."""
    plan = make_plan(workers=[worker("w1"), worker("w2")], clients=[client("c7", excluded_worker_ids=["w2", "w1"])],
                     visits=[visit(client_id="c7")])

    result = _eligibility(plan)

    assert result.code == "excluded"
    assert "client 'c7' excludes w1, w2" in result.reason


def test_eligibility_names_gender_preference() -> None:
    """When nobody matches the client's gender preference, the reason names gender and client."""
    plan = make_plan(workers=[worker("w1", gender="f"), worker("w2", gender=None)],
                     clients=[client("c1", gender_preference="m")])

    result = _eligibility(plan)

    assert result.code == "gender"
    assert "prefers gender 'm'" in result.reason
    assert "client 'c1'" in result.reason


def test_eligibility_names_demand_and_largest_capacity() -> None:
    """A drop larger than every van names the demand and the largest capacity."""
    plan = make_plan(providers=[provider("shop", "delivery")],
                     workers=[worker("d1", "shop", capacity=5), worker("d2", "shop", capacity=8)],
                     visits=[visit(kind="delivery", demand=10)])

    result = _eligibility(plan)

    assert result.code == "capacity"
    assert result.reason == "demand 10 exceeds the capacity of every worker who could take it (largest 8)"


def test_eligibility_treats_no_capacity_as_unlimited() -> None:
    """A worker with ``capacity`` null can carry any demand."""
    plan = make_plan(providers=[provider("shop", "delivery")], workers=[worker("d1", "shop", capacity=None)],
                     visits=[visit(kind="delivery", demand=1000)])

    assert _eligibility(plan).worker_ids == ("d1",)


def test_eligibility_names_window_and_shifts() -> None:
    """A visit outside every shift names its window, its duration and the workers' shifts."""
    plan = make_plan(workers=[worker("w1", shift=("08:00", "16:00"))], visits=[visit(window=("18:00", "19:00"))])

    result = _eligibility(plan)

    assert result.code == "shift"
    assert result.reason == (
        "no worker who could serve it is on shift to start in 18:00-19:00 (30 min); their shifts: w1 08:00-16:00"
    )


def test_eligibility_shortens_long_lists_of_shifts() -> None:
    """Past four workers the reason says how many more there are."""
    plan = make_plan(workers=[worker(f"w{i}", shift=("12:00", "16:00")) for i in range(6)])

    assert _eligibility(plan).reason.endswith("w3 12:00-16:00 and 2 more")


def test_eligibility_checks_rules_in_order() -> None:
    """The first rule that leaves too few workers is the one reported."""
    plan = make_plan(workers=[worker(skills=[], shift=("12:00", "16:00"))],
                     clients=[client(gender_preference="m")], visits=[visit(required_skills=["hoist"])])

    assert _eligibility(plan).code == "skill"


def test_eligibility_double_handed_visit_needs_two_workers() -> None:
    """A double-up with one qualified worker fails and says who that one is."""
    plan = make_plan(workers=[worker("w1", skills=["hoist"]), worker("w2")],
                     visits=[visit(required_skills=["hoist"], workers_required=2)])

    result = _eligibility(plan)

    assert not result.ok
    assert result.code == "skill"
    assert result.worker_ids == ("w1",)
    assert result.reason == "double-handed visit needs 2 workers of a care provider with skill 'hoist'; only w1 is"


def test_eligibility_double_handed_visit_with_two_workers_is_ok() -> None:
    """Two eligible workers are enough for a double-up."""
    plan = make_plan(workers=[worker("w1"), worker("w2")], visits=[visit(workers_required=2)])

    assert _eligibility(plan).ok


@pytest.mark.parametrize(
    ("shift", "window", "duration_min", "fits"),
    [
        (("08:00", "16:00"), ("07:00", "09:00"), 30, True),   # start when the shift starts
        (("08:00", "16:00"), ("07:00", "07:59"), 30, False),  # window closes before the shift
        (("08:00", "16:00"), ("15:30", "17:00"), 30, True),   # ends exactly at the shift end
        (("08:00", "16:00"), ("15:31", "17:00"), 30, False),  # would end after the shift
        (("08:00", "08:30"), ("08:00", "08:00"), 30, True),   # a shift the visit fills exactly
        (("08:00", "16:00"), ("16:00", "18:00"), 1, False),   # starts as the shift ends
    ],
)
def test_shift_can_hold_needs_start_in_window_and_end_in_shift(
    shift: tuple[str, str], window: tuple[str, str], duration_min: int, fits: bool
) -> None:
    """The visit must start inside its window and end inside the shift."""
    plan = make_plan(workers=[worker(shift=shift)], visits=[visit(window=window, duration_min=duration_min)])

    assert shift_can_hold(plan.workers[0], plan.visits[0]) is fits


def test_serves_kind_uses_provider_when_given_else_kind() -> None:
    """A visit with a provider needs that provider; one without accepts any provider of its kind."""
    plan = make_plan(
        providers=[provider("care-1"), provider("care-2"), provider("shop", "delivery")],
        workers=[worker("w1", "care-1"), worker("w2", "care-2"), worker("d1", "shop")],
        visits=[visit("v1"), visit("v2", provider_id="care-2")],
    )
    w1, w2, d1 = plan.workers
    any_care, care_2 = plan.visits

    assert serves_kind(plan, w1, any_care) and serves_kind(plan, w2, any_care)
    assert not serves_kind(plan, d1, any_care)
    assert not serves_kind(plan, w1, care_2) and serves_kind(plan, w2, care_2)


def test_is_eligible_lists_every_broken_rule_with_its_code() -> None:
    """A worker breaking several rules gets one (code, message) per rule."""
    plan = make_plan(
        providers=[provider("care-1"), provider("shop", "delivery")],
        workers=[worker("w1", "care-1", gender="m", capacity=2), worker("d1", "shop")],
        clients=[client("c1", gender_preference="f", excluded_worker_ids=["w1"])],
        visits=[visit(kind="delivery", required_skills=["heavy"], demand=3)],
    )

    broken = is_eligible(plan, plan.worker("w1"), plan.visits[0])

    assert [code for code, _ in broken] == ["no_provider", "skill", "excluded", "gender", "capacity"]
    messages = dict(broken)
    assert messages["skill"] == "worker 'w1' lacks skill heavy"
    assert messages["capacity"] == "demand 3 exceeds worker 'w1''s capacity 2"
    assert is_eligible(plan, plan.worker("d1"), plan.visits[0]) == [("skill", "worker 'd1' lacks skill heavy")]


def test_describe_window_gives_window_and_duration() -> None:
    """Messages describe a visit's window as ``start HH:MM-HH:MM, N min``."""
    plan = make_plan(visits=[visit(window=("07:30", "08:30"), duration_min=45)])

    assert describe_window(plan.visits[0]) == "start 07:30-08:30, 45 min"


def test_pinned_worker_who_cannot_serve_gets_the_rule_that_refuses() -> None:
    """A pinned worker with max_visits 0 is refused for that, not for a shift that does hold the visit."""
    plan = make_plan(workers=[worker("w1", max_visits=0), worker("w2")], visits=[visit(pinned_worker_id="w1")])

    result = _eligibility(plan)

    assert (result.code, result.worker_ids) == ("pinned", ())
    assert result.reason == "pinned worker 'w1' cannot serve it: worker 'w1' has max_visits 0"
