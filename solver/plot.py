"""Draw a roster's routes over the road network, with matplotlib.

:func:`draw_roster` returns a :class:`matplotlib.figure.Figure` made without
``pyplot`` (no global state, safe in a server); ``fig.savefig("map.png")`` or
``"map.svg"`` picks the Agg or SVG backend by the file's suffix. In SVG output
each worker's route is one group, ``<g id="route-<worker id>">``, its stops
``stops-<worker id>``, its start and end ``home-<worker id>``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scheduler.errors import Problem, UnknownReferenceError
from scheduler.model import Location, Plan
from scheduler.roster import Roster, Route
from scheduler.text import counted
from solver.geometry import network_lines, route_paths

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from solver.network import RoadNetwork

__all__ = ["ATTRIBUTION_TEXT", "DPI", "draw_roster", "save_figure", "worker_colours"]

ATTRIBUTION_TEXT = "© OpenStreetMap contributors, ODbL"
DPI = 100
ROAD_COLOUR = "#c8c8c8"
UNASSIGNED_COLOUR = "#e00000"
#: Where the map sits in the figure (left, bottom, width, height); the legend takes the right.
MAP_BOX = (0.01, 0.01, 0.79, 0.94)
MARGIN = 0.04


def worker_colours(n: int) -> list[str]:
    """Return ``n`` distinct colours (hex), strong ones first, none of them the unassigned red.

    Parameters
    ----------
    n
        How many.

    Returns
    -------
    list of str
        Colours; past 47 they repeat.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    strong = [to_hex(c) for c in colormaps["tab10"].colors]
    palette = [c for c in strong if c != "#d62728"]
    palette += [to_hex(c) for c in colormaps["Dark2"].colors]
    palette += [to_hex(c) for c in colormaps["tab20b"].colors[::2]]
    palette += [to_hex(c) for c in colormaps["tab20"].colors[1::2] if to_hex(c) != "#ff9896"]
    palette += [to_hex(c) for c in colormaps["tab20c"].colors[::4]]
    return [palette[i % len(palette)] for i in range(n)]


def _extent(points: np.ndarray, box_px: tuple[float, float]) -> tuple[float, float, float, float]:
    """Return (west, south, east, north) around ``points`` (lon, lat), padded to the box's shape."""
    west, south = points.min(axis=0)
    east, north = points.max(axis=0)
    squash = math.cos(math.radians((south + north) / 2))  # metres per degree of lon vs lat
    width = max(east - west, 1e-4) * (1 + 2 * MARGIN)
    height = max(north - south, 1e-4) * (1 + 2 * MARGIN)
    ratio = box_px[0] / box_px[1]
    if width * squash / height < ratio:
        width = height * ratio / squash
    else:
        height = width * squash / ratio
    cx, cy = (west + east) / 2, (south + north) / 2
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _lon_lat(locations: Sequence[Location]) -> np.ndarray:
    return np.array([(p.lon, p.lat) for p in locations], dtype=float).reshape(-1, 2)


