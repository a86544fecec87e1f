"""Generate a day of visits on a real road network.

:func:`generate_day` picks candidate sites (road nodes every travel mode can
route between, in the central part of the network) and hands them to
:func:`scheduler.generate.generate_plan`. Map data © OpenStreetMap
contributors, ODbL 1.0.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np

from scheduler.errors import NetworkError
from scheduler.generate import DEFAULT_DATE, DayProfile, generate_plan
from scheduler.generate import generate_week as generate_week_on_sites
from scheduler.model import TRAVEL_MODES, Plan
from solver.network import RoadNetwork, load_network

log = logging.getLogger("homecare.generate")

#: Sites lie within this distance of the network's centroid (metres), so that travel
#: stays town-like (docs/DOMAIN.md: about 3 miles between visits).
SITE_RADIUS_M = 4000.0
#: Default seed of the bundled plans.
DEFAULT_SEED = 20261124


def candidate_sites(network: RoadNetwork, *, radius_m: float = SITE_RADIUS_M) -> np.ndarray:
    """Return the nodes where clients and workers may live, sorted by OSM id.

    A site is routable by every travel mode (``drive``, ``walk`` and ``cycle``:
    each mode's largest strongly connected component) and lies within
    ``radius_m`` of the centroid of the network's nodes.

    Parameters
    ----------
    network
        The road network.
    radius_m
        Largest straight-line distance from the centroid (metres).

    Returns
    -------
    numpy.ndarray
        Node indices into ``network.lat``/``network.lon``, in a stable order
        (OSM id, then latitude and longitude) that does not depend on how the
        file was parsed.

    Raises
    ------
    NetworkError
        If no node is routable by every mode within ``radius_m``.
    """
    common = network.mode(TRAVEL_MODES[0]).routable
    for mode in TRAVEL_MODES[1:]:
        common = np.intersect1d(common, network.mode(mode).routable)
    centre = network.project(np.array([network.lat.mean()]), np.array([network.lon.mean()]))[0]
    xy = network.project(network.lat[common], network.lon[common])
    sites = common[np.hypot(*(xy - centre).T) <= radius_m]
    if len(sites) == 0:
        raise NetworkError(
            f"network {network.name} has no node routable by {', '.join(TRAVEL_MODES)} "
            f"within {radius_m / 1000:g} km of its centre")
    order = np.lexsort((network.lon[sites], network.lat[sites], network.osmid[sites]))
    return sites[order]


def generate_day(
    network_path: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    n_visits: int = 300,
    n_workers: int | None = None,
    date: dt.date | str = DEFAULT_DATE,
    cache_dir: Path | None = None,
    radius_m: float = SITE_RADIUS_M,
    profile: DayProfile | None = None,
    network_file: str | Path | None = None,
) -> Plan:
    """Generate a realistic day of visits on a road network file.

    Parameters
    ----------
    network_path
        OSM XML or GraphML file; written into the plan's ``network`` field as given
        (keep it relative, e.g. ``fixtures/networks/cambridge_drive.osm``).
    seed
        Seed of the generator: the same seed and network give an equal plan.
    n_visits
        Number of visits.
    n_workers
        Number of workers, or ``None`` to size the workforce from the demand (see
        :func:`scheduler.generate.generate_plan`).
    date
        The plan's date.
    cache_dir
        Network cache folder, or ``None``.
    radius_m
        Sites lie within this distance of the network's centroid (metres).
    profile
        Shares and load targets, or ``None`` for the defaults.
    network_file
        Where to read the network from when ``network_path`` does not lead there
        from the current folder (e.g. its resolved bundled copy); ``None`` reads
        ``network_path``. The plan still names ``network_path``.

    Returns
    -------
    Plan
        The validated plan, with ``network`` set to ``str(network_path)``.

    Raises
    ------
    NetworkError
        If the network cannot be read or has no suitable sites.
    ValueError
        If ``n_workers`` is too small for ``n_visits`` (see :func:`~scheduler.generate.generate_plan`).
    """
    network = load_network(network_file if network_file is not None else network_path, cache_dir=cache_dir)
    sites = candidate_sites(network, radius_m=radius_m)
    log.info("generating %d visits on %d sites of %s (seed %d)", n_visits, len(sites), network.name, seed)
    return generate_plan(network.lat[sites], network.lon[sites], seed=seed, n_visits=n_visits,
                         n_workers=n_workers, date=date, network=str(network_path), profile=profile)


def generate_week(
    network_path: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    n_visits: int = 300,
    start: dt.date | str = DEFAULT_DATE,
    days: int = 7,
    cache_dir: Path | None = None,
    radius_m: float = SITE_RADIUS_M,
    profile: DayProfile | None = None,
    network_file: str | Path | None = None,
) -> list[Plan]:
    """Generate a week of plans on a road network file, one per date (:func:`scheduler.generate.generate_week`).

    Parameters
    ----------
    network_path
        OSM XML or GraphML file, written into each plan's ``network`` as given.
    seed
        Seed of the generator: the same seed and network give equal plans.
    n_visits
        Visits of the week's base day (each date has every care call and a share of the rest).
    start
        The first date.
    days
        Number of dates.
    cache_dir
        Network cache folder, or ``None``.
    radius_m
        Sites lie within this distance of the network's centroid (metres).
    profile
        Shares and load targets, or ``None`` for the defaults (equipment installations on).
    network_file
        Where to read the network from, if not ``network_path`` (see :func:`generate_day`).

    Returns
    -------
    list of Plan
        One validated plan per date, in date order.

    Raises
    ------
    NetworkError
        If the network cannot be read or has no suitable sites.
    ValueError
        If ``days`` or ``n_visits`` is out of range.
    """
    network = load_network(network_file if network_file is not None else network_path, cache_dir=cache_dir)
    sites = candidate_sites(network, radius_m=radius_m)
    log.info("generating %d days from %s on %s (seed %d)", days, start, network.name, seed)
    return generate_week_on_sites(network.lat[sites], network.lon[sites], seed=seed, n_visits=n_visits,
                                  start=start, days=days, network=str(network_path), profile=profile)
