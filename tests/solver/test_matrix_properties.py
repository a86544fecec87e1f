"""Property tests of travel matrices on random points in central London."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.matrix import travel_matrices
from solver.network import RoadNetwork
from tests.strategies import london_points

_POINTS = st.lists(london_points(), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(_POINTS, st.sampled_from(["drive", "walk", "cycle"]))
def test_travel_matrices_have_zero_diagonal_and_obey_the_triangle_inequality(
    london_network: RoadNetwork, points: list[tuple[float, float]], mode: str
) -> None:
    """Any set of points: zero diagonal, no negative entries, no shortcut through a third point."""
    lat, lon = np.array(points).T

    m = travel_matrices(london_network, lat, lon, mode)

    n = len(points)
    assert m.time_s.shape == (n, n)
    assert (np.diag(m.time_s) == 0).all() and (np.diag(m.distance_m) == 0).all()
    assert (m.time_s >= 0).all() and (m.distance_m >= 0).all()
    same = m.snap.node[:, None] == m.snap.node[None, :]
    assert (m.time_s[same] == 0).all() and (m.distance_m[same] == 0).all()
    # Whole seconds are rounded, so a detour may look up to 1 s faster than the direct route.
    via = m.time_s[:, :, None] + m.time_s[None, :, :]
    assert (m.time_s[:, None, :] <= via + 1).all()
