"""Road networks: OSM loading, access and speed rules per travel mode, snapping, caching."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from scheduler.errors import NetworkError, PlanError
from scheduler.model import Location
from solver import network as network_module
from solver.network import (
    CYCLE_KPH,
    FALLBACK_KPH,
    MPH,
    UK_SPEEDS_KPH,
    WALK_KPH,
    RoadNetwork,
    check_snaps,
    load_network,
)
from tests.helpers import LONDON, LONDON_OSM, haversine_m, write_osm
from tests.solver.conftest import RING_NODES, RING_WAYS


def _index(network: RoadNetwork) -> dict[int, int]:
    return {int(o): i for i, o in enumerate(network.osmid)}


def _has(network: RoadNetwork, mode: str, a: int, b: int) -> bool:
    """Whether the mode's graph has a direct edge from OSM node a to OSM node b."""
    idx = _index(network)
    return network.mode(mode).time_s[idx[a], idx[b]] > 0


def _edge(network: RoadNetwork, mode: str, a: int, b: int) -> tuple[float, float]:
    idx = _index(network)
    graph = network.mode(mode)
    return graph.time_s[idx[a], idx[b]], graph.length_m[idx[a], idx[b]]


def _ring_length(a: int, b: int) -> float:
    (la, lo), (lb, ob) = RING_NODES[a], RING_NODES[b]
    return haversine_m(Location(la, lo), Location(lb, ob))


# --------------------------------------------------------------------------- loading


def test_load_network_reads_every_node_and_way_of_an_osm_file(ring_network: RoadNetwork) -> None:
    """The ring file gives its 10 nodes and one directed edge per way direction, with OSM ids."""
    assert sorted(ring_network.osmid.tolist()) == list(range(1, 11))
    two_way = sum(1 for _, _, tags in RING_WAYS if tags.get("oneway") != "yes")
    one_way = len(RING_WAYS) - two_way
    assert ring_network.n_edges == 2 * two_way + one_way
    idx = _index(ring_network)
    assert ring_network.lat[idx[3]] == pytest.approx(RING_NODES[3][0])
    assert ring_network.lon[idx[3]] == pytest.approx(RING_NODES[3][1])
    assert ring_network.name == "ring.osm"


def test_load_network_measures_edges_along_the_ground(ring_network: RoadNetwork) -> None:
    """Edge lengths are great-circle metres between the nodes."""
    _, length = _edge(ring_network, "drive", 1, 2)

    assert length == pytest.approx(_ring_length(1, 2), rel=1e-3)


@pytest.mark.parametrize(
    ("a", "b", "kph"),
    [
        (1, 2, 20 * MPH),                  # maxspeed "20 mph"
        (2, 3, UK_SPEEDS_KPH["tertiary"]),  # maxspeed "signals": no number, so the highway default
        (3, 4, 40.0),                       # maxspeed "40" is km/h
        (4, 5, 30 * MPH),                   # UK default for tertiary
        (5, 6, 20 * MPH),                   # UK default for residential
        (6, 7, 30 * MPH),                   # UK default for unclassified
        (7, 8, 10 * MPH),                   # UK default for living streets
        (2, 4, 70 * MPH),                   # motorway
    ],
)
def test_drive_speed_comes_from_maxspeed_or_uk_default(ring_network: RoadNetwork, a: int, b: int, kph: float) -> None:
    """Driving time is length over the parsed ``maxspeed``, else the UK limit for the road type."""
    seconds, length = _edge(ring_network, "drive", a, b)

    # OSMnx converts "20 mph" with 1.60934 km/mi, the defaults with 1.609344: 2 ppm apart.
    assert seconds == pytest.approx(length / (kph / 3.6), rel=1e-5)


def test_drive_excludes_busways_and_roads_closed_to_cars(ring_network: RoadNetwork) -> None:
    """No driving on a busway, an access=no road, or a motor_vehicle=no road, either way."""
    for a, b in [(1, 5), (2, 6), (6, 8)]:
        assert not _has(ring_network, "drive", a, b)
        assert not _has(ring_network, "drive", b, a)
        assert _has(ring_network, "walk", a, b) and _has(ring_network, "walk", b, a)


