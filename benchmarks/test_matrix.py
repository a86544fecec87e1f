"""Benchmarks of travel-matrix computation on the Cambridge network."""

from __future__ import annotations

import numpy as np

from solver.matrix import travel_matrices


def test_matrix_1000_locations_drive(benchmark, cambridge, cambridge_locations):
    """Time a 1,000 x 1,000 drive time and distance matrix (no cache)."""
    lat, lon = cambridge_locations
    cambridge.mode("drive")  # build the CSR graph outside the timing
    result = benchmark(travel_matrices, cambridge, lat, lon, "drive")
    assert result.time_s.shape == (1000, 1000)
    assert (np.diag(result.time_s) == 0).all()
    benchmark.extra_info["mean_leg_s"] = float(result.time_s.mean())


def test_matrix_1000_locations_walk(benchmark, cambridge, cambridge_locations):
    """Time a 1,000 x 1,000 walking matrix (one-way streets open both ways)."""
    lat, lon = cambridge_locations
    cambridge.mode("walk")
    result = benchmark(travel_matrices, cambridge, lat, lon, "walk")
    assert result.time_s.shape == (1000, 1000)


def test_network_load_cambridge(benchmark, tmp_path):
    """Time loading and processing the Cambridge OSM XML with OSMnx (no cache)."""
    from pathlib import Path

    from solver.network import load_network

    osm = Path(__file__).resolve().parents[1] / "fixtures" / "networks" / "cambridge_drive.osm"
    network = benchmark.pedantic(load_network, args=(osm,),
                                 rounds=2, iterations=1)
    assert network.n_nodes > 4000
