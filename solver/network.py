"""Road networks: load OpenStreetMap data, set travel times per travel mode, snap locations.

A :class:`RoadNetwork` keeps the road graph as flat NumPy arrays (one entry per
directed edge) so that each travel mode's routable graph is a SciPy CSR matrix
built once. Rules per mode:

* ``drive``: speeds from ``maxspeed`` (``"20 mph"`` and lists are parsed by
  OSMnx), else UK defaults per ``highway`` type (:data:`UK_SPEEDS_KPH`); no
  ``busway``/``bus_guideway`` edges and no ``access=no``/``private`` edges
  unless a motor-vehicle tag allows them; one-way streets one way only.
* ``walk``: :data:`WALK_KPH` on every road but motorways; one-way streets both ways.
* ``cycle``: :data:`CYCLE_KPH` on every road but motorways; bus gates allowed;
  one-way streets one way unless tagged ``oneway:bicycle=no``.

Each mode is routed on its largest strongly connected component, so every
pair of snapped nodes has a route. Map data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from scheduler.errors import NetworkError, PlanError, Problem
from solver.cache import write_npz

log = logging.getLogger("homecare.network")

ATTRIBUTION = "Map data © OpenStreetMap contributors, ODbL 1.0"
NETWORK_FORMAT = 3  # bump when the processing below changes, to refresh caches

MPH = 1.609344
#: Free-flow speeds (km/h) for roads with no usable ``maxspeed``: UK limits
#: (national limits outside towns, 30 mph in built-up areas, 20 mph for
#: residential streets as in most English cities today).
UK_SPEEDS_KPH: dict[str, float] = {
    "motorway": 70 * MPH, "motorway_link": 50 * MPH,
    "trunk": 50 * MPH, "trunk_link": 40 * MPH,
    "primary": 30 * MPH, "primary_link": 30 * MPH,
    "secondary": 30 * MPH, "secondary_link": 30 * MPH,
    "tertiary": 30 * MPH, "tertiary_link": 30 * MPH,
    "unclassified": 30 * MPH, "residential": 20 * MPH,
    "living_street": 10 * MPH, "road": 20 * MPH, "service": 10 * MPH,
    "busway": 30 * MPH, "bus_guideway": 30 * MPH,
}
FALLBACK_KPH = 20 * MPH
WALK_KPH = 4.8
CYCLE_KPH = 15.0
DEFAULT_SNAP_LIMIT_M = 1000.0
EARTH_RADIUS_M = 6_371_008.8

_EXTRA_WAY_TAGS = ("motor_vehicle", "motorcar", "foot", "bicycle", "psv", "bus", "oneway:bicycle")
_DIFFER = ("highway", "access", "maxspeed", "motor_vehicle", "motorcar", "foot", "bicycle", "oneway:bicycle")
_NO = {"no", "private"}
_MOTOR_OK = {"yes", "designated", "destination", "permissive", "customers", "delivery"}
_BUS_ONLY_HIGHWAYS = {"busway", "bus_guideway"}
_NO_FOOT_OR_BIKE_HIGHWAYS = {"motorway", "motorway_link"}


def _tags(value: Any) -> set[str]:
    """Return an OSM tag value (maybe a list after simplification) as a set of strings."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    if isinstance(value, list | tuple | set):
        return {str(v) for v in value}
    return {str(value)}


def file_digest(path: Path) -> str:
    """Return the SHA-1 of a file's bytes (hex)."""
    h = hashlib.sha1()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Snap:
    """Where locations met the road network for one travel mode.

    ``node`` indexes :attr:`RoadNetwork.lat`/``lon``; ``distance_m`` is the
    straight-line distance from each location to its node (metres).
    """

    node: np.ndarray
    distance_m: np.ndarray


