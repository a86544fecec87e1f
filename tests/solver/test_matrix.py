"""Travel matrices: equal to NetworkX shortest paths, zero diagonal, fastest-path lengths, cache."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.spatial import cKDTree

from scheduler.errors import NetworkError
from solver import cache
from solver.matrix import travel_matrices
from solver.network import MPH, WALK_KPH, ModeGraph, RoadNetwork
from tests.helpers import LONDON, osmnx_drive_digraph

NAMES = list(LONDON)
LAT = np.array([LONDON[n][0] for n in NAMES])
LON = np.array([LONDON[n][1] for n in NAMES])


def _csr_digraph(network: RoadNetwork, mode: str) -> nx.DiGraph:
    """A NetworkX view of the mode's CSR graph, with time and length per edge."""
    graph = network.mode(mode)
    time, length = graph.time_s.tocoo(), graph.length_m.tocsr()
    G = nx.DiGraph()
    for u, v, t in zip(time.row, time.col, time.data, strict=True):
        G.add_edge(int(u), int(v), time=float(t), length=float(length[u, v]))
    return G


def _path_totals(G: nx.DiGraph, a, b) -> tuple[float, float]:
    path = nx.shortest_path(G, a, b, weight="time")
    edges = list(zip(path, path[1:]))
    return sum(G[u][v]["time"] for u, v in edges), sum(G[u][v]["length"] for u, v in edges)


# --------------------------------------------------------------------------- correctness


@pytest.mark.parametrize("mode", ["drive", "walk", "cycle"])
def test_travel_matrices_equal_networkx_on_the_same_graph(london_network: RoadNetwork, mode: str) -> None:
    """Every entry is NetworkX's fastest time (to 1 s) and that path's length (to 1 m)."""
    G = _csr_digraph(london_network, mode)

    m = travel_matrices(london_network, LAT, LON, mode)

    nodes = m.snap.node
    for i in range(len(NAMES)):
        times = nx.single_source_dijkstra_path_length(G, int(nodes[i]), weight="time")
        for j in range(len(NAMES)):
            assert abs(m.time_s[i, j] - times[int(nodes[j])]) <= 1
            if i != j and (i + j) % 3 == 0:
                _, metres = _path_totals(G, int(nodes[i]), int(nodes[j]))
                assert abs(m.distance_m[i, j] - metres) <= 1


#: Both ends of Chitty Street and of Shropshire Place, closed to cars (access=no).
CLOSED_STREET_ENDS = [(51.52101, -0.13648), (51.52117, -0.13614), (51.52252, -0.13463), (51.52281, -0.13495)]


def test_travel_matrices_equal_an_independent_osmnx_graph(london_network: RoadNetwork, london_graph) -> None:
    """Drive times and distances match routing on OSMnx's own unsimplified graph and speeds.

    The points include the ends of two streets closed to cars, so a matrix that
    drove through them would differ.
    """
    G = osmnx_drive_digraph(london_graph)
    lat = np.r_[LAT, [p[0] for p in CLOSED_STREET_ENDS]]
    lon = np.r_[LON, [p[1] for p in CLOSED_STREET_ENDS]]

    m = travel_matrices(london_network, lat, lon, "drive")

    osmids = [int(london_network.osmid[n]) for n in m.snap.node]
    for i, a in enumerate(osmids):
        times, paths = nx.single_source_dijkstra(G, a, weight="time")
        for j, b in enumerate(osmids):
            path = paths[b]
            metres = sum(G[u][v]["length"] for u, v in zip(path, path[1:]))
            assert abs(m.time_s[i, j] - times[b]) <= 1, (i, j)
            assert abs(m.distance_m[i, j] - metres) <= 1, (i, j)
    # Chitty Street is a few seconds long on foot, but a detour by car.
    assert m.time_s[-4, -3] > 15 and m.time_s[-3, -4] > 15


def test_travel_matrices_have_zero_diagonal_and_positive_entries(london_network: RoadNetwork) -> None:
    """Staying put costs nothing; moving between different nodes costs something."""
    for mode in ("drive", "walk", "cycle"):
        m = travel_matrices(london_network, LAT, LON, mode)
        assert m.time_s.dtype == np.int64 and m.distance_m.dtype == np.int64
        assert m.time_s.shape == m.distance_m.shape == (len(NAMES), len(NAMES))
        assert (np.diag(m.time_s) == 0).all() and (np.diag(m.distance_m) == 0).all()
        off = ~np.eye(len(NAMES), dtype=bool)
        assert (m.time_s[off] > 0).all() and (m.distance_m[off] > 0).all()


def test_travel_matrices_repeat_rows_for_repeated_locations(london_network: RoadNetwork) -> None:
    """Two locations on the same node get identical rows and zero between them."""
    lat = np.r_[LAT[:3], LAT[1]]
    lon = np.r_[LON[:3], LON[1]]

    m = travel_matrices(london_network, lat, lon, "drive")

    assert m.time_s[1, 3] == m.time_s[3, 1] == 0
    assert np.array_equal(m.time_s[1], m.time_s[3])
    assert np.array_equal(m.distance_m[:, 1], m.distance_m[:, 3])


