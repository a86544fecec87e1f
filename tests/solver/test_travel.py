"""Travel for a plan: locations shared between records, snap checks per mode, snap report."""

from __future__ import annotations

import numpy as np
import pytest

from scheduler.errors import PlanError
from solver import travel_for
from tests.helpers import LONDON, client, make_plan, visit, worker

#: A point in Regent's Park, about 300 m from the nearest drivable road of the fixture.
PARK = (51.5282, -0.1545)


def test_plan_travel_snap_report_names_the_farthest_location(london_network):
    """The snap report gives the largest and mean snap distance and names the farthest record."""
    plan = make_plan(clients=[client("c1", location="fitzroy_sq"), client("far", location=PARK)],
                     visits=[visit("v1", "far")])
    travel = travel_for(plan, london_network)
    report = travel.snap_report()
    distances = travel.matrix("drive").snap.distance_m
    assert report["max_m"] == pytest.approx(distances.max(), abs=0.1)
    assert report["mean_m"] == pytest.approx(distances.mean(), abs=0.1)
    assert report["worst"] == "client 'far' location"
    assert report["max_m"] > 100


def test_plan_travel_shares_rows_between_records_at_one_place(london_network):
    """A worker living at a client's address shares that client's matrix row."""
    home = LONDON["fitzroy_sq"]
    plan = make_plan(workers=[worker("w1", start_location=home)], clients=[client("c1", location=home)])
    travel = travel_for(plan, london_network)
    assert len(travel.locations) == 1
    assert travel.leg(plan.worker("w1"), plan.worker("w1").start_location, plan.client("c1").location) == (0, 0)


def test_plan_travel_checks_a_shared_location_for_every_mode(london_network):
    """A home shared by a driver and a walker must be near the roads of both modes."""
    plan = make_plan(workers=[worker("driver", start_location=PARK), worker("walker", start_location=PARK,
                                                                            travel_mode="walk")])
    with pytest.raises(PlanError) as err:
        travel_for(plan, london_network, params=_tight())
    modes = {p.message.split(" road of ")[0].split()[-1] for p in err.value.problems}
    assert modes == {"drive", "walk"}
    assert np.all([p.record_kind == "worker" for p in err.value.problems])


def _tight():
    from solver import SolveParams

    return SolveParams(snap_limit_m=50)
