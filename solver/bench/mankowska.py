"""Mankowska, Meisel & Bierwirth (2014) home health care routing and scheduling (HHCRSP).

The 70 benchmark instances (families A–G of 10 instances with 10, 25, 50, 75, 100,
200 and 300 patients) in the "InstanzCPLEX" text format, an independent checker of
solutions and the best-known table (the runner is
:func:`solver.bench.harness.run_mankowska`).

Conventions, as in the paper and in Ceschia et al. (ITOR 2024), whose stored best
solutions this checker re-scores exactly (``tests/solver/test_hhcrsp.py``):

* nodes are numbered as in the file: node 0 is the depot where every caregiver
  starts, nodes 1..n are the patients, node n+1 is the depot again (where every
  caregiver ends); travel time equals distance (``d``, Euclidean, not rounded);
* a patient needs one service, or two (a *double-service* patient, listed in
  ``DS``); the two services of patient i, in service-index order s1 < s2, start
  by two different caregivers with ``mind[i] <= start(s2) - start(s1) <= maxd[i]``
  (``mind == maxd == 0``: simultaneous);
* a caregiver may serve service s only if ``a[caregiver, s] == 1``; serving
  service s at node i takes ``p[i, caregiver, s]``;
* service may not start before ``e[i]``; starting after ``l[i]`` is allowed and
  costs tardiness ``start - l[i]``; caregivers leave the depot at or after
  ``e[0]`` (0) and may return at any time;
* objective = (total distance + total tardiness + maximum tardiness) / 3, the
  tardiness taken over every (patient, service) start.

Ids in messages are those of the Ceschia JSON files: caregiver index k is ``c{k+1}``,
patient node i is ``p{i}``, service index s is ``s{s+1}``.

Nothing in this module imports OR-Tools or the model (:mod:`solver.bench.hhcrsp`), which
imports this module: the checker stays independent of what it checks.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from scheduler.errors import Problem, SchemaError
from scheduler.text import counted
from solver.bench.instances import open_text

SUITE = "mankowska"
#: Family letter by number of patients.
FAMILIES = {10: "A", 25: "B", 50: "C", 75: "D", 100: "E", 200: "F", 300: "G"}
#: Sections of the text format, in file order.
SECTIONS = ("nbNodes", "nbVehi", "nbServi", "r", "DS", "a", "x", "y", "d", "p", "mind", "maxd", "e", "l")
_FILE_NAME = re.compile(r"Instanz(?:CPLEX|VNS)_HCSRP_(\d+)_(\d+)")


def instance_name(path: str | Path) -> str:
    """Return the best-known table's name of an instance file (``A1`` … ``G10``).

    Parameters
    ----------
    path
        A file named like ``InstanzCPLEX_HCSRP_10_1.txt.gz`` (any extension).

    Returns
    -------
    str
        Family letter and number, or the file's stem when the name does not match.
    """
    stem = Path(path).name.split(".")[0]
    m = _FILE_NAME.fullmatch(stem)
    if m is None or int(m.group(1)) not in FAMILIES:
        return stem
    return f"{FAMILIES[int(m.group(1))]}{int(m.group(2))}"


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class MankowskaInstance:
    """One HHCRSP instance; arrays are read-only.

    Parameters
    ----------
    name
        ``A1`` … ``G10`` (see :func:`instance_name`).
    n_caregivers
        Caregivers (``nbVehi``), each a route from node 0 to node n+1.
    distance
        Travel distance and time between nodes (``d``), shape (n+2, n+2).
    processing
        Service time (``p``) by node, caregiver and service, shape (n+2, caregivers, services).
    requires
        Whether node i needs service s (``r``), shape (n+2, services); the depot rows are ignored.
    double_service
        Nodes of the double-service patients (``DS``, stored 0-based), ascending.
    qualified
        Whether caregiver k may serve service s (``a``), shape (caregivers, services).
    min_gap, max_gap
        Least and most time from the first service's start to the second's at a
        double-service node (``mind``, ``maxd``), shape (n+2,).
    earliest, latest
        Time window (``e``, ``l``): service starts at or after ``earliest``, and is
        tardy after ``latest``, shape (n+2,).
    x, y
        Coordinates, shape (n+2,).
    source
        The file read.
    """

    name: str
    n_caregivers: int
    distance: np.ndarray
    processing: np.ndarray
    requires: np.ndarray
    double_service: np.ndarray
    qualified: np.ndarray
    min_gap: np.ndarray
    max_gap: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    x: np.ndarray
    y: np.ndarray
    source: str = ""

    @property
    def n_patients(self) -> int:
        """Number of patients (nodes 1..n)."""
        return int(self.distance.shape[0]) - 2

    @property
    def n_services(self) -> int:
        """Number of service types."""
        return int(self.requires.shape[1])

    @property
    def end_node(self) -> int:
        """Node where routes end (the depot's second copy, n+1)."""
        return self.n_patients + 1

    def services(self, patient: int) -> tuple[int, ...]:
        """Return the service indices patient ``patient`` needs, ascending."""
        return tuple(int(s) for s in np.flatnonzero(self.requires[patient]))

    def requirements(self) -> list[tuple[int, int]]:
        """Return every (patient, service) that must be served, by patient then service."""
        return [(i, s) for i in range(1, self.n_patients + 1) for s in self.services(i)]


def read_mankowska(path: str | Path) -> MankowskaInstance:
    """Read an instance in Mankowska's "InstanzCPLEX" text format (plain or gzipped).

    Parameters
    ----------
    path
        The ``.txt`` or ``.txt.gz`` file: sections ``nbNodes nbVehi nbServi r DS a
        x y d p mind maxd e l``, each a name line followed by rows of numbers;
        ``p`` has one row per (node, caregiver), node-major; ``DS`` numbers nodes from 1.

    Returns
    -------
    MankowskaInstance
        The instance, with nodes numbered from 0.

    Raises
    ------
    SchemaError
        If a section is missing, repeated, unknown, not numeric or of the wrong
        shape, or the requirements are inconsistent (a patient needing no service
        or more than two, a double-service patient not needing exactly two, a
        service nobody is qualified for, ``mind > maxd``). Every problem is listed,
        each naming the file and the section.
    """
    path = Path(path)
    problems: list[Problem] = []

    def bad(section: str | None, message: str) -> None:
        problems.append(Problem("instance", str(path), section, message if section is None
                                else f"section {section!r}: {message}"))

    rows: dict[str, list[list[float]]] = {}
    unreadable: set[str] = set()
    current: str | None = None
    for lineno, line in enumerate(open_text(path).splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if tokens[0][0].isalpha():
            current = tokens[0]
            if current not in SECTIONS:
                bad(current, f"unknown section on line {lineno}")
            elif current in rows:
                bad(current, f"appears again on line {lineno}")
            rows[current] = []
            continue
        if current is None:
            bad(None, f"numbers before the first section name on line {lineno}")
            continue
        try:
            rows[current].append([float(t) for t in tokens])
        except ValueError:
            bad(current, f"line {lineno} is not all numbers: {line.strip()[:60]!r}")
            unreadable.add(current)
    missing = [s for s in SECTIONS if s not in rows]
    if missing:
        bad(None, f"missing {'section' if len(missing) == 1 else 'sections'} {', '.join(missing)}")
        raise SchemaError(problems)

    def scalar(section: str) -> int:
        values = [v for row in rows[section] for v in row]
        if section in unreadable:
            return 1
        if len(values) != 1 or values[0] != int(values[0]) or values[0] < 1:
            bad(section, f"expected one positive whole number, got {values[:5]}")
            return 1
        return int(values[0])

    before = len(problems)
    n_nodes, n_cg, n_sv = scalar("nbNodes"), scalar("nbVehi"), scalar("nbServi")
    if {"nbNodes", "nbVehi", "nbServi"} & unreadable or len(problems) > before:
        raise SchemaError(problems)  # without the sizes no shape can be checked

    def matrix(section: str, n_rows: int, n_cols: int) -> np.ndarray:
        got = rows[section]
        if section in unreadable:
            return np.zeros((n_rows, n_cols))
        if len(got) != n_rows or any(len(r) != n_cols for r in got):
            widths = sorted({len(r) for r in got})
            bad(section, f"expected {n_rows} rows of {n_cols} numbers, got {len(got)} rows of {widths}")
            return np.zeros((n_rows, n_cols))
        return np.array(got, dtype=np.float64)

    def vector(section: str, n: int) -> np.ndarray:
        values = [v for row in rows[section] for v in row]
        if section in unreadable:
            return np.zeros(n)
        if len(values) != n:
            bad(section, f"expected {n} numbers, got {len(values)}")
            return np.zeros(n)
        return np.array(values, dtype=np.float64)

    r = matrix("r", n_nodes, n_sv)
    a = matrix("a", n_cg, n_sv)
    d = matrix("d", n_nodes, n_nodes)
    p = matrix("p", n_nodes * n_cg, n_sv).reshape(n_nodes, n_cg, n_sv)
    x, y = vector("x", n_nodes), vector("y", n_nodes)
    mind, maxd = vector("mind", n_nodes), vector("maxd", n_nodes)
    e, l_ = vector("e", n_nodes), vector("l", n_nodes)
    ds_values = [v for row in rows["DS"] for v in row]
    ds = np.array(sorted(int(v) - 1 for v in ds_values), dtype=np.int64)
    if problems:
        raise SchemaError(problems)

    n = n_nodes - 2
    for section, m in (("r", r), ("a", a)):
        if not np.isin(m, (0, 1)).all():
            bad(section, "entries must be 0 or 1")
    if any(v != int(v) for v in ds_values) or len(set(ds.tolist())) != len(ds) or (
            len(ds) and (ds.min() < 1 or ds.max() > n)):
        bad("DS", f"expected distinct patient numbers 2..{n + 1} (nodes counted from 1), got {ds_values}")
    for section, m in (("d", d), ("p", p), ("mind", mind), ("maxd", maxd), ("e", e), ("l", l_)):
        if not np.isfinite(m).all() or (m < 0).any():
            bad(section, "values must be finite and not negative")
    need = r[1:n + 1].sum(axis=1)
    double = set(ds.tolist())
    for i in range(1, n + 1):
        want = 2 if i in double else 1
        if need[i - 1] != want:
            kind = "double-service" if i in double else "single-service"
            bad("r", f"{kind} patient p{i} needs {int(need[i - 1])} services, expected {want}")
        if i in double and mind[i] > maxd[i]:
            bad("mind", f"patient p{i}: mind {mind[i]:g} is above maxd {maxd[i]:g}")
    for s in range(n_sv):
        if r[1:n + 1, s].any() and not a[:, s].any():
            bad("a", f"service s{s + 1} is needed but no caregiver is qualified for it")
    if problems:
        raise SchemaError(problems)

    return MankowskaInstance(
        name=instance_name(path), n_caregivers=n_cg, distance=_readonly(d), processing=_readonly(p),
        requires=_readonly(r.astype(bool)), double_service=_readonly(ds), qualified=_readonly(a.astype(bool)),
        min_gap=_readonly(mind), max_gap=_readonly(maxd), earliest=_readonly(e), latest=_readonly(l_),
        x=_readonly(x), y=_readonly(y), source=str(path))


def read_ceschia_instance(path: str | Path) -> MankowskaInstance:
    """Read an instance in the JSON format of Ceschia et al. (2024), plain or gzipped.

    The same 70 instances as the text format, with distances rounded to three
    decimals; it is here to cross-check :func:`read_mankowska` and to re-score
    Ceschia's solutions on the distances they used.

    Parameters
    ----------
    path
        A ``*.json[.gz]`` file: ``patients`` (``location``, ``time_window``,
        ``required_caregivers`` with ``service`` and ``duration``, ``synchronization``
        ``simultaneous`` or ``sequential`` with ``distance`` [min, max]), ``services``,
        ``caregivers`` with ``abilities``, ``central_offices`` (one) and ``distances``
        (office first, then the patients in order).

    Returns
    -------
    MankowskaInstance
        The instance; the depot's window is [0, inf), service times are the same for
        every caregiver, and ``min_gap``/``max_gap`` are 0 for single-service patients.

    Raises
    ------
    SchemaError
        If a key is missing or an id unknown.
    """
    path = Path(path)
    data = json.loads(open_text(path))
    try:
        services = {s["id"]: k for k, s in enumerate(data["services"])}
        n, n_cg, n_sv = len(data["patients"]), len(data["caregivers"]), len(services)
        d = np.zeros((n + 2, n + 2))
        d[:n + 1, :n + 1] = np.array(data["distances"], dtype=np.float64)
        d[n + 1, :] = d[0, :]
        d[:, n + 1] = d[:, 0]
        p = np.zeros((n + 2, n_cg, n_sv))
        r = np.zeros((n + 2, n_sv), dtype=bool)
        mind, maxd = np.zeros(n + 2), np.zeros(n + 2)
        e, l_ = np.zeros(n + 2), np.full(n + 2, np.inf)
        xy = np.zeros((n + 2, 2))
        xy[0] = xy[n + 1] = data["central_offices"][0]["location"]
        double = []
        for i, patient in enumerate(data["patients"], start=1):
            xy[i] = patient["location"]
            e[i], l_[i] = patient["time_window"]
            for need in patient["required_caregivers"]:
                s = services[need["service"]]
                r[i, s] = True
                p[i, :, s] = need["duration"]
            sync = patient.get("synchronization")
            if sync is not None:
                double.append(i)
                if sync["type"] == "sequential":
                    mind[i], maxd[i] = sync["distance"]
        a = np.zeros((n_cg, n_sv), dtype=bool)
        for k, caregiver in enumerate(data["caregivers"]):
            a[k, [services[s] for s in caregiver["abilities"]]] = True
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SchemaError([Problem("instance", str(path), None, f"not a Ceschia instance: {exc!r}")]) from exc
    return MankowskaInstance(
        name=instance_name(path), n_caregivers=n_cg, distance=_readonly(d), processing=_readonly(p),
        requires=_readonly(r), double_service=_readonly(np.array(double, dtype=np.int64)),
        qualified=_readonly(a), min_gap=_readonly(mind), max_gap=_readonly(maxd), earliest=_readonly(e),
        latest=_readonly(l_), x=_readonly(xy[:, 0].copy()), y=_readonly(xy[:, 1].copy()), source=str(path))


class MankowskaStop(NamedTuple):
    """One service in a caregiver's route."""

    patient: int
    """Patient node (1..n)."""
    service: int
    """Service index (0-based)."""
    start: float
    """Start of service (time units of the instance)."""


@dataclass(frozen=True)
class MankowskaSolution:
    """Routes of every caregiver, with start times.

    Parameters
    ----------
    routes
        One sequence of stops per caregiver (index k is caregiver ``c{k+1}``), in
        visiting order, depot legs implied.
    runtime_s
        Wall-clock seconds of the solve (``nan`` for solutions read from files).
    first_feasible_s
        Seconds from the start of the solve to the first solution (``nan`` if unknown).
    stats
        Solver figures (status, model objective, solutions found, strategy used).
    """

    routes: tuple[tuple[MankowskaStop, ...], ...]
    runtime_s: float = math.nan
    first_feasible_s: float = math.nan
    stats: dict[str, Any] = field(default_factory=dict)


def read_ceschia_solution(path: str | Path) -> MankowskaSolution:
    """Read a solution of Ceschia et al. (2024) in their JSON format (plain or gzipped).

    Parameters
    ----------
    path
        A ``sol-*.json[.gz]`` file: ``routes``, each with ``caregiver_id`` (``c1``…)
        and ``locations`` (``patient`` ``p1``…, ``service`` ``s1``…, ``arrival_time``,
        which is the start of service).

    Returns
    -------
    MankowskaSolution
        The routes; caregivers without a route get an empty one.

    Raises
    ------
    SchemaError
        If an id does not read as ``c<k>``, ``p<i>`` or ``s<j>``.
    """
    path = Path(path)
    data = json.loads(open_text(path))
    problems: list[Problem] = []

    def number(value: str, prefix: str) -> int:
        if not (isinstance(value, str) and value.startswith(prefix) and value[1:].isdigit()):
            problems.append(Problem("solution", str(path), prefix, f"id {value!r} is not {prefix}<number>"))
            return 0
        return int(value[1:])

    by_caregiver: dict[int, tuple[MankowskaStop, ...]] = {}
    for route in data.get("routes", []):
        k = number(route.get("caregiver_id"), "c") - 1
        by_caregiver[k] = tuple(
            MankowskaStop(number(loc.get("patient"), "p"), number(loc.get("service"), "s") - 1,
                          float(loc["arrival_time"]))
            for loc in route.get("locations", []))
    if problems:
        raise SchemaError(problems)
    n = max(by_caregiver, default=-1) + 1
    return MankowskaSolution(tuple(by_caregiver.get(k, ()) for k in range(n)))


@dataclass(frozen=True)
class MankowskaCheck:
    """What :func:`check_mankowska` found.

    Parameters
    ----------
    distance
        Total travel distance, depot legs included.
    total_tardiness, max_tardiness
        Sum and maximum over all served (patient, service) of ``max(0, start - l)``.
    violations
        Every broken rule, in words; empty when the solution is feasible.
    routes_used
        Caregivers with at least one stop.
    """

    distance: float
    total_tardiness: float
    max_tardiness: float
    violations: tuple[str, ...]
    routes_used: int

    @property
    def objective(self) -> float:
        """(distance + total tardiness + maximum tardiness) / 3."""
        return (self.distance + self.total_tardiness + self.max_tardiness) / 3.0

    @property
    def feasible(self) -> bool:
        """No rule is broken."""
        return not self.violations


def check_mankowska(
    inst: MankowskaInstance,
    solution: MankowskaSolution | Sequence[Sequence[tuple[int, int, float]]],
    *,
    tol: float = 1e-3,
) -> MankowskaCheck:
    """Check a solution against every rule of the problem and recompute its objective.

    Independent of the solver: it reads only the instance and the routes with start
    times. Rules: every stop names a patient and a service that patient needs, served
    by a qualified caregiver; each needed (patient, service) is served exactly once;
    no service starts before its window opens; along each route, a start is no
    earlier than the previous start plus its service time plus the travel between
    (the first stop: leaving the depot at ``e[0]``); the two services of a
    double-service patient are served by different caregivers, the second starting
    ``mind..maxd`` after the first.

    Parameters
    ----------
    inst
        The instance.
    solution
        A :class:`MankowskaSolution`, or its ``routes``: per caregiver, a sequence of
        (patient node, service index, start).
    tol
        Slack allowed on every time comparison (time units), for start times stored
        rounded (Ceschia et al. store three decimals).

    Returns
    -------
    MankowskaCheck
        Objective components (over the stops that name a real patient and service)
        and violations, each naming caregiver, patient and service.
    """
    routes = solution.routes if isinstance(solution, MankowskaSolution) else solution
    violations: list[str] = []
    n, n_sv, end = inst.n_patients, inst.n_services, inst.end_node
    d, p = inst.distance, inst.processing
    if len(routes) > inst.n_caregivers:
        violations.append(f"{counted(len(routes), 'route')} for {counted(inst.n_caregivers, 'caregiver')}")
    served: dict[tuple[int, int], list[tuple[int, float]]] = {}
    distance = total_tard = max_tard = 0.0
    used = 0
    for k, route in enumerate(routes):
        cg = f"c{k + 1}"
        if route:
            used += 1
        prev, ready = 0, float(inst.earliest[0])
        for pos, stop in enumerate(route):
            i, s, t = int(stop[0]), int(stop[1]), float(stop[2])
            if not (1 <= i <= n) or not (0 <= s < n_sv):
                violations.append(f"{cg} stop {pos + 1}: no patient p{i} with service s{s + 1} in this instance")
                continue
            what = f"{cg} at p{i} for s{s + 1}"
            if not inst.requires[i, s]:
                violations.append(f"{what}: p{i} does not need s{s + 1}")
            if k < inst.n_caregivers and not inst.qualified[k, s]:
                violations.append(f"{what}: {cg} is not qualified for s{s + 1}")
            if t < inst.earliest[i] - tol:
                violations.append(f"{what}: starts at {t:.3f}, before the window opens at {inst.earliest[i]:g}")
            arrive = ready + d[prev, i]
            if t < arrive - tol:
                origin = "the depot" if prev == 0 else f"p{prev}"
                violations.append(f"{what}: starts at {t:.3f}, but cannot arrive from {origin} before {arrive:.3f}")
            distance += d[prev, i]
            tard = max(0.0, t - float(inst.latest[i]))
            total_tard += tard
            max_tard = max(max_tard, tard)
            served.setdefault((i, s), []).append((k, t))
            proc = p[i, k, s] if k < inst.n_caregivers else p[i, 0, s]
            prev, ready = i, t + float(proc)
        if route:
            distance += d[prev, end]
    for (i, s) in inst.requirements():
        got = served.get((i, s), [])
        if not got:
            violations.append(f"p{i} s{s + 1} is not served")
        elif len(got) > 1:
            violations.append(f"p{i} s{s + 1} is served {len(got)} times (by "
                              f"{', '.join(f'c{k + 1}' for k, _ in got)})")
    for i in inst.double_service.tolist():
        s1, s2 = inst.services(i)
        a, b = served.get((i, s1), []), served.get((i, s2), [])
        if len(a) != 1 or len(b) != 1:
            continue  # already reported
        (k1, t1), (k2, t2) = a[0], b[0]
        if k1 == k2:
            violations.append(f"p{i}: double service s{s1 + 1} and s{s2 + 1} both by c{k1 + 1}, "
                              "needs two caregivers")
        gap, lo, hi = t2 - t1, float(inst.min_gap[i]), float(inst.max_gap[i])
        if not (lo - tol <= gap <= hi + tol):
            rule = "simultaneous" if lo == hi == 0 else f"between {lo:g} and {hi:g}"
            violations.append(f"p{i}: s{s2 + 1} (c{k2 + 1}) starts {gap:.3f} after s{s1 + 1} (c{k1 + 1}), "
                              f"must be {rule}")
    return MankowskaCheck(distance, total_tard, max_tard, tuple(violations), used)


def mankowska_instances(directory: str | Path) -> list[Path]:
    """List the instance files of a folder, by family (A…G) then number.

    Parameters
    ----------
    directory
        A folder of ``Instanz*_HCSRP_<patients>_<number>.txt[.gz]`` files.

    Returns
    -------
    list[Path]
        The files, A1, A2, …, A10, B1, …; files with other names follow, by name.
    """
    def key(path: Path) -> tuple[int, int, str]:
        m = _FILE_NAME.fullmatch(path.name.split(".")[0])
        if m is None:
            return (1 << 30, 0, path.name)
        return (int(m.group(1)), int(m.group(2)), path.name)

    files = [f for f in Path(directory).iterdir() if f.name.endswith((".txt", ".txt.gz"))]
    return sorted(files, key=key)


def load_mankowska_bks(path: str | Path) -> dict[str, float]:
    """Read the best-known objectives (``bks`` column) of ``bks_mankowska2014.csv``.

    Parameters
    ----------
    path
        The CSV, with ``instance`` (``A1``…) and ``bks`` columns.

    Returns
    -------
    dict[str, float]
        Best-known objective by instance name.

    Raises
    ------
    SchemaError
        If a column is missing or a value is not a number.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"instance", "bks"} - set(reader.fieldnames or ())
        if missing:
            raise SchemaError([Problem("bks table", str(path), None,
                                       f"missing {'column' if len(missing) == 1 else 'columns'} {', '.join(sorted(missing))}")])
        out: dict[str, float] = {}
        problems = []
        for row in reader:
            try:
                out[row["instance"]] = float(row["bks"])
            except ValueError:
                problems.append(Problem("bks table", str(path), "bks",
                                        f"instance {row['instance']!r}: {row['bks']!r} is not a number"))
    if problems:
        raise SchemaError(problems)
    return out
