"""Fair workload: balancing evens out work across a provider's workers, at some travel."""

from __future__ import annotations

from scheduler.io import plan_from_dict
from scheduler.validate import check_roster
from solver import SolveParams, solve, travel_for
from tests.helpers import LONDON_NAMES, client, plan_dict, visit, worker


def _plan() -> dict:
    """Two carers from one street and six visits next to the first carer's home."""
    return plan_dict(
        workers=[worker("w1", start_location="fitzroy_sq"), worker("w2", start_location="queen_sq")],
        clients=[client(f"c{i}", location=LONDON_NAMES[i]) for i in range(6)],
        visits=[visit(f"v{i}", f"c{i}", window=("08:00", "15:00")) for i in range(6)],
    )


def test_balance_weight_evens_out_the_work(london_network):
    """Without balancing one carer may do most visits; with it each does about half."""
    plan = plan_from_dict(_plan())
    travel = travel_for(plan, london_network)
    runs = {}
    for weight in (0, 600):
        result = solve(plan, params=SolveParams(time_limit_s=1, balance_weight_s=weight), travel=travel)
        assert check_roster(plan, result.roster, travel=travel) == []
        runs[weight] = result.roster
    counts = sorted(len(r.stops) for r in runs[600].routes)
    assert counts == [3, 3]
    assert runs[600].kpis.workload_spread_min < runs[0].kpis.workload_spread_min
    assert runs[600].kpis.travel_s >= runs[0].kpis.travel_s


def test_workload_kpis_include_idle_workers():
    """An idle worker counts as zero work: the spread is the busy worker's load."""
    from scheduler.roster import compute_kpis, make_route
    from tests.helpers import stop

    plan = plan_from_dict(_plan())
    routes = [make_route("w1", [stop("v0", "08:00"), stop("v1", "09:00", travel_s=120)]), make_route("w2", [])]
    kpis = compute_kpis(plan, routes, [])
    assert kpis.workload_spread_min == 62.0
    assert kpis.workload_std_min == 31.0
