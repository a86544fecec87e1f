"""VRPTW instances (Solomon, Gehring & Homberger), the DIMACS convention, and an independent checker.

The checker here shares no code with the OR-Tools model (:mod:`solver.bench.vrptw`) or
the peers: it recomputes every route from the instance data alone, so a solver's
own report of its cost or feasibility is never trusted.

DIMACS convention (CVRPLIB, the DIMACS 2021 challenge, PyVRP's ``round_func="dimacs"``):
every arc's length is the Euclidean distance truncated to one decimal,
``floor(10 d) / 10``, and the same number is the arc's travel time. The objective
is total distance only; vehicles are free up to the fleet size. Internally we
work in tenths, so every number is an integer and the arithmetic is exact.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scheduler.errors import SchedulerError
from scheduler.text import counted

#: Solomon's six classes, in the order results are reported.
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


class InstanceError(SchedulerError, ValueError):
    """A benchmark instance or solution file could not be read."""


@dataclass(frozen=True, slots=True, eq=False)
class VrptwInstance:
    """A capacitated VRP with time windows in Solomon's text format.

    Node 0 is the depot; nodes ``1..n`` are customers (their ids in the file).
    Times, windows and coordinates are in the file's units.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray
    fleet: int
    capacity: int
    _tenths: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def n_customers(self) -> int:
        """Number of customers (nodes other than the depot)."""
        return len(self.x) - 1

    @property
    def cls(self) -> str:
        """Solomon class (``C1``, ``R2``, ``RC1``...) from the name."""
        m = re.match(r"(RC|R|C)(\d)", self.name.upper())
        return f"{m.group(1)}{m.group(2)}" if m else ""

    def tenths(self) -> np.ndarray:
        """Arc lengths (= travel times) under the DIMACS convention, in tenths (int64).

        ``floor(10 * d)`` with a tiny epsilon against floating-point noise, so
        that e.g. an exact 3.0 is never truncated to 2.9.
        """
        if not self._tenths:
            dx = self.x[:, None] - self.x[None, :]
            dy = self.y[:, None] - self.y[None, :]
            self._tenths.append(np.floor(10.0 * np.hypot(dx, dy) + 1e-9).astype(np.int64))
        return self._tenths[0]

    def tenths_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Service times, ready times and due dates in tenths (int64), as every model and the checker use them."""
        def scale(a: np.ndarray) -> np.ndarray:
            return np.round(np.asarray(a, dtype=float) * 10).astype(np.int64)

        return scale(self.service), scale(self.ready), scale(self.due)


def open_text(path: Path) -> str:
    """Read a text file, gunzipping it if its name ends in .gz."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def read_solomon(path: str | Path) -> VrptwInstance:
    """Read a Solomon or Gehring & Homberger instance (text format, optionally gzipped).

    Parameters
    ----------
    path
        The ``.txt`` (or ``.txt.gz``) file.

    Returns
    -------
    VrptwInstance
        The instance; its name is the file's first line (upper case).

    Raises
    ------
    InstanceError
        If the file is missing a section or a row is malformed; the message
        names the file and line.
    """
    path = Path(path)
    try:
        lines = open_text(path).splitlines()
    except OSError as exc:
        raise InstanceError(f"{path}: cannot read instance: {exc.strerror or exc}") from None
    name = lines[0].strip().upper() if lines else ""
    fleet = capacity = None
    rows: list[list[float]] = []
    section = ""
    for lineno, raw in enumerate(lines[1:], start=2):
        text = raw.strip()
        upper = text.upper()
        if not text:
            continue
        if upper.startswith(("VEHICLE", "CUSTOMER")):
            section = upper.split()[0]
            continue
        if upper.startswith(("NUMBER", "CUST NO")):
            continue
        parts = text.split()
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise InstanceError(f"{path}:{lineno}: expected numbers, got {text!r}") from None
        if section == "VEHICLE" and fleet is None:
            if len(values) != 2:
                raise InstanceError(f"{path}:{lineno}: VEHICLE row needs NUMBER and CAPACITY, got {text!r}")
            fleet, capacity = int(values[0]), int(values[1])
        elif section == "CUSTOMER":
            if len(values) != 7:
                raise InstanceError(f"{path}:{lineno}: customer row needs 7 numbers "
                                    f"(id x y demand ready due service), got {len(values)}")
            rows.append(values)
        else:
            raise InstanceError(f"{path}:{lineno}: unexpected line {text!r} outside VEHICLE/CUSTOMER sections")
    if fleet is None or capacity is None:
        raise InstanceError(f"{path}: no VEHICLE section (NUMBER CAPACITY)")
    if len(rows) < 2:
        raise InstanceError(f"{path}: CUSTOMER section needs the depot and at least one customer")
    data = np.array(rows)
    ids = data[:, 0].astype(int)
    if not np.array_equal(ids, np.arange(len(ids))):
        raise InstanceError(f"{path}: customer ids must run 0..{len(ids) - 1} in order (0 = depot)")
    bad = np.flatnonzero(data[:, 5] < data[:, 4])
    if bad.size:
        i = int(bad[0])
        raise InstanceError(f"{path}: customer {i}: due date {data[i, 5]:g} is before ready time {data[i, 4]:g}")
    return VrptwInstance(
        name=name or path.stem.upper(), x=data[:, 1], y=data[:, 2], demand=data[:, 3].astype(np.int64),
        ready=data[:, 4], due=data[:, 5], service=data[:, 6], fleet=fleet, capacity=capacity)