def test_walk_matrix_is_symmetric_at_walking_speed(london_network: RoadNetwork) -> None:
    """Walking ignores one-way streets, so there and back are equal, and time is distance over 4.8 km/h."""
    m = travel_matrices(london_network, LAT, LON, "walk")

    assert np.array_equal(m.time_s, m.time_s.T)
    assert np.abs(m.time_s - m.distance_m / (WALK_KPH / 3.6)).max() <= 1


def test_drive_matrix_feels_one_way_streets(london_network: RoadNetwork) -> None:
    """Driving there and back differs for some pairs in a grid of one-way streets."""
    m = travel_matrices(london_network, LAT, LON, "drive")

    assert not np.array_equal(m.time_s, m.time_s.T)


def test_drive_matrix_speeds_stay_within_the_limits(london_network: RoadNetwork) -> None:
    """No drive is faster than 30 mph on average, nor slower than walking."""
    m = travel_matrices(london_network, LAT, LON, "drive")

    off = ~np.eye(len(NAMES), dtype=bool)
    kph = m.distance_m[off] / m.time_s[off] * 3.6
    assert kph.max() <= 30 * MPH * 1.02
    assert kph.min() >= WALK_KPH


def test_travel_matrices_report_the_length_of_the_fastest_path() -> None:
    """When the long way round is faster, its length is reported, not the shortest distance."""
    # 0 -> 2 direct: 1000 m at 10 km/h (360 s); 0 -> 1 -> 2: 2 x 900 m at 100 km/h (64.8 s).
    lat = np.array([51.5200, 51.5281, 51.5200])
    lon = np.array([-0.1400, -0.1330, -0.1256])
    network = RoadNetwork(
        name="triangle", digest="triangle-test", osmid=np.array([10, 11, 12]), lat=lat, lon=lon,
        u=np.array([0, 1, 0, 2, 1, 2]), v=np.array([1, 2, 2, 0, 0, 1]),
        length_m=np.array([900.0, 900.0, 1000.0, 1000.0, 900.0, 900.0]),
        drive_kph=np.array([100.0, 100.0, 10.0, 10.0, 100.0, 100.0]),
        car_ok=np.ones(6, bool), foot_ok=np.ones(6, bool), bike_ok=np.ones(6, bool),
        bike_both_ways=np.zeros(6, bool),
    )

    drive = travel_matrices(network, lat, lon, "drive")
    walk = travel_matrices(network, lat, lon, "walk")

    assert drive.time_s[0, 2] == round(1800 / (100 / 3.6))
    assert drive.distance_m[0, 2] == 1800
    assert walk.distance_m[0, 2] == 1000
    assert walk.time_s[0, 2] == round(1000 / (WALK_KPH / 3.6))


def test_travel_matrices_sum_long_paths_exactly(london_network: RoadNetwork) -> None:
    """Pointer jumping over the path tree gives the same lengths as walking each path."""
    G = _csr_digraph(london_network, "drive")
    routable = london_network.mode("drive").routable
    rng = np.random.default_rng(3)
    picks = rng.choice(routable, 40, replace=False)

    m = travel_matrices(london_network, london_network.lat[picks], london_network.lon[picks], "drive")

    assert (m.snap.node == picks).all()
    for i in range(0, 40, 7):
        for j in range(40):
            if i != j:
                assert abs(m.distance_m[i, j] - _path_totals(G, int(picks[i]), int(picks[j]))[1]) <= 1


