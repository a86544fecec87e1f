"""Solver knobs, in one small checked object that can be read from TOML."""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.errors import ConfigError

FIRST_SOLUTION_STRATEGIES = (
    "PAIR_INSERTION", "AUTOMATIC", "PATH_CHEAPEST_ARC", "PATH_MOST_CONSTRAINED_ARC", "SAVINGS", "PARALLEL_SAVINGS",
    "SWEEP", "CHRISTOFIDES", "ALL_UNPERFORMED", "BEST_INSERTION", "PARALLEL_CHEAPEST_INSERTION",
    "SEQUENTIAL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_COST_INSERTION",
    "GLOBAL_CHEAPEST_ARC", "LOCAL_CHEAPEST_ARC", "FIRST_UNBOUND_MIN_VALUE",
)
METAHEURISTICS = (
    "AUTOMATIC", "GREEDY_DESCENT", "GUIDED_LOCAL_SEARCH", "SIMULATED_ANNEALING", "TABU_SEARCH",
    "GENERIC_TABU_SEARCH",
)
#: Ruin steps of OR-Tools' iterated local search.
RUIN_STRATEGIES = ("SISR", "SPATIALLY_CLOSE_ROUTES", "RANDOM_WALK")
#: How OR-Tools' iterated local search accepts the solution after a ruin and recreate:
#: only if better, or by simulated annealing (temperatures from the arc costs).
ILS_ACCEPTANCE = ("GREEDY_DESCENT", "SIMULATED_ANNEALING")
#: Above this many visit nodes a decomposed day gives regions 0.75 of the search
#: time instead of 0.5 (:meth:`SolveParams.region_share`).
LARGE_DAY_NODES = 1500
#: OR-Tools' guided local search coefficient, which the Solomon and Mankowska
#: benchmarks keep: on six hard Solomon instances at 10 s, 0.5 (the home-care
#: default) gave a mean gap of 4.70% against 3.52% (``benchmarks/RESULTS.md``).
CLASSIC_GLS_LAMBDA = 0.1
#: Longest search :class:`SolveParams` accepts (seconds): a day. A longer one is a typo
#: (``--time-limit 100000``), and OR-Tools cannot take an infinite one. ``homecare solve``
#: and the roster service cap searches lower (600 s unless told otherwise).
TIME_LIMIT_CEILING_S = 86_400.0
#: Names of the OR-Tools local-search operators that can be switched on.
LOCAL_SEARCH_OPERATORS = (
    "use_relocate", "use_relocate_pair", "use_light_relocate_pair", "use_relocate_neighbors",
    "use_relocate_subtrip", "use_exchange", "use_exchange_pair", "use_exchange_subtrip", "use_cross",
    "use_cross_exchange", "use_relocate_expensive_chain", "use_two_opt", "use_or_opt",
    "use_lin_kernighan", "use_tsp_opt", "use_make_active", "use_relocate_and_make_active",
    "use_exchange_and_make_active", "use_make_inactive", "use_make_chain_inactive", "use_swap_active",
    "use_extended_swap_active", "use_shortest_path_swap_active", "use_swap_active_chain",
    "use_node_pair_swap_active", "use_path_lns", "use_full_path_lns", "use_tsp_lns", "use_inactive_lns",
    "use_global_cheapest_insertion_path_lns", "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_expensive_chain_lns", "use_local_cheapest_insertion_expensive_chain_lns",
    "use_global_cheapest_insertion_close_nodes_lns", "use_local_cheapest_insertion_close_nodes_lns",
    "use_shortest_path_two_opt",
)


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How to search for a roster.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit of the search (seconds).
    seed
        Reproducible variation: a non-zero seed shuffles the order in which visits
        enter the model, which steers the search differently; 0 keeps plan order.
    first_solution
        ``PAIR_INSERTION`` (our insertion heuristic, which seats double-handed
        visits as pairs; see :mod:`solver.construct`) or an OR-Tools
        first-solution strategy (see :data:`FIRST_SOLUTION_STRATEGIES`).
    metaheuristic
        OR-Tools local-search metaheuristic (see :data:`METAHEURISTICS`).
    penalty_mandatory, penalty_high, penalty_normal, penalty_low
        Cost of leaving a visit unassigned, in the objective's unit (seconds of
        travel). Mandatory must dwarf any route's travel.
    snap_limit_m
        Largest distance from a location to the road network (metres).
    continuity_weight_s
        Continuity of care: the travel (seconds) worth spending to send a worker
        the client knows (from ``history``, or a preferred worker) rather than a
        stranger. 0 ignores continuity.
    balance_weight_s
        Fair workload: the travel (seconds) worth spending to move one minute of
        work (visits and travel) off a worker who is above their provider's
        average. 0 (default) does not balance.
    extra_operators
        OR-Tools local-search operators to switch on beyond its defaults (names
        of ``RoutingSearchParameters.local_search_operators`` fields).
        ``use_relocate_and_make_active`` moves a stop to another worker to make
        room for an unassigned visit: on the bundled Cambridge day it took the
        last mandatory visits in where the defaults left them out.
    disabled_operators
        OR-Tools local-search operators to switch off. On the classic VRPTW,
        where every customer must be served, switching off the insertion-based
        LNS operators leaves more of the time limit to the moves that matter
        (see ``benchmarks/RESULTS.md``).
    iterated_local_search
        Use OR-Tools' iterated local search instead of ``metaheuristic``: ruin
        part of the solution, recreate it by cheapest insertion, improve it by
        greedy descent, and keep it as ``ils_acceptance`` says. From our own
        first roster it starts through :class:`solver.model.WarmStart`. On
        Solomon it beats guided local search by far (0.78% against 2.28% at
        10 s); on home-care days, where each iteration is slow, it did not
        (``benchmarks/RESULTS.md``), so it is off by default.
    ruin
        ILS ruin step: ``SISR`` (slack induced string removals, Christiaens &
        Vanden Berghe), ``SPATIALLY_CLOSE_ROUTES`` or ``RANDOM_WALK``.
    ruin_visits
        Average number of visits one ruin step removes.
    ils_acceptance
        When ILS keeps a ruined and recreated solution: ``GREEDY_DESCENT`` (only
        if better) or ``SIMULATED_ANNEALING`` (sometimes if worse, less often
        as the time runs out).
    gls_lambda
        Guided local search penalty coefficient. OR-Tools' default is 0.1; 0.5 did
        better on generated home-care days of 300 and 1,000 visits
        (``benchmarks/RESULTS.md``). The Solomon and Mankowska benchmarks keep 0.1
        (:data:`CLASSIC_GLS_LAMBDA`).
    neighbors_ratio
        Share of the nearest nodes the neighbourhood operators consider
        (OR-Tools default 1.0, all nodes).
    decompose_from_visits
        Days with at least this many visit nodes (double-handed visits count twice)
        are first improved a region at a time: about twenty neighbouring workers'
        routes at once, as small models of their own (:mod:`solver.decompose`),
        before one search over the whole day. 0 never decomposes.
    decompose_share
        Share of the search time given to regions; the whole-day search has the rest.
        ``None`` (the default) chooses by size, see :meth:`region_share`.
    processes
        Regions searched at once, one process each (1 keeps the search in this process).
    log_search
        Let OR-Tools print its search log.
    """

    time_limit_s: float = 30.0
    seed: int = 0
    first_solution: str = "PAIR_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    penalty_mandatory: int = 100_000_000
    penalty_high: int = 1_000_000
    penalty_normal: int = 100_000
    penalty_low: int = 10_000
    snap_limit_m: float = 1000.0
    continuity_weight_s: int = 300
    balance_weight_s: int = 0
    extra_operators: tuple[str, ...] = ("use_relocate_and_make_active",)
    disabled_operators: tuple[str, ...] = ()
    iterated_local_search: bool = False
    ruin: str = "SISR"
    ruin_visits: int = 10
    ils_acceptance: str = "GREEDY_DESCENT"
    gls_lambda: float = 0.5
    neighbors_ratio: float = 1.0
    decompose_from_visits: int = 500
    decompose_share: float | None = None
    processes: int = 2
    log_search: bool = False

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.time_limit_s) and 0 < self.time_limit_s <= TIME_LIMIT_CEILING_S):
            problems.append(f"time_limit_s must be a number of seconds above 0 and at most "
                            f"{TIME_LIMIT_CEILING_S:g} (a day), got {self.time_limit_s:g}")
        if self.first_solution not in FIRST_SOLUTION_STRATEGIES:
            problems.append(f"first_solution {self.first_solution!r} is not one of {', '.join(FIRST_SOLUTION_STRATEGIES)}")
        if self.metaheuristic not in METAHEURISTICS:
            problems.append(f"metaheuristic {self.metaheuristic!r} is not one of {', '.join(METAHEURISTICS)}")
        pens = [self.penalty_mandatory, self.penalty_high, self.penalty_normal, self.penalty_low]
        if any(p <= 0 for p in pens) or pens != sorted(pens, reverse=True):
            problems.append("penalties must be positive with mandatory >= high >= normal >= low")
        unknown_ops = sorted(set(self.extra_operators) - set(LOCAL_SEARCH_OPERATORS))
        unknown_ops += sorted(set(self.disabled_operators) - set(LOCAL_SEARCH_OPERATORS))
        if unknown_ops:
            problems.append(f"extra_operators {', '.join(unknown_ops)} are not OR-Tools operators")
        if self.balance_weight_s < 0:
            problems.append(f"balance_weight_s must not be negative, got {self.balance_weight_s}")
        if self.continuity_weight_s < 0:
            problems.append(f"continuity_weight_s must not be negative, got {self.continuity_weight_s}")
        if not self.snap_limit_m > 0:
            problems.append(f"snap_limit_m must be positive, got {self.snap_limit_m}")
        if self.ruin not in RUIN_STRATEGIES:
            problems.append(f"ruin {self.ruin!r} is not one of {', '.join(RUIN_STRATEGIES)}")
        if self.ils_acceptance not in ILS_ACCEPTANCE:
            problems.append(f"ils_acceptance {self.ils_acceptance!r} is not one of {', '.join(ILS_ACCEPTANCE)}")
        if self.ruin_visits < 1:
            problems.append(f"ruin_visits must be at least 1, got {self.ruin_visits}")
        if not self.gls_lambda > 0:
            problems.append(f"gls_lambda must be positive, got {self.gls_lambda}")
        if not 0 < self.neighbors_ratio <= 1:
            problems.append(f"neighbors_ratio must be in (0, 1], got {self.neighbors_ratio}")
        if self.decompose_from_visits < 0:
            problems.append(f"decompose_from_visits must not be negative, got {self.decompose_from_visits}")
        if self.decompose_share is not None and not 0 <= self.decompose_share <= 1:
            problems.append(f"decompose_share must be in [0, 1], got {self.decompose_share}")
        if self.processes < 1:
            problems.append(f"processes must be at least 1, got {self.processes}")
        if problems:
            raise ConfigError("; ".join(problems))

    def region_share(self, visit_nodes: int) -> float:
        """Return the share of the search time for regions on a day of ``visit_nodes`` visit nodes.

        ``decompose_share`` if set. Otherwise 0.5 up to :data:`LARGE_DAY_NODES` visit
        nodes and 0.75 above: the whole-day search slows down with size (nodes² ×
        routes), so the biggest days do better with more time in regions. Measured
        with 60-second solves (``benchmarks/RESULTS.md``): on the 1,000-visit day
        (1,137 nodes) 0.5 averaged 349,786 against 350,988 for 0.75 (five seeds); on
        the 2,000-visit day (2,274 nodes) 0.75 averaged 694,308 against 702,056 for 0.5
        (three seeds).
        """
        if self.decompose_share is not None:
            return self.decompose_share
        return 0.5 if visit_nodes <= LARGE_DAY_NODES else 0.75

    def penalty(self, priority: str) -> int:
        """Return the cost of leaving a visit of this priority unassigned."""
        return int(getattr(self, f"penalty_{priority}"))

    def replace(self, **changes: Any) -> SolveParams:
        """Return a copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_toml(cls, path: str | Path) -> SolveParams:
        """Read parameters from a TOML file (top level or a ``[solve]`` table).

        Parameters
        ----------
        path
            The TOML file.

        Returns
        -------
        SolveParams
            The parameters; missing keys keep their defaults.

        Raises
        ------
        FileNotFoundError
            If there is no such file.
        ConfigError
            If the file is not TOML, or a key is unknown, of the wrong type or out of
            range (every problem is listed, with the file's name).
        """
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        data = data.get("solve", data)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [solve] must be a table of solve parameters")
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> SolveParams:
        """Read parameters from a mapping of TOML or JSON values (a ``--params`` file, a job request).

        Parameters
        ----------
        data
            Field names and values; lists stand for tuples. Missing keys keep their defaults.
        source
            Where the values come from, to start the error message with (a file name).

        Returns
        -------
        SolveParams
            The parameters.

        Raises
        ------
        ConfigError
            If a key is unknown, or a value is of the wrong type or out of range; every
            problem is listed, each naming its key.
        """
        prefix = f"{source}: " if source else ""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        problems = [f"unknown solve {'parameter' if len(unknown) == 1 else 'parameters'} {', '.join(unknown)}"] if unknown else []
        hints = typing.get_type_hints(cls)
        for key in sorted(set(data) & known):
            wanted = _toml_kind(hints[key])
            if data[key] is None and type(None) in typing.get_args(hints[key]):
                continue  # JSON's null for a field that may be None
            if not _is_kind(data[key], wanted):
                problems.append(f"{key} must be {wanted}, got {data[key]!r}")
        if problems:
            raise ConfigError(prefix + "; ".join(problems))
        values = dict(data)
        for key in ("extra_operators", "disabled_operators"):
            if key in values:
                values[key] = tuple(values[key])
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from None

    def changed(self) -> dict[str, Any]:
        """Return the fields that differ from the defaults, as TOML or JSON values (tuples as lists)."""
        default = type(self)()
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in dataclasses.fields(self) if getattr(self, f.name) != getattr(default, f.name)}

def _toml_kind(hint: Any) -> str:
    """Name what a TOML value for a field of type ``hint`` must be."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    if typing.get_origin(hint) is tuple:
        return "a list of strings"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}[hint]


def _is_kind(value: Any, kind: str) -> bool:
    """Return whether a TOML value is of the kind :func:`_toml_kind` named."""
    if kind == "a list of strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "true or false":
        return isinstance(value, bool)
    if kind == "a string":
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (kind == "a number" and isinstance(value, float))