@dataclass
class ModeGraph:
    """The routable graph of one travel mode, as CSR matrices over all network nodes."""

    mode: str
    time_s: sparse.csr_matrix
    length_m: sparse.csr_matrix
    routable: np.ndarray  # indices of nodes in the largest strongly connected component
    _tree: cKDTree
    _xy: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes of the whole network."""
        return self.time_s.shape[0]


@dataclass
class RoadNetwork:
    """A road network as edge arrays, ready to route on for each travel mode.

    Build one with :func:`load_network`. Arrays have one entry per node
    (``lat``, ``lon``, ``osmid``) or per directed edge (the rest).
    """

    name: str
    digest: str
    osmid: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    drive_kph: np.ndarray
    car_ok: np.ndarray
    foot_ok: np.ndarray
    bike_ok: np.ndarray
    bike_both_ways: np.ndarray
    source: Path | None = None
    _modes: dict[str, ModeGraph] = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.lat)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.u)

    def arrays(self) -> dict[str, np.ndarray]:
        """Return the arrays that define the network (for caching)."""
        return {k: getattr(self, k) for k in (
            "osmid", "lat", "lon", "u", "v", "length_m", "drive_kph", "car_ok", "foot_ok", "bike_ok",
            "bike_both_ways")}

    def project(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Project WGS84 points to local planar metres around the network's centre.

        Parameters
        ----------
        lat, lon
            Latitudes and longitudes (degrees).

        Returns
        -------
        numpy.ndarray
            ``(n, 2)`` array of x, y (metres); accurate to well under 1% across a county.
        """
        lat0 = float(np.radians(np.mean(self.lat)))
        lon0 = float(np.radians(np.mean(self.lon)))
        x = EARTH_RADIUS_M * (np.radians(np.asarray(lon, dtype=float)) - lon0) * np.cos(lat0)
        y = EARTH_RADIUS_M * (np.radians(np.asarray(lat, dtype=float)) - lat0)
        return np.column_stack([x, y])

    def mode(self, mode: str) -> ModeGraph:
        """Return the routable graph of a travel mode, building it on first use.

        Parameters
        ----------
        mode
            ``drive``, ``walk`` or ``cycle``.

        Returns
        -------
        ModeGraph
            CSR travel-time (seconds) and length (metres) matrices and a KD-tree of routable nodes.

        Raises
        ------
        NetworkError
            If the mode is unknown or no road allows it.
        """
        if mode not in self._modes:
            self._modes[mode] = self._build_mode(mode)
        return self._modes[mode]

    def _build_mode(self, mode: str) -> ModeGraph:
        u, v, length = self.u, self.v, self.length_m
        if mode == "drive":
            keep = self.car_ok
            seconds = length / (self.drive_kph / 3.6)
            u, v, length, seconds = u[keep], v[keep], length[keep], seconds[keep]
        elif mode in ("walk", "cycle"):
            ok = self.foot_ok if mode == "walk" else self.bike_ok
            both = ok if mode == "walk" else ok & self.bike_both_ways
            u = np.concatenate([u[ok], v[both]])
            v = np.concatenate([v[ok], self.u[both]])
            length = np.concatenate([length[ok], length[both]])
            seconds = length / ((WALK_KPH if mode == "walk" else CYCLE_KPH) / 3.6)
        else:
            raise NetworkError(f"unknown travel mode {mode!r}; use drive, walk or cycle")
        if len(u) == 0:
            raise NetworkError(f"network {self.name} has no road open to travel mode {mode!r}")
        # Parallel edges: keep the fastest of each (u, v); CSR would add duplicates up.
        order = np.lexsort((seconds, v, u))
        u, v, length, seconds = u[order], v[order], length[order], seconds[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, length, seconds = u[first], v[first], length[first], seconds[first]
        # Self-loops carry no route information; zero-length edges still need a positive
        # weight, or SciPy's sparse graphs would treat them as missing.
        loop = u != v
        u, v, length, seconds = u[loop], v[loop], length[loop], seconds[loop]
        seconds = np.maximum(seconds, 1e-6)
        n = self.n_nodes
        time_csr = sparse.csr_matrix((seconds, (u, v)), shape=(n, n))
        length_csr = sparse.csr_matrix((np.maximum(length, 1e-6), (u, v)), shape=(n, n))
        n_comp, labels = csgraph.connected_components(time_csr, directed=True, connection="strong")
        sizes = np.bincount(labels)
        touched = np.zeros(n, dtype=bool)
        touched[u] = True
        touched[v] = True
        sizes_touched = np.bincount(labels[touched], minlength=n_comp)
        biggest = int(np.argmax(sizes_touched if sizes_touched.any() else sizes))
        routable = np.flatnonzero(labels == biggest)
        xy = self.project(self.lat[routable], self.lon[routable])
        log.info("%s %s: %d edges, largest strongly connected component %d of %d nodes",
                 self.name, mode, len(u), len(routable), n)
        return ModeGraph(mode, time_csr, length_csr, routable, cKDTree(xy), xy)

    def snap(self, lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray, mode: str) -> Snap:
        """Snap locations to the nearest routable node of a travel mode.

        Parameters
        ----------
        lat, lon
            Latitudes and longitudes of the locations (degrees).
        mode
            ``drive``, ``walk`` or ``cycle``.

        Returns
        -------
        Snap
            Node index and straight-line snap distance (metres) per location.
        """
        graph = self.mode(mode)
        distance, idx = graph._tree.query(self.project(lat, lon))
        return Snap(node=graph.routable[idx], distance_m=np.asarray(distance, dtype=float))


def check_snaps(
    snap: Snap, records: Sequence[tuple[str, str, str]], *, limit_m: float, network_name: str, mode: str
) -> None:
    """Raise one :class:`PlanError` for every location too far from a road.

    Parameters
    ----------
    snap
        Result of :meth:`RoadNetwork.snap`.
    records
        Per location, (record kind, record id, field) of its first user, for messages.
    limit_m
        Largest allowed snap distance (metres).
    network_name, mode
        For messages.

    Raises
    ------
    PlanError
        If any location lies more than ``limit_m`` from the mode's roads.
    """
    far = np.flatnonzero(snap.distance_m > limit_m)
    if len(far):
        raise PlanError(
            Problem(kind, rid, fld,
                    f"{fld} is {snap.distance_m[i] / 1000:.1f} km from the nearest {mode} road of "
                    f"{network_name} (limit {limit_m / 1000:g} km): is it in the network's area?")
            for i in far for kind, rid, fld in [records[i]]
        )


@contextlib.contextmanager
def _osmnx_way_tags() -> Iterator[Any]:
    import osmnx as ox

    saved = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved, *_EXTRA_WAY_TAGS]))
    try:
        yield ox
    finally:
        ox.settings.useful_tags_way = saved