def test_drive_allows_access_no_when_motor_vehicles_may_enter(ring_network: RoadNetwork) -> None:
    """access=no with motor_vehicle=destination is open to cars (one way, as tagged)."""
    assert _has(ring_network, "drive", 4, 8)
    assert not _has(ring_network, "drive", 8, 4)


def test_drive_follows_one_way_streets_one_way(ring_network: RoadNetwork) -> None:
    """A oneway=yes street is driven only in its direction; two-way streets both ways."""
    assert _has(ring_network, "drive", 3, 7)
    assert not _has(ring_network, "drive", 7, 3)
    assert _has(ring_network, "drive", 1, 2) and _has(ring_network, "drive", 2, 1)


def test_walk_uses_one_way_streets_both_ways_at_walking_speed(ring_network: RoadNetwork) -> None:
    """Walkers take one-way streets in both directions at :data:`WALK_KPH` whatever the road's limit."""
    for a, b in [(3, 7), (7, 3), (4, 8), (8, 4), (1, 2)]:
        seconds, length = _edge(ring_network, "walk", a, b)
        assert seconds == pytest.approx(length / (WALK_KPH / 3.6), rel=1e-6)


def test_walk_and_cycle_avoid_motorways(ring_network: RoadNetwork) -> None:
    """Motorways are for driving only."""
    assert _has(ring_network, "drive", 2, 4)
    for mode in ("walk", "cycle"):
        assert not _has(ring_network, mode, 2, 4)
        assert not _has(ring_network, mode, 4, 2)


def test_cycle_follows_one_way_streets_unless_bicycles_are_exempt(ring_network: RoadNetwork) -> None:
    """Cyclists keep to one-way streets, except contraflow (oneway:bicycle=no), and use bus lanes."""
    assert _has(ring_network, "cycle", 3, 7) and not _has(ring_network, "cycle", 7, 3)
    assert _has(ring_network, "cycle", 4, 8) and _has(ring_network, "cycle", 8, 4)
    assert _has(ring_network, "cycle", 1, 5) and _has(ring_network, "cycle", 5, 1)
    seconds, length = _edge(ring_network, "cycle", 8, 4)
    assert seconds == pytest.approx(length / (CYCLE_KPH / 3.6), rel=1e-6)


def test_mode_routes_on_the_largest_strongly_connected_component(ring_network: RoadNetwork) -> None:
    """The detached street (nodes 9-10) is left out of every mode's routable nodes."""
    for mode in ("drive", "walk", "cycle"):
        routable = set(ring_network.osmid[ring_network.mode(mode).routable].tolist())
        assert routable == set(RING_NODES)


def test_mode_rejects_unknown_travel_mode(ring_network: RoadNetwork) -> None:
    """Only drive, walk and cycle are travel modes."""
    with pytest.raises(NetworkError, match="unknown travel mode 'fly'"):
        ring_network.mode("fly")


def test_mode_without_roads_for_it_is_an_error(tmp_path: Path) -> None:
    """A network with only a busway has nothing to drive on."""
    nodes = {1: RING_NODES[1], 2: RING_NODES[2]}
    network = load_network(write_osm(tmp_path / "bus.osm", nodes, [(1, [1, 2], {"highway": "busway"})]))

    with pytest.raises(NetworkError, match="no road open to travel mode 'drive'"):
        network.mode("drive")
    assert network.mode("walk").time_s.nnz == 2


def test_load_network_missing_file_is_a_network_error(tmp_path: Path) -> None:
    """A missing .osm file is reported as such, not looked up online."""
    with pytest.raises(NetworkError, match="no network file"):
        load_network(tmp_path / "missing.osm")


@pytest.mark.parametrize(("name", "text"), [("roads.pbf", "PBF"), ("roads.txt", "unknown network format")])
def test_load_network_rejects_unreadable_formats(tmp_path: Path, name: str, text: str) -> None:
    """PBF and unknown file types are refused with a hint."""
    path = tmp_path / name
    path.write_bytes(b"\x00\x01")

    with pytest.raises(NetworkError, match=text):
        load_network(path)