def draw_roster(
    plan: Plan,
    roster: Roster,
    network: RoadNetwork,
    *,
    worker_ids: Sequence[str] | None = None,
    size_px: tuple[int, int] = (1600, 1200),
    title: str | None = None,
) -> Figure:
    """Draw the roads, each worker's routes over them, their stops and the unassigned visits.

    Parameters
    ----------
    plan
        The plan the roster serves.
    roster
        The roster.
    network
        The road network the roster was solved on.
    worker_ids
        Draw only these workers' routes, in the roster's order; ``None`` draws all.
    size_px
        Width and height of the image (pixels at :data:`DPI`).
    title
        Title above the map; by default the date, visits served and the network.

    Returns
    -------
    matplotlib.figure.Figure
        The map: roads in light grey, one colour per worker, stops as dots, starts
        and ends as squares, unassigned visits as red crosses, a legend and the
        OpenStreetMap attribution.

    Raises
    ------
    UnknownReferenceError
        If a worker id is not in the plan (the message lists those it has).
    """
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    unknown = [w for w in worker_ids or () if not plan.has_worker(w)]
    if unknown:
        known = ", ".join(w.id for w in plan.workers) or "none"
        raise UnknownReferenceError([Problem("worker", w, None, "no such worker in the plan; its "
                                             f"workers are: {known}") for w in unknown])
    routed = [r for r in roster.routes if r.stops and plan.has_worker(r.worker_id)]
    chosen = [r for r in routed if worker_ids is None or r.worker_id in worker_ids]
    colour = dict(zip((r.worker_id for r in chosen), worker_colours(len(chosen)), strict=True))
    paths = route_paths(plan, roster, network=network)
    left_out = [u for u in roster.unassigned if plan.has_visit(u.visit_id)]
    crosses = _lon_lat([plan.visit_location(plan.visit(u.visit_id)) for u in left_out])

    def places(route: Route) -> np.ndarray:
        return _lon_lat([plan.visit_location(plan.visit(s.visit_id)) for s in route.stops])

    def homes(route: Route) -> np.ndarray:
        w = plan.worker(route.worker_id)
        return _lon_lat([w.start_location, w.end_location])

    def lines(route: Route) -> list[np.ndarray]:
        """Return the legs over the roads, each joined at both ends to the doors it links."""
        doors = np.concatenate([homes(route)[:1], places(route), homes(route)[1:]])
        return [np.concatenate([doors[i:i + 1], np.array(leg), doors[i + 1:i + 2]])
                for i, leg in enumerate(paths[route.worker_id])]

    drawn = {r.worker_id: lines(r) for r in chosen}
    seen = [leg for legs in drawn.values() for leg in legs]
    if worker_ids is None:
        seen.append(crosses)
    width, height = size_px
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    ax = fig.add_axes(MAP_BOX)
    points = np.concatenate(seen) if seen else np.column_stack([network.lon, network.lat])
    bbox = _frame(ax, points, (MAP_BOX[2] * width, MAP_BOX[3] * height))
    roads = network_lines(network, bbox=bbox)
    ax.add_collection(LineCollection(roads, colors=ROAD_COLOUR, linewidths=0.6, zorder=1,
                                     gid="network"))
    handles = []
    for r in chosen:
        c = colour[r.worker_id]
        ax.add_collection(LineCollection(drawn[r.worker_id], colors=c, linewidths=1.8, alpha=0.85,
                                         zorder=2, gid=f"route-{r.worker_id}"))
        ax.scatter(*places(r).T, s=18, c=c, edgecolors="white", linewidths=0.6, zorder=3,
                   gid=f"stops-{r.worker_id}")
        ax.scatter(*homes(r).T, s=34, marker="s", c=c, edgecolors="black", linewidths=0.7,
                   zorder=3, gid=f"home-{r.worker_id}")
        mode = plan.worker(r.worker_id).travel_mode
        handles.append((c, f"{r.worker_id} {mode}, {counted(len(r.stops), 'visit')}"))
    if len(crosses):
        ax.scatter(*crosses.T, s=80, marker="x", c=UNASSIGNED_COLOUR, linewidths=2.4, zorder=4,
                   gid="unassigned")
    _legend(fig, handles, len(crosses), height)
    ax.text(0.995, 0.005, ATTRIBUTION_TEXT, transform=ax.transAxes, ha="right", va="bottom",
            fontsize=8, color="#333333", zorder=5,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 2})
    k = roster.kpis
    count = (f"{len(chosen)} of {counted(len(routed), 'worker')}" if worker_ids is not None
             else counted(len(routed), "worker"))
    ax.set_title(title or f"Roster for {roster.date.isoformat()}: {k.assigned}/{counted(k.visits, 'visit')} "
                 f"served, {count} ({network.name})", loc="left", fontsize=11)
    return fig


def _frame(ax: Axes, points: np.ndarray, box_px: tuple[float, float]) -> tuple[float, ...]:
    """Frame the map around ``points`` at true scale; return its (west, south, east, north)."""
    west, south, east, north = _extent(points, box_px)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / math.cos(math.radians((south + north) / 2)), adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#999999")
    return west, south, east, north


def _legend(fig: Figure, workers: list[tuple[str, str]], unassigned: int, height_px: int) -> None:
    """Add the legend right of the map: one line per worker, then the symbols."""
    from matplotlib.lines import Line2D

    grey = "#555555"
    handles = [Line2D([], [], color=c, linewidth=2.5, label=label) for c, label in workers]
    handles += [
        Line2D([], [], color=grey, marker="o", linestyle="", markersize=5, label="visit"),
        Line2D([], [], color=grey, marker="s", markeredgecolor="black", linestyle="", markersize=6,
               label="start / end"),
        Line2D([], [], color=UNASSIGNED_COLOUR, marker="x", linestyle="", markersize=8,
               markeredgewidth=2.4, label=f"unassigned ({unassigned})"),
        Line2D([], [], color=ROAD_COLOUR, linewidth=1.5, label="roads"),
    ]
    rows = max(1, int(height_px * 0.85 / 15))
    fig.legend(handles=handles, loc="upper left", ncol=math.ceil(len(handles) / rows),
               bbox_to_anchor=(MAP_BOX[0] + MAP_BOX[2] + 0.01, 0.96), fontsize=8, frameon=False,
               title="Workers", title_fontsize=9, alignment="left")


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write a figure to a file whose suffix names its format (``.png``, ``.svg``, ``.pdf``…).

    A PNG is written as a 256-colour palette image: about a fifth of the size of
    matplotlib's true-colour PNG for a road map, with no visible difference. SVG
    keeps its text as ``<text>`` elements.

    Parameters
    ----------
    fig
        The figure, at its own size and dpi.
    path
        Where to write it; its folder is created.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        If matplotlib cannot write the suffix's format.
    """
    from matplotlib import rc_context
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() != ".png":
        with rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable, smaller
            fig.savefig(path, dpi=fig.dpi)
        return path
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        palette.save(path, optimize=True)
    return path