def _read_graph(source: str | Path) -> tuple[Any, str]:
    """Read an OSM XML, GraphML or place name into an unsimplified-or-raw OSMnx graph."""
    with _osmnx_way_tags() as ox:
        path = Path(source)
        suffix = "".join(path.suffixes[-2:]).lower()
        if path.exists():
            if path.suffix.lower() == ".graphml":
                return ox.load_graphml(path), path.stem
            if suffix.endswith((".osm", ".xml", ".osm.bz2", ".xml.bz2")):
                G = ox.graph_from_xml(path, simplify=False, retain_all=True)
                return ox.simplify_graph(G, edge_attrs_differ=list(_DIFFER)), path.stem
            if suffix.endswith(".pbf"):
                raise NetworkError(f"{path}: PBF files cannot be read; convert to OSM XML (osmium cat) first")
            raise NetworkError(f"{path}: unknown network format; use .osm, .xml or .graphml")
        if path.suffix.lower() in (".osm", ".xml", ".graphml", ".pbf") or path.parent != Path("."):
            raise NetworkError(f"no network file at {path}")
        log.info("downloading the drive network of %r from OpenStreetMap", str(source))
        try:
            G = ox.graph_from_place(str(source), network_type="drive", simplify=False, retain_all=True)
        except Exception as exc:  # noqa: BLE001 - osmnx raises many kinds; we say what happened
            raise NetworkError(f"could not download a network for place {str(source)!r}: {exc}") from exc
        return ox.simplify_graph(G, edge_attrs_differ=list(_DIFFER)), str(source)