def test_load_network_without_roads_is_a_network_error(tmp_path: Path) -> None:
    """An OSM file with nodes but no ways cannot be routed on."""
    path = write_osm(tmp_path / "empty.osm", {1: RING_NODES[1], 2: RING_NODES[2]}, [])

    with pytest.raises(NetworkError):
        load_network(path)


def test_load_network_reads_graphml_like_osm(tmp_path: Path, ring_osm: Path, ring_network: RoadNetwork) -> None:
    """A GraphML export of the same roads gives the same drive graph."""
    with network_module._osmnx_way_tags() as ox:
        G = ox.graph_from_xml(ring_osm, simplify=False, retain_all=True)
    path = tmp_path / "ring.graphml"
    ox.save_graphml(G, path)

    from_graphml = load_network(path)

    a, b = from_graphml.mode("drive"), ring_network.mode("drive")
    order = np.argsort(from_graphml.osmid)
    back = np.argsort(ring_network.osmid)
    assert np.allclose(a.time_s.toarray()[np.ix_(order, order)], b.time_s.toarray()[np.ix_(back, back)])


# --------------------------------------------------------------------------- London


def _way_tags() -> list[tuple[list[int], dict[str, str]]]:
    root = ET.parse(LONDON_OSM).getroot()
    return [([int(n.get("ref")) for n in way.iter("nd")], {t.get("k"): t.get("v") for t in way.iter("tag")})
            for way in root.iter("way")]


def test_london_drive_excludes_roads_tagged_access_no(london_network: RoadNetwork) -> None:
    """Shropshire Place and Chitty Street (access=no) can be walked but not driven."""
    idx = _index(london_network)
    drive, walk = london_network.mode("drive").time_s, london_network.mode("walk").time_s
    closed = [(refs, tags) for refs, tags in _way_tags()
              if tags.get("access") == "no" and refs[0] in idx and refs[-1] in idx]
    assert {tags.get("name") for _, tags in closed} >= {"Shropshire Place", "Chitty Street"}
    for refs, _ in closed:
        a, b = idx[refs[0]], idx[refs[-1]]
        assert drive[a, b] == 0 and drive[b, a] == 0
        assert walk[a, b] > 0 and walk[b, a] > 0


def test_london_drive_keeps_one_way_streets_one_way(london_network: RoadNetwork) -> None:
    """Most consecutive junctions of oneway=yes ways are joined forwards only when driving."""
    idx = _index(london_network)
    drive = london_network.mode("drive").time_s
    forward_only = backward = 0
    for refs, tags in _way_tags():
        if tags.get("oneway") != "yes":
            continue
        junctions = [r for r in refs if r in idx]
        for a, b in zip(junctions, junctions[1:]):
            assert drive[idx[a], idx[b]] > 0, f"oneway edge {a}->{b} missing"
            if drive[idx[b], idx[a]] > 0:
                backward += 1  # a separate two-way road between the same junctions
            else:
                forward_only += 1
    assert forward_only > 150
    assert backward < forward_only / 10


def test_london_walk_has_every_walkable_drive_edge_both_ways(london_network: RoadNetwork) -> None:
    """Every foot-open road is walkable in both directions; the Euston Underpass (foot=no) is not."""
    walk = london_network.mode("walk").time_s
    ok = london_network.foot_ok
    u, v = london_network.u[ok], london_network.v[ok]
    loops = u == v
    assert (np.asarray(walk[u[~loops], v[~loops]]) > 0).all()
    assert (np.asarray(walk[v[~loops], u[~loops]]) > 0).all()
    assert (~ok).sum() >= 1
    assert london_network.car_ok[~ok].all()


def test_london_drive_speeds_parse_mph(london_network: RoadNetwork) -> None:
    """The London file's limits are 20 and 30 mph; drive speeds are exactly those (km/h)."""
    speeds = set(np.round(london_network.drive_kph, 2).tolist())

    assert speeds == {round(20 * MPH, 2), round(30 * MPH, 2)}


# --------------------------------------------------------------------------- snapping


