"""Session fixtures for the benchmarks: the bundled networks and plans.

Run with ``pytest benchmarks/`` (timings) or ``pytest benchmarks/ --benchmark-disable``
(one pass each, as a smoke test). Set ``HOMECARE_BENCH_PLAN`` to benchmark a
solve on another plan file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from scheduler.io import load_plan
from solver.network import RoadNetwork, load_network

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def cambridge() -> RoadNetwork:
    """The bundled Cambridge drive network, loaded once (no cache: a clean measurement)."""
    return load_network(FIXTURES / "networks" / "cambridge_drive.osm")


@pytest.fixture(scope="session")
def cambridge_locations(cambridge: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """1,000 seeded points near Cambridge roads: road nodes jittered by about 20 m."""
    rng = np.random.default_rng(0)
    nodes = rng.choice(cambridge.mode("drive").routable, size=1000, replace=False)
    return (cambridge.lat[nodes] + rng.normal(0, 2e-4, 1000),
            cambridge.lon[nodes] + rng.normal(0, 3e-4, 1000))


@pytest.fixture(scope="session")
def weekday_plan():
    """The bundled Cambridge weekday plan (about 300 visits), or ``$HOMECARE_BENCH_PLAN``."""
    return load_plan(os.environ.get("HOMECARE_BENCH_PLAN", FIXTURES / "plans" / "cambridge_weekday.json"))