def read_cvrplib_solution(path: str | Path) -> tuple[list[list[int]], float | None]:
    """Read a CVRPLIB ``.sol`` file: ``Route #k: ids`` lines and an optional ``Cost`` line."""
    routes: list[list[int]] = []
    cost = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("Route"):
            routes.append([int(t) for t in line.split(":", 1)[1].split()])
        elif line.startswith("Cost"):
            cost = float(line.split()[1])
    return routes, cost


@dataclass(frozen=True, slots=True)
class VrptwCheck:
    """What the independent checker found.

    ``distance`` is in the instance's units under the DIMACS convention
    (the sum of truncated arcs), ``vehicles`` the number of non-empty routes.
    """

    feasible: bool
    distance: float
    vehicles: int
    violations: tuple[str, ...]


def check_vrptw(inst: VrptwInstance, routes: list[list[int]]) -> VrptwCheck:
    """Check routes against every VRPTW rule and return their DIMACS distance.

    Rules: every customer exactly once; no more routes than the fleet; load within
    capacity; service starts no earlier than the ready time (waiting is allowed) and
    no later than the due date; each route back at the depot by its due date.
    Travel time equals the truncated distance; service times come from the file.

    Parameters
    ----------
    inst
        The instance.
    routes
        Customer ids per vehicle, depot excluded; empty routes are ignored.

    Returns
    -------
    VrptwCheck
        Feasibility, violations (each naming route and customer), distance and routes used.
    """
    d = inst.tenths()
    service, ready, due = inst.tenths_times()
    violations: list[str] = []
    seen: dict[int, int] = {}
    total = 0
    used = [r for r in routes if r]
    if len(used) > inst.fleet:
        violations.append(f"{counted(len(used), 'route')} used but the fleet has {counted(inst.fleet, 'vehicle')}")
    for k, route in enumerate(used, start=1):
        load = 0
        t = ready[0]
        prev = 0
        for c in route:
            if not 1 <= c <= inst.n_customers:
                violations.append(f"route {k}: customer {c} does not exist")
                continue
            if c in seen:
                violations.append(f"route {k}: customer {c} already served on route {seen[c]}")
            seen[c] = k
            total += int(d[prev, c])
            t = max(t + service[prev] + d[prev, c], ready[c])
            if t > due[c]:
                violations.append(f"route {k}: customer {c} starts at {t / 10:g}, after its due date {due[c] / 10:g}")
            load += int(inst.demand[c])
            prev = c
        total += int(d[prev, 0])
        back = t + service[prev] + d[prev, 0]
        if back > due[0]:
            violations.append(f"route {k}: back at the depot at {back / 10:g}, after its due date {due[0] / 10:g}")
        if load > inst.capacity:
            violations.append(f"route {k}: load {load} exceeds capacity {inst.capacity}")
    missing = sorted(set(range(1, inst.n_customers + 1)) - set(seen))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        violations.append(f"{counted(len(missing), 'customer')} not served: {shown}")
    return VrptwCheck(not violations, total / 10, len(used), tuple(violations))


def load_vrptw_bks(path: str | Path) -> dict[str, float]:
    """Read DIMACS distance-only best-known values, keyed by upper-case instance name.

    Accepts the Solomon table (column ``dimacs_opt_distance``) and the Gehring &
    Homberger table (column ``dimacs_distance``) of ``benchmarks-data``.
    """
    out: dict[str, float] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            value = row.get("dimacs_opt_distance") or row.get("dimacs_distance")
            if value:
                out[row["instance"].upper()] = float(value)
    if not out:
        raise InstanceError(f"{path}: no dimacs_opt_distance or dimacs_distance column")
    return out


def instance_files(root: str | Path, pattern: str = "*.txt") -> list[Path]:
    """List instance files under ``root`` (a file or a folder), in Solomon class order, then by name."""
    root = Path(root)
    if root.is_file():
        return [root]
    files = sorted(root.glob(pattern)) or sorted(root.glob(pattern + ".gz"))
    if not files:
        raise InstanceError(f"{root}: no instance files matching {pattern}")

    def key(p: Path) -> tuple:
        m = re.match(r"(RC|R|C)(\d)_?(\d+)?_?(\d+)?", p.name.upper())
        cls = f"{m.group(1)}{m.group(2)}" if m else ""
        nums = [int(g) for g in (m.groups()[2:] if m else ()) if g]
        return (CLASSES.index(cls) if cls in CLASSES else 99, *nums, p.name)

    return sorted(files, key=key)


def gap_pct(value: float, bks: float) -> float:
    """Percentage gap of ``value`` above ``bks``."""
    return math.nan if not bks or math.isnan(value) else 100.0 * (value - bks) / bks