def network_from_graph(G: Any, *, name: str, digest: str, source: Path | None = None) -> RoadNetwork:
    """Turn an OSMnx ``MultiDiGraph`` (lat/lon, edge ``length``) into a :class:`RoadNetwork`.

    Parameters
    ----------
    G
        OSMnx graph in WGS84 with ``length`` (metres) on edges.
    name
        Name for messages.
    digest
        Content hash of the source, for caches.
    source
        File it came from.

    Returns
    -------
    RoadNetwork
        The network.

    Raises
    ------
    NetworkError
        If the graph has no edges.
    """
    import osmnx as ox

    if G.number_of_edges() == 0:
        raise NetworkError(f"network {name} has no roads")
    G = ox.add_edge_speeds(G, hwy_speeds=UK_SPEEDS_KPH, fallback=FALLBACK_KPH)
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
    lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
    edges = list(G.edges(data=True))
    u = np.array([index[a] for a, _, _ in edges], dtype=np.int32)
    v = np.array([index[b] for _, b, _ in edges], dtype=np.int32)
    length = np.array([float(d.get("length", 0.0)) for *_, d in edges])
    kph = np.array([float(d.get("speed_kph", FALLBACK_KPH)) for *_, d in edges])
    car, foot, bike, bike_both = [], [], [], []
    for *_, d in edges:
        highway = _tags(d.get("highway"))
        access = _tags(d.get("access"))
        motor = _tags(d.get("motor_vehicle")) | _tags(d.get("motorcar"))
        car.append(not (highway & _BUS_ONLY_HIGHWAYS) and not (motor & _NO)
                   and not (access & _NO and not motor & _MOTOR_OK))
        no_feet = bool(highway & _NO_FOOT_OR_BIKE_HIGHWAYS)
        foot.append(not no_feet and not (_tags(d.get("foot")) & _NO))
        bike.append(not no_feet and not (_tags(d.get("bicycle")) & _NO))
        bike_both.append("no" in _tags(d.get("oneway:bicycle")))
    osmid = np.array([int(n) if isinstance(n, int | np.integer) else -1 for n in nodes], dtype=np.int64)
    return RoadNetwork(
        name=name, digest=digest, osmid=osmid, lat=lat, lon=lon, u=u, v=v, length_m=length,
        drive_kph=kph, car_ok=np.array(car), foot_ok=np.array(foot), bike_ok=np.array(bike),
        bike_both_ways=np.array(bike_both), source=source,
    )


def _read_failure(exc: Exception, path: Path) -> str:
    """Say why a network file could not be read, without quoting the file.

    Parser messages may echo the file's text (``could not convert string to
    float: '...'``), so only the kind of failure and, for XML syntax, the
    position are given.
    """
    from xml.etree.ElementTree import ParseError
    from xml.parsers.expat import ExpatError

    if isinstance(exc, ParseError | ExpatError):
        line, column = getattr(exc, "position", None) or (getattr(exc, "lineno", "?"), getattr(exc, "offset", "?"))
        return f"the file is not well-formed XML (line {line}, column {column})"
    if type(exc).__name__ == "InsufficientResponseError":
        return "the file holds no OSM nodes or ways"
    kind = "GraphML" if path.suffix.lower() == ".graphml" else "OSM XML"
    return f"the file is not {kind} that OSMnx can read ({type(exc).__name__})"


def load_network(source: str | Path, *, cache_dir: Path | None = None) -> RoadNetwork:
    """Load a road network from OSM XML, GraphML or (online) a place name.

    Processed networks are cached in ``cache_dir`` keyed by the file's SHA-1,
    so a second load skips OSMnx entirely.

    Parameters
    ----------
    source
        An ``.osm``/``.xml`` (OSM XML) or ``.graphml`` file, or a place name
        such as ``"Cambridge, UK"`` (needs internet).
    cache_dir
        Folder for cached networks, or ``None`` for no cache.

    Returns
    -------
    RoadNetwork
        The network.

    Raises
    ------
    NetworkError
        If the file is missing, unreadable or has no roads. The message names the
        network and never quotes the file's content.
    """
    path = Path(source)
    if path.exists():
        digest = file_digest(path)
        name = path.name
    else:
        digest = hashlib.sha1(f"place:{source}".encode()).hexdigest()
        name = str(source)
    # The cached arrays hold drive speeds, so the speed table is part of the key.
    key = hashlib.sha1(repr((digest, NETWORK_FORMAT, sorted(UK_SPEEDS_KPH.items()), FALLBACK_KPH)).encode()).hexdigest()
    cache_file = cache_dir / f"network-{key}-v{NETWORK_FORMAT}.npz" if cache_dir else None
    if cache_file is not None and cache_file.exists():
        try:
            with np.load(cache_file) as data:
                log.info("network cache hit: %s", cache_file)
                return RoadNetwork(name=name, digest=digest, source=path if path.exists() else None,
                                   **{k: data[k] for k in data.files})
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable network cache %s: %s", cache_file, exc)
    try:
        G, _ = _read_graph(source)
    except NetworkError:
        raise
    except Exception as exc:  # noqa: BLE001 - parser errors come in many types
        raise NetworkError(f"could not read network {name}: {_read_failure(exc, path)}") from exc
    network = network_from_graph(G, name=name, digest=digest, source=path if path.exists() else None)
    if cache_file is not None:
        write_npz(cache_file, network.arrays())
        log.info("network cache written: %s", cache_file)
    return network
