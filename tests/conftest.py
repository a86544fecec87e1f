"""Session fixtures shared by every test package: road networks load once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.network import RoadNetwork, load_network
from tests.helpers import LONDON_OSM, osmnx_graph


@pytest.fixture(scope="session")
def network_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder for networks and matrices, private to this test run."""
    return tmp_path_factory.mktemp("homecare-cache")


@pytest.fixture(scope="session")
def london_network(network_cache_dir: Path) -> RoadNetwork:
    """The central-London drive network (Marylebone, Fitzrovia, Bloomsbury), loaded once."""
    return load_network(LONDON_OSM, cache_dir=network_cache_dir)


@pytest.fixture(scope="session")
def london_graph():
    """The central-London OSMnx graph, unsimplified, with OSMnx's own speeds and travel times.

    Read without ``solver.network``, so that tests can route on it with NetworkX as an
    independent check. Speeds use the UK defaults of :data:`solver.network.UK_SPEEDS_KPH`
    where a road has no ``maxspeed``.
    """
    return osmnx_graph(LONDON_OSM)
