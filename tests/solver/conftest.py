"""A hand-made ring road, small enough to know every edge, with one road per access rule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from solver.network import RoadNetwork, load_network
from tests.helpers import write_osm

RING_CENTRE = (51.5225, -0.1350)

#: The ring: eight junctions 1..8 on a circle of about 300 m round Fitzroy Square.
RING_NODES: dict[int, tuple[float, float]] = {
    k + 1: (RING_CENTRE[0] + 0.0027 * math.cos(2 * math.pi * k / 8),
            RING_CENTRE[1] + 0.0043 * math.sin(2 * math.pi * k / 8))
    for k in range(8)
}
#: Two junctions of a short street joined to nothing, just outside node 1.
ISLAND_NODES: dict[int, tuple[float, float]] = {
    9: (RING_NODES[1][0] + 0.0009, RING_NODES[1][1] - 0.0002),
    10: (RING_NODES[1][0] + 0.0009, RING_NODES[1][1] + 0.0012),
}

#: (way id, nodes, tags): the ring road, then one chord per rule.
RING_WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (101, [1, 2], {"highway": "tertiary", "maxspeed": "20 mph"}),
    (102, [2, 3], {"highway": "tertiary", "maxspeed": "signals"}),  # unusable: tertiary default
    (103, [3, 4], {"highway": "tertiary", "maxspeed": "40"}),       # km/h
    (104, [4, 5], {"highway": "tertiary"}),
    (105, [5, 6], {"highway": "residential"}),
    (106, [6, 7], {"highway": "unclassified"}),
    (107, [7, 8], {"highway": "living_street"}),
    (108, [8, 1], {"highway": "tertiary"}),
    (201, [1, 5], {"highway": "busway"}),
    (202, [2, 6], {"highway": "unclassified", "access": "no"}),
    (203, [3, 7], {"highway": "primary", "oneway": "yes"}),
    (204, [4, 8], {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no", "access": "no",
                   "motor_vehicle": "destination"}),
    (205, [2, 4], {"highway": "motorway", "oneway": "no"}),
    (206, [6, 8], {"highway": "residential", "motor_vehicle": "no"}),
    (301, [9, 10], {"highway": "residential"}),
]


@pytest.fixture(scope="session")
def ring_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made ring road as an OSM XML file."""
    return write_osm(tmp_path_factory.mktemp("ring") / "ring.osm", {**RING_NODES, **ISLAND_NODES}, RING_WAYS)


@pytest.fixture(scope="session")
def ring_network(ring_osm: Path) -> RoadNetwork:
    """The ring road loaded by :func:`solver.network.load_network` (no cache)."""
    return load_network(ring_osm)