def test_snap_matches_brute_force_nearest_node(london_network: RoadNetwork) -> None:
    """KD-tree snapping finds the same nearest routable node as checking every node by great circle."""
    rng = np.random.default_rng(7)
    lat = rng.uniform(51.5175, 51.5275, 300)
    lon = rng.uniform(-0.151, -0.121, 300)
    for mode in ("drive", "walk"):
        routable = london_network.mode(mode).routable
        snap = london_network.snap(lat, lon, mode)
        for k in range(len(lat)):
            here = Location(lat[k], lon[k])
            dists = np.array([haversine_m(here, Location(london_network.lat[n], london_network.lon[n]))
                              for n in routable])
            best = routable[int(np.argmin(dists))]
            got = haversine_m(here, Location(london_network.lat[snap.node[k]], london_network.lon[snap.node[k]]))
            assert snap.node[k] == best or got - dists.min() < 0.05
            assert snap.distance_m[k] == pytest.approx(got, rel=2e-3, abs=0.05)


def test_snap_reports_zero_distance_at_a_node(london_network: RoadNetwork) -> None:
    """A location on a routable node snaps to it with distance 0."""
    nodes = london_network.mode("drive").routable[[0, 50, 100]]

    snap = london_network.snap(london_network.lat[nodes], london_network.lon[nodes], "drive")

    assert snap.node.tolist() == nodes.tolist()
    assert np.allclose(snap.distance_m, 0.0, atol=1e-6)


def test_snap_reports_distance_to_the_node(london_network: RoadNetwork) -> None:
    """Snap distances of the helper's London points are their great-circle distance to the node."""
    lat = np.array([p[0] for p in LONDON.values()])
    lon = np.array([p[1] for p in LONDON.values()])

    snap = london_network.snap(lat, lon, "drive")

    for k in range(len(lat)):
        node = Location(london_network.lat[snap.node[k]], london_network.lon[snap.node[k]])
        assert snap.distance_m[k] == pytest.approx(haversine_m(Location(lat[k], lon[k]), node), rel=2e-3)
    assert snap.distance_m.max() < 150
    assert len(set(snap.node.tolist())) == len(LONDON)


def test_snap_avoids_nodes_outside_the_routable_component(ring_network: RoadNetwork) -> None:
    """A point on the detached street snaps to the ring instead."""
    idx = _index(ring_network)
    island = idx[9]

    snap = ring_network.snap([ring_network.lat[island]], [ring_network.lon[island]], "drive")

    assert snap.node[0] == idx[1]
    assert snap.distance_m[0] > 50


def test_check_snaps_names_each_far_record(london_network: RoadNetwork) -> None:
    """Points 5 km away raise one PlanError naming each record and field, with the distance."""
    lat0, lon0 = LONDON["fitzroy_sq"]
    lat = [lat0, lat0 + 5000 / 111_195, lat0]
    lon = [lon0, lon0, lon0 + 6000 / (111_195 * math.cos(math.radians(lat0)))]
    records = [("client", "c1", "location"), ("client", "c9", "location"), ("worker", "w4", "start_location")]
    snap = london_network.snap(lat, lon, "drive")

    with pytest.raises(PlanError) as info:
        check_snaps(snap, records, limit_m=1000, network_name="london_central_drive.osm", mode="drive")

    problems = info.value.problems
    assert [(p.record_kind, p.record_id, p.field) for p in problems] == [
        ("client", "c9", "location"), ("worker", "w4", "start_location"),
    ]
    assert "km from the nearest drive road of london_central_drive.osm (limit 1 km)" in problems[0].message
    assert str(problems[0]).startswith("client 'c9': location is 4.")


def test_check_snaps_accepts_nearby_points(london_network: RoadNetwork) -> None:
    """Points within the limit pass silently."""
    lat = [p[0] for p in LONDON.values()]
    lon = [p[1] for p in LONDON.values()]
    snap = london_network.snap(lat, lon, "walk")

    check_snaps(snap, [("client", name, "location") for name in LONDON], limit_m=150, network_name="x", mode="walk")


