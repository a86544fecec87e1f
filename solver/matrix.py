"""Travel-time and distance matrices over a road network, with SciPy's compiled Dijkstra.

For the unique snapped nodes of a list of locations, :func:`travel_matrices`
runs :func:`scipy.sparse.csgraph.dijkstra` on the travel mode's CSR graph (in
chunks of sources, to bound memory), and measures the length of each fastest
path by pointer jumping over the shortest-path tree: no Python loop touches a
node pair.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csgraph

from scheduler.errors import NetworkError
from solver import cache
from solver.network import CYCLE_KPH, FALLBACK_KPH, NETWORK_FORMAT, UK_SPEEDS_KPH, WALK_KPH, RoadNetwork, Snap

log = logging.getLogger("homecare.matrix")

MATRIX_FORMAT = 1
DEFAULT_CHUNK = 256


@dataclass(frozen=True)
class TravelMatrix:
    """Travel between locations for one travel mode.

    ``time_s[i, j]`` and ``distance_m[i, j]`` are the time (whole seconds) and
    length (whole metres) of the fastest road route from location ``i`` to
    location ``j`` (between their snapped nodes). The diagonal is zero.
    """

    mode: str
    time_s: np.ndarray
    distance_m: np.ndarray
    snap: Snap


def _fastest_path_lengths(graph_time, graph_length, sources: np.ndarray, targets: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Return (seconds, metres) of fastest paths from each source to each target node."""
    n = graph_time.shape[0]
    seconds, pred = csgraph.dijkstra(graph_time, directed=True, indices=sources, return_predecessors=True)
    rows = np.arange(len(sources))[:, None]
    cols = np.broadcast_to(np.arange(n), pred.shape)
    has_parent = pred >= 0
    # Length of the tree edge into each node: look (parent, node) up in the CSR arrays.
    length = graph_length.tocsr()
    length.sort_indices()
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(length.indptr)) * n + length.indices
    wanted = pred[has_parent].astype(np.int64) * n + cols[has_parent]
    acc = np.zeros(pred.shape)
    acc[has_parent] = length.data[np.searchsorted(keys, wanted)]
    # Pointer jumping: after k rounds each node holds the length of its last 2^k tree edges.
    parent = np.where(has_parent, pred, -1)
    while (parent >= 0).any():
        live = parent >= 0
        safe = np.where(live, parent, 0)
        acc = acc + np.where(live, acc[rows, safe], 0.0)
        parent = np.where(live, parent[rows, safe], -1)
    return seconds[:, targets], acc[:, targets]


def travel_matrices(
    network: RoadNetwork,
    lat: np.ndarray,
    lon: np.ndarray,
    mode: str,
    *,
    cache_dir: Path | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> TravelMatrix:
    """Compute travel-time and distance matrices between locations for one travel mode.

    Parameters
    ----------
    network
        The road network.
    lat, lon
        Latitudes and longitudes of the locations (degrees).
    mode
        ``drive``, ``walk`` or ``cycle``.
    cache_dir
        Folder for cached matrices keyed by network hash, mode, speeds and
        locations; ``None`` for no cache.
    chunk
        Sources per Dijkstra call (memory grows as ``chunk`` x network nodes).
    progress
        Called with (sources done, sources in all) as the work advances.

    Returns
    -------
    TravelMatrix
        Whole seconds and metres between every ordered pair of locations.

    Raises
    ------
    NetworkError
        If some pair of snapped nodes has no route (should not happen: snapping
        uses the largest strongly connected component).
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    key = cache.cache_key(
        "matrix", MATRIX_FORMAT, NETWORK_FORMAT, network.digest, mode, sorted(UK_SPEEDS_KPH.items()),
        FALLBACK_KPH, WALK_KPH, CYCLE_KPH, lat, lon,
    )
    hit = cache.load_arrays(cache_dir, f"matrix-{mode}", key)
    if hit is not None:
        if progress:
            progress(1, 1)
        return TravelMatrix(mode, hit["time_s"], hit["distance_m"], Snap(hit["snap_node"], hit["snap_distance_m"]))
    graph = network.mode(mode)
    snap = network.snap(lat, lon, mode)
    nodes, inverse = np.unique(snap.node, return_inverse=True)
    k = len(nodes)
    seconds = np.empty((k, k))
    metres = np.empty((k, k))
    for start in range(0, k, chunk):
        block = nodes[start:start + chunk]
        seconds[start:start + len(block)], metres[start:start + len(block)] = _fastest_path_lengths(
            graph.time_s, graph.length_m, block, nodes)
        if progress:
            progress(min(start + chunk, k), k)
    if not np.isfinite(seconds).all():
        raise NetworkError(f"network {network.name}: some snapped {mode} nodes have no route between them")
    time_s = np.rint(seconds).astype(np.int64)[np.ix_(inverse, inverse)]
    distance_m = np.rint(metres).astype(np.int64)[np.ix_(inverse, inverse)]
    log.info("%s matrix: %d locations, %d unique nodes", mode, len(lat), k)
    cache.save_arrays(cache_dir, f"matrix-{mode}", key, time_s=time_s, distance_m=distance_m,
                      snap_node=snap.node, snap_distance_m=snap.distance_m)
    return TravelMatrix(mode, time_s, distance_m, snap)
