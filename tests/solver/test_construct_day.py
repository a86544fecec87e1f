"""The first roster asks the worker-day engine, so it keeps every limit of a day the search keeps."""

from __future__ import annotations

from collections import Counter

from scheduler.io import plan_from_dict
from solver import SolveParams, travel_for
from solver.construct import construct_routes
from solver.improve import search_parameters
from solver.model import build_model
from tests.helpers import LONDON_NAMES, checked_roster, client, plan_dict, provider, visit, worker


def test_the_first_roster_keeps_max_double_handed(london_network):
    """Three carers who may make one double-handed visit each, three such visits: one visit fits.

    Before the engine knew the limit, the first roster gave two carers all three
    visits and OR-Tools rejected it (the search then started from its own heuristic).
    """
    plan = plan_from_dict(plan_dict(
        providers=[provider("care-1", max_double_handed=1)],
        workers=[worker(f"w{i}", start_location="fitzroy_sq") for i in range(1, 4)],
        clients=[client(f"c{i}", location=LONDON_NAMES[i + 2]) for i in range(3)],
        visits=[visit(f"v{i}", f"c{i}", window=("08:00", "12:00"), workers_required=2) for i in range(3)]))
    travel = travel_for(plan, london_network)
    model = build_model(plan, travel, SolveParams(time_limit_s=1))
    routes = construct_routes(model, model.node_allowed)

    per_worker = Counter({k: len(nodes) for k, nodes in enumerate(routes)})
    assert max(per_worker.values()) == 1
    assert sum(per_worker.values()) == 2  # one visit, two carers: a third carer alone cannot take another
    model.routing.CloseModelWithParameters(search_parameters(model.params))
    roster = checked_roster(plan, model, routes, travel)
    assert roster.kpis.assigned == 1