def test_project_keeps_distances(london_network: RoadNetwork) -> None:
    """Local planar projection is within 0.2% of great-circle distance across the area."""
    a, b = LONDON["marylebone"], LONDON["queen_sq"]
    xy = london_network.project(np.array([a[0], b[0]]), np.array([a[1], b[1]]))

    assert np.hypot(*(xy[1] - xy[0])) == pytest.approx(haversine_m(Location(*a), Location(*b)), rel=2e-3)


# --------------------------------------------------------------------------- network cache


def test_load_network_second_load_comes_from_cache(tmp_path: Path, ring_osm: Path, monkeypatch) -> None:
    """With a cache folder, the second load skips OSMnx and returns identical arrays."""
    first = load_network(ring_osm, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("network-*.npz"))) == 1

    def boom(*args, **kwargs):
        raise AssertionError("OSMnx should not be called on a cache hit")

    monkeypatch.setattr(network_module, "_read_graph", boom)
    second = load_network(ring_osm, cache_dir=tmp_path)

    for key, value in first.arrays().items():
        assert np.array_equal(value, second.arrays()[key]), key
        assert value.dtype == second.arrays()[key].dtype, key
    assert second.digest == first.digest
    assert second.name == first.name


def test_load_network_cache_misses_when_the_file_changes(tmp_path: Path) -> None:
    """Editing the OSM file gives a new digest, a new cache file and the new roads."""
    path = tmp_path / "roads.osm"
    nodes = {1: RING_NODES[1], 2: RING_NODES[2]}
    cache = tmp_path / "cache"
    before = load_network(write_osm(path, nodes, [(1, [1, 2], {"highway": "residential"})]), cache_dir=cache)

    after = load_network(write_osm(path, nodes, [(1, [1, 2], {"highway": "primary"})]), cache_dir=cache)

    assert after.digest != before.digest
    assert len(list(cache.glob("network-*.npz"))) == 2
    assert after.drive_kph[0] == pytest.approx(UK_SPEEDS_KPH["primary"])
    assert before.drive_kph[0] == pytest.approx(UK_SPEEDS_KPH["residential"])


def test_load_network_cache_misses_when_the_speed_table_changes(tmp_path: Path, monkeypatch) -> None:
    """Cached drive speeds are not reused after the default speed table changes."""
    path = write_osm(tmp_path / "roads.osm", {1: RING_NODES[1], 2: RING_NODES[2]},
                     [(1, [1, 2], {"highway": "residential"})])
    load_network(path, cache_dir=tmp_path)

    monkeypatch.setitem(UK_SPEEDS_KPH, "residential", 25.0)
    again = load_network(path, cache_dir=tmp_path)

    assert again.drive_kph[0] == pytest.approx(25.0)


def test_load_network_ignores_an_unreadable_cache_file(tmp_path: Path, ring_osm: Path) -> None:
    """A corrupt cache file is ignored and the network is read from the source again."""
    good = load_network(ring_osm, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("network-*.npz")
    cache_file.write_bytes(b"not a zip file")

    again = load_network(ring_osm, cache_dir=tmp_path)

    assert np.array_equal(again.length_m, good.length_m)


def test_fallback_speed_is_twenty_mph() -> None:
    """Roads of unknown type without maxspeed are driven at 20 mph."""
    assert FALLBACK_KPH == pytest.approx(32.18688)


def test_load_network_by_several_solves_at_once_fills_the_cache_once(tmp_path: Path, ring_osm: Path) -> None:
    """Solves that load the same network at once (API jobs, benchmark processes) do not trip over the cache.

    Each writer saves to a temporary file of its own, then renames it into place.
    """
    from concurrent.futures import ThreadPoolExecutor

    cache = tmp_path / "cache"
    with ThreadPoolExecutor(8) as pool:
        networks = list(pool.map(lambda _: load_network(ring_osm, cache_dir=cache), range(8)))
    assert len({n.digest for n in networks}) == 1
    assert [p.name for p in cache.iterdir() if p.suffix == ".npz" and ".tmp" in p.name] == []
    assert len(list(cache.glob("network-*.npz"))) == 1
    again = load_network(ring_osm, cache_dir=cache)
    assert np.array_equal(again.arrays()["lat"], networks[0].arrays()["lat"])
