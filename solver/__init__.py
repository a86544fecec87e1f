"""Road networks, travel matrices and the OR-Tools model: plan in, roster out.

Use :func:`run`, the one solve pipeline (plan checks, network, matrices, search,
roster check) of ``homecare solve`` and the roster service's jobs::

    from scheduler.io import load_plan
    from solver import SolveParams, run

    result = run(load_plan("fixtures/plans/cambridge_weekday.json"),
                 params=SolveParams(time_limit_s=30))
    print(result.summary(), result.violations)
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from collections.abc import Sequence
from typing import Protocol

from scheduler.bundled import resolve_path
from scheduler.errors import NetworkError
from scheduler.model import Plan
from scheduler.roster import LockedStop, Roster, compute_kpis, plan_locked_before
from scheduler.timeutil import format_hhmm
from solver.improve import StopFlag as StopFlag
from solver.network import ATTRIBUTION, RoadNetwork, load_network
from solver.params import SolveParams as SolveParams
from solver.result import RunResult as RunResult, SolveResult as SolveResult
from solver.search import Progress as Progress
from solver.travel import PlanTravel as PlanTravel, plan_travel

log = logging.getLogger("homecare")

__all__ = ["SolveParams", "SolveResult", "RunResult", "Progress", "PlanTravel", "StopFlag", "run", "solve",
           "check_plan", "network_for", "travel_for"]


class Reporter(Protocol):
    """Receives progress from :func:`solve`; every method is optional to act on."""

    def stage(self, name: str, detail: str = "") -> None:
        """A stage starts: ``network``, ``matrix``, ``model``, ``search`` or ``decode``."""

    def advance(self, name: str, done: float, total: float) -> None:
        """Work within a stage advanced."""

    def search(self, progress: Progress) -> None:
        """The search found a new solution."""


class _Silent:
    def stage(self, name: str, detail: str = "") -> None:
        pass

    def advance(self, name: str, done: float, total: float) -> None:
        pass

    def search(self, progress: Progress) -> None:
        pass


def network_for(plan: Plan, network: str | Path | RoadNetwork | None = None, *,
                cache_dir: Path | None = None) -> RoadNetwork:
    """Load the road network of a plan (or the one given instead).

    Parameters
    ----------
    plan
        The plan; its ``network`` field is used when ``network`` is ``None``.
    network
        A loaded network, or a file or place name that overrides the plan's.
    cache_dir
        Network cache folder, or ``None``.

    Returns
    -------
    RoadNetwork
        The network.

    Raises
    ------
    NetworkError
        If neither names a network, or the file cannot be read.
    """
    if isinstance(network, RoadNetwork):
        return network
    source = network if network is not None else plan.network
    if source is None:
        raise NetworkError("the plan names no network: give one with --network or the plan's 'network' field")
    near = None if network is not None else plan.source
    return load_network(resolve_path(source, near=near), cache_dir=cache_dir)


def travel_for(plan: Plan, network: RoadNetwork, *, params: SolveParams | None = None,
               cache_dir: Path | None = None, reporter: Reporter | None = None) -> PlanTravel:
    """Compute the travel matrices of a plan (see :func:`solver.travel.plan_travel`)."""
    params = params or SolveParams()
    reporter = reporter or _Silent()
    return plan_travel(plan, network, cache_dir=cache_dir, snap_limit_m=params.snap_limit_m,
                       progress=lambda mode, done, total: reporter.advance(f"matrix:{mode}", done, total))


def check_plan(plan: Plan, *, network: str | Path | RoadNetwork | None = None, params: SolveParams | None = None,
               cache_dir: Path | None = None, reporter: Reporter | None = None) -> PlanTravel:
    """Check a plan as :func:`solve` needs it, and return its travel matrices.

    The one set of plan checks of ``homecare validate`` and ``homecare solve``: the
    plan's records (:func:`scheduler.validate.validate_plan`), its road network (named,
    found and readable) and every location within ``params.snap_limit_m`` of a road
    of each travel mode that must reach it. A plan that passes can be solved.

    Parameters
    ----------
    plan
        The plan.
    network
        A loaded network, or a file or place name, instead of the plan's own.
    params
        Search parameters (``snap_limit_m``); defaults to :class:`SolveParams()`.
    cache_dir
        Network and matrix cache folder, or ``None``.
    reporter
        Receives progress (stages ``network`` and ``matrix``).

    Returns
    -------
    PlanTravel
        The plan's travel matrices, ready for :func:`solve` (``travel=``).

    Raises
    ------
    PlanError
        If a record is invalid, or a location is too far from the road network;
        every problem is listed.
    NetworkError
        If no network is named, or its file is missing or unreadable.
    """
    from scheduler.validate import validate_plan

    validate_plan(plan)
    reporter = reporter or _Silent()
    reporter.stage("network", str(network or plan.network or ""))
    road = network_for(plan, network, cache_dir=cache_dir)
    reporter.stage("matrix", f"{road.n_nodes} road nodes")
    return travel_for(plan, road, params=params, cache_dir=cache_dir, reporter=reporter)


def run(
    plan: Plan,
    *,
    params: SolveParams | None = None,
    network: str | Path | RoadNetwork | None = None,
    travel: PlanTravel | None = None,
    cache_dir: Path | None = None,
    reporter: Reporter | None = None,
    locked: Sequence[LockedStop] = (),
    locked_before: int | None = None,
    stop: StopFlag | None = None,
) -> RunResult:
    """Solve a plan from end to end: check it, load its network, compute its matrices, search, check the roster.

    The one solve pipeline of ``homecare solve`` and of the roster service's jobs:
    :func:`check_plan` (unless ``travel`` is given), :func:`solve`, then
    :func:`scheduler.validate.check_roster` with the same locks and lock time.

    Parameters
    ----------
    plan
        The plan.
    params
        Search parameters; defaults to :class:`SolveParams()`.
    network
        Road network (loaded, a file, or a place name) instead of the plan's own.
    travel
        The plan's travel matrices, already checked and computed (say by
        :func:`check_plan`); the plan checks, network and matrices are then skipped.
    cache_dir
        Cache folder for networks and matrices, or ``None`` for none.
    reporter
        Receives progress (stages ``network``, ``matrix``, ``model``, ``search``, ``decode``).
    locked
        Stops to keep exactly as they are (see :func:`solve`); the roster check
        checks them.
    locked_before
        The re-planning time (seconds since midnight; see :func:`solve`); by default
        the plan's own. The roster check uses the roster's.
    stop
        A flag that stops the search early when set (see :func:`solve`).

    Returns
    -------
    RunResult
        The roster, the travel matrices, the roster's violations (empty for a valid
        roster) and the search figures.

    Raises
    ------
    PlanError
        If a record is invalid, a location is too far from the road network, or a
        locked stop cannot be kept (every problem is listed).
    NetworkError
        If no network is named, or its file is missing or unreadable.
    SolverError
        If OR-Tools fails unexpectedly.
    """
    from scheduler.validate import check_roster

    if travel is None:
        travel = check_plan(plan, network=network, params=params, cache_dir=cache_dir, reporter=reporter)
    result = solve(plan, params=params, travel=travel, reporter=reporter, locked=locked,
                   locked_before=locked_before, stop=stop)
    before = locked_before if locked_before is not None else result.roster.locked_before
    violations = check_roster(plan, result.roster, travel=travel, locked=locked, locked_before=before)
    return RunResult(result.roster, travel, tuple(violations), result)


def solve(
    plan: Plan,
    *,
    params: SolveParams | None = None,
    network: str | Path | RoadNetwork | None = None,
    travel: PlanTravel | None = None,
    cache_dir: Path | None = None,
    reporter: Reporter | None = None,
    locked: Sequence[LockedStop] = (),
    locked_before: int | None = None,
    stop: StopFlag | None = None,
) -> SolveResult:
    """Plan the day: assign every visit a worker and a start time, or say why not.

    Parameters
    ----------
    plan
        A validated plan.
    params
        Search parameters; defaults to :class:`SolveParams()`.
    network
        Road network (loaded, a file, or a place name) instead of the plan's own.
    travel
        Precomputed travel matrices for this plan (skips the network entirely).
    cache_dir
        Cache folder for networks and matrices, or ``None`` for none.
    reporter
        Receives progress.
    locked
        Stops to keep exactly as they are (re-optimising a published roster):
        same visit, worker and start (see :func:`scheduler.roster.replan_locks`).
        A lock starting before ``locked_before`` whose worker is no longer in the
        plan cannot be kept: its visit is listed as unassigned with code ``past``.
    locked_before
        The re-planning time (seconds since midnight; by default the plan's own
        ``locked_before`` field, if any): no visit that is not locked starts before
        it, and a worker with no locked stop before it leaves home no earlier.
        Visits that cannot be served any more are unassigned with code ``past``.
    stop
        A flag (:class:`threading.Event`) that stops the search early when set,
        say by a Ctrl-C handler: the best roster found so far is returned, with
        ``meta["interrupted"]`` true. Only the search reads it.

    Returns
    -------
    SolveResult
        The roster with KPIs, and search figures. A mandatory visit the search left
        out although a day has room for it is put there afterwards when every rule
        still holds (:func:`solver.repair.fill_left_out`; listed in
        ``meta["filled_after_search"]``); the objective is the search's.

    Raises
    ------
    NetworkError
        If the network cannot be loaded.
    PlanError
        If a location is too far from the road network, or a locked stop cannot be kept.
    SolverError
        If OR-Tools fails unexpectedly.
    """
    from solver.decode import decode
    from solver.explain import explain_unassigned
    from solver.model import build_model
    from solver.repair import fill_left_out
    from solver.wage import retime
    from solver.search import solve_model

    params = params or SolveParams()
    reporter = reporter or _Silent()
    if locked_before is not None:
        # Carried on the plan, so that every model of this solve (regions too) sees it.
        plan = dataclasses.replace(plan, extra={**plan.extra, "locked_before": format_hhmm(locked_before)})
    locked_before = plan_locked_before(plan)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    network_name = None
    if travel is None:
        reporter.stage("network", str(network or plan.network or ""))
        road = network_for(plan, network, cache_dir=cache_dir)
        network_name = road.name
        timings["network_s"] = time.perf_counter() - t
        t = time.perf_counter()
        reporter.stage("matrix", f"{road.n_nodes} road nodes")
        travel = travel_for(plan, road, params=params, cache_dir=cache_dir, reporter=reporter)
        timings["matrix_s"] = time.perf_counter() - t
    if not plan.workers and not locked:
        return _nobody_to_send(plan, travel, params, timings)
    t = time.perf_counter()
    reporter.stage("model")
    model = build_model(plan, travel, params, locked)
    timings["model_s"] = time.perf_counter() - t
    reporter.stage("search", f"{params.time_limit_s:g} s limit")
    outcome = solve_model(model, on_progress=reporter.search, stop=stop)
    timings["search_s"] = outcome.runtime_s
    t = time.perf_counter()
    reporter.stage("decode")
    if outcome.assignment is None:
        from scheduler.errors import SolverError

        raise SolverError(f"OR-Tools found no solution ({outcome.status}); every visit is optional, so this "
                          "should not happen: please report it with the plan")
    routes, unassigned = decode(model, outcome.assignment)
    unassigned = explain_unassigned(plan, routes, unassigned, travel)
    # A search cut short may leave out a mandatory visit a day has room for: put it there if every rule holds.
    routes, unassigned, filled = fill_left_out(plan, routes, unassigned, travel, locked=locked,
                                               locked_before=locked_before)
    # Carers the roster leaves below the minimum wage: wait less where the rules allow.
    routes, retimed = retime(plan, routes, unassigned, travel, locked=locked, locked_before=locked_before,
                             continuity_weight_s=params.continuity_weight_s)
    timings["decode_s"] = time.perf_counter() - t
    kpis = compute_kpis(plan, routes, unassigned)
    meta = {
        "plan": str(plan.source.resolve()) if plan.source is not None else None,
        "solver": "OR-Tools routing", "status": outcome.status, "objective": outcome.objective,
        "time_limit_s": params.time_limit_s, "seed": params.seed, "first_solution": params.first_solution,
        "metaheuristic": params.metaheuristic, "search_s": round(outcome.runtime_s, 3),
        "first_solution_s": None if outcome.first_solution_s is None else round(outcome.first_solution_s, 3),
        "solutions": outcome.solutions, "filled_after_search": filled,
        "retimed_for_pay": retimed, "network": network_name or travel.network_name,
        "snap": travel.snap_report(),
        "attribution": ATTRIBUTION,
    }
    if locked_before is not None:
        meta["locked_before"] = format_hhmm(locked_before)
    if stop is not None and stop.is_set():
        meta["interrupted"] = True
    roster = Roster(plan.date, tuple(routes), tuple(unassigned), kpis, meta, locked_before)
    return SolveResult(roster, outcome.objective, outcome.status, outcome.runtime_s,
                       outcome.first_solution_s, {k: round(v, 3) for k, v in timings.items()})


def _nobody_to_send(plan: Plan, travel: PlanTravel, params: SolveParams, timings: dict[str, float]) -> SolveResult:
    """Return the roster of a plan with no workers: every visit unassigned, with its reason."""
    from scheduler.eligibility import eligibility
    from scheduler.roster import Unassigned

    unassigned = []
    for visit in plan.visits:
        elig = eligibility(plan, visit)
        unassigned.append(Unassigned(visit.id, elig.reason or "no worker is in the plan", elig.code or "no_provider"))
    kpis = compute_kpis(plan, (), unassigned)
    meta = {"solver": "none: the plan has no workers", "status": "NO_WORKERS", "objective": None,
            "time_limit_s": params.time_limit_s, "network": travel.network_name, "attribution": ATTRIBUTION}
    roster = Roster(plan.date, (), tuple(unassigned), kpis, meta)
    return SolveResult(roster, None, "NO_WORKERS", 0.0, None, {k: round(v, 3) for k, v in timings.items()})