def test_travel_matrices_chunks_give_the_same_answer(london_network: RoadNetwork) -> None:
    """Running Dijkstra a few sources at a time changes nothing, and progress reaches the end."""
    seen: list[tuple[int, int]] = []

    whole = travel_matrices(london_network, LAT, LON, "drive")
    chunked = travel_matrices(london_network, LAT, LON, "drive", chunk=4, progress=lambda d, t: seen.append((d, t)))

    assert np.array_equal(whole.time_s, chunked.time_s)
    assert np.array_equal(whole.distance_m, chunked.distance_m)
    assert seen[-1] == (len(NAMES), len(NAMES))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) == -(-len(NAMES) // 4)


def test_travel_matrices_fail_loudly_without_a_route() -> None:
    """If snapped nodes cannot reach each other, a NetworkError is raised, not a huge time."""
    network = RoadNetwork(
        name="split", digest="split-test", osmid=np.arange(4), lat=np.array([51.52, 51.521, 51.525, 51.526]),
        lon=np.array([-0.14, -0.14, -0.13, -0.13]), u=np.array([0, 1, 2, 3]), v=np.array([1, 0, 3, 2]),
        length_m=np.full(4, 100.0), drive_kph=np.full(4, 30.0), car_ok=np.ones(4, bool),
        foot_ok=np.ones(4, bool), bike_ok=np.ones(4, bool), bike_both_ways=np.zeros(4, bool),
    )
    # Snapping keeps to one island, so both points land on it and stay routable...
    m = travel_matrices(network, [51.52, 51.526], [-0.14, -0.13], "drive")
    assert len(network.mode("drive").routable) == 2
    assert np.isfinite(m.time_s).all() and m.time_s.max() < 100
    # ...but were both islands routable, the gap between them would be reported.
    graph = network.mode("drive")
    xy = network.project(network.lat, network.lon)
    network._modes["drive"] = ModeGraph("drive", graph.time_s, graph.length_m, np.arange(4), cKDTree(xy), xy)
    with pytest.raises(NetworkError, match="no route"):
        travel_matrices(network, [51.52, 51.526], [-0.14, -0.13], "drive")


# --------------------------------------------------------------------------- cache


def test_travel_matrices_second_call_hits_the_cache(london_network: RoadNetwork, tmp_path: Path, monkeypatch) -> None:
    """The second identical call reads the cache file and returns identical arrays without routing."""
    first = travel_matrices(london_network, LAT, LON, "drive", cache_dir=tmp_path)
    files = sorted(tmp_path.glob("matrix-drive-*.npz"))
    assert len(files) == 1

    def boom(*args, **kwargs):
        raise AssertionError("a cache hit must not route")

    monkeypatch.setattr(RoadNetwork, "mode", boom)
    second = travel_matrices(london_network, LAT, LON, "drive", cache_dir=tmp_path)

    assert np.array_equal(first.time_s, second.time_s) and first.time_s.dtype == second.time_s.dtype
    assert np.array_equal(first.distance_m, second.distance_m)
    assert np.array_equal(first.snap.node, second.snap.node)
    assert np.array_equal(first.snap.distance_m, second.snap.distance_m)
    assert second.mode == "drive"
    assert sorted(tmp_path.glob("matrix-drive-*.npz")) == files


def test_travel_matrices_cache_misses_when_a_location_moves(london_network: RoadNetwork, tmp_path: Path) -> None:
    """Moving one location, or asking for another mode, computes and stores a new matrix."""
    travel_matrices(london_network, LAT, LON, "drive", cache_dir=tmp_path)
    moved = LAT.copy()
    moved[0] += 0.001

    m = travel_matrices(london_network, moved, LON, "drive", cache_dir=tmp_path)
    travel_matrices(london_network, LAT, LON, "walk", cache_dir=tmp_path)

    assert len(list(tmp_path.glob("matrix-drive-*.npz"))) == 2
    assert len(list(tmp_path.glob("matrix-walk-*.npz"))) == 1
    assert np.array_equal(m.time_s, travel_matrices(london_network, moved, LON, "drive").time_s)


def test_travel_matrices_without_cache_dir_write_nothing(london_network: RoadNetwork, tmp_path: Path,
                                                         monkeypatch) -> None:
    """No cache folder means no files anywhere."""
    monkeypatch.chdir(tmp_path)

    travel_matrices(london_network, LAT, LON, "drive")

    assert list(tmp_path.iterdir()) == []


def test_cache_key_depends_on_values_and_dtypes() -> None:
    """Keys differ for different values, orders and dtypes, and repeat for equal inputs."""
    a = np.array([1.0, 2.0])

    assert cache.cache_key("m", a) == cache.cache_key("m", a.copy())
    assert cache.cache_key("m", a) != cache.cache_key("m", a[::-1])
    assert cache.cache_key("m", a) != cache.cache_key("m", a.astype(np.float32))
    assert cache.cache_key("m", 1) != cache.cache_key("m", "1")
    assert cache.cache_key("ab", "c") != cache.cache_key("a", "bc")


def test_cache_saves_and_loads_arrays(tmp_path: Path) -> None:
    """Arrays saved under a key load back equal; other keys and no folder miss."""
    path = cache.save_arrays(tmp_path / "c", "matrix-x", "k1", a=np.arange(3), b=np.eye(2))

    assert path is not None and path.exists()
    hit = cache.load_arrays(tmp_path / "c", "matrix-x", "k1")
    assert hit is not None and np.array_equal(hit["a"], np.arange(3)) and np.array_equal(hit["b"], np.eye(2))
    assert cache.load_arrays(tmp_path / "c", "matrix-x", "k2") is None
    assert cache.load_arrays(None, "matrix-x", "k1") is None
    assert cache.save_arrays(None, "matrix-x", "k1", a=np.arange(3)) is None
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["matrix-x-k1.npz"]


def test_cache_ignores_unreadable_files(tmp_path: Path) -> None:
    """A corrupt cache file counts as a miss."""
    (tmp_path / "matrix-x-k1.npz").write_bytes(b"garbage")

    assert cache.load_arrays(tmp_path, "matrix-x", "k1") is None


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path: Path) -> None:
    """The default cache lives in $XDG_CACHE_HOME/homecare, else ~/.cache/homecare."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.default_cache_dir() == tmp_path / "homecare"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.default_cache_dir() == Path.home() / ".cache" / "homecare"
