"""Our VRPTW model, the peers and the bench harness, each solution re-checked independently."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from homecare_cli.main import app
from scheduler.bundled import resolve_path
from solver.bench import harness, peers
from solver.bench.instances import check_vrptw, load_vrptw_bks, read_solomon
from solver.bench.vrptw import (
    RouteRegions,
    VrptwSearch,
    improve_by_route_regions,
    portfolio,
    route_length,
    solve_vrptw,
    solve_vrptw_portfolio,
)
from solver.params import SolveParams

SOLOMON = resolve_path("fixtures/bench/solomon")
BKS = load_vrptw_bks(SOLOMON / "solomon_bks.csv")


def _checked(name, result):
    """The result's routes pass the checker, and its own objective agrees with the checker's."""
    check = check_vrptw(read_solomon(SOLOMON / f"{name}.txt"), result.routes)
    assert check.feasible, check.violations
    assert result.objective_tenths == round(check.distance * 10)
    assert check.distance >= BKS[name] - 1e-9, "beat a proven optimum: the checker or the BKS is wrong"
    return check


def test_ortools_model_solves_a_clustered_instance_near_optimality():
    """C101 is easy: the second search of the portfolio comes within 1% of the optimum in two seconds."""
    result = solve_vrptw(read_solomon(SOLOMON / "C101.txt"), portfolio(2.0, workers=2)[1])
    check = _checked("C101", result)
    assert check.distance <= BKS["C101"] * 1.01
    assert result.first_solution_s is not None and result.first_solution_s < result.runtime_s


def test_portfolio_runs_two_searches_and_keeps_the_better():
    """Two configured searches run in parallel; the kept one is feasible and no worse than the first alone."""
    inst = read_solomon(SOLOMON / "R201.txt")
    configs = portfolio(1.5, workers=2)
    assert len(configs) == 2 and configs[0] != configs[1]
    both = solve_vrptw_portfolio(inst, configs)
    _checked("R201", both)
    assert both.solutions > 0


def test_route_regions_shorten_a_first_solution_and_keep_it_feasible():
    """Regions of four routes improve a first-solution-only RC101 roster; every customer stays served once."""
    import time

    inst = read_solomon(SOLOMON / "RC101.txt")
    params = portfolio(0.1, workers=1)[0].params
    start = solve_vrptw(inst, params.replace(iterated_local_search=False, metaheuristic="GREEDY_DESCENT"))
    assert len(start.routes) >= 8, "RC101 needs at least eight routes, so regions are real subsets"
    dist = inst.tenths()
    routes, improved = improve_by_route_regions(inst, start.routes, time.perf_counter() + 2.0, RouteRegions(),
                                                params)
    check = check_vrptw(inst, routes)
    assert check.feasible, check.violations
    assert improved > 0
    assert sum(route_length(dist, r) for r in routes) < sum(route_length(dist, r) for r in start.routes)
    assert sum(route_length(dist, r) for r in routes) == round(check.distance * 10)


def test_search_with_regions_reports_the_checked_objective():
    """A search with route regions on few routes (R201) spends the rest of the time on all of them."""
    search = VrptwSearch(portfolio(1.0, workers=1)[0].params, RouteRegions(first_share=0.5))
    result = solve_vrptw(read_solomon(SOLOMON / "R201.txt"), search)
    _checked("R201", result)
    assert result.config.endswith("+regions")
    assert result.runtime_s < 2.0


def test_iterated_local_search_goes_on_past_the_first_local_optimum():
    """OR-Tools' ILS really runs: ruin and recreate beat greedy descent's local optimum on RC101.

    With ``use_iterated_local_search`` set, OR-Tools' ``SolveWithParameters`` (9.12 to 9.14)
    quietly runs the plain metaheuristic; :func:`solver.improve.run_search` calls
    ``SolveWithIteratedLocalSearch`` instead.
    """
    inst = read_solomon(SOLOMON / "RC101.txt")
    greedy = portfolio(1.0, workers=1)[0].params.replace(iterated_local_search=False)
    descent = solve_vrptw(inst, greedy)
    ils = solve_vrptw(inst, greedy.replace(iterated_local_search=True))
    _checked("RC101", descent)
    _checked("RC101", ils)
    assert "ILS(SISR" in ils.config and "ILS" not in descent.config
    assert ils.solutions > 2 * descent.solutions
    assert ils.objective_tenths < descent.objective_tenths


def test_warm_start_rebuilds_the_given_routes_as_ils_first_solution():
    """ILS from given routes starts exactly there (first solution = their cost) and never ends worse."""
    from solver.bench.vrptw import _Model
    from solver.improve import run_search, search_parameters

    inst = read_solomon(SOLOMON / "RC101.txt")
    params = portfolio(0.5, workers=1)[0].params
    nodes = list(range(inst.n_customers + 1))
    given = solve_vrptw(inst, params.replace(iterated_local_search=False, metaheuristic="GUIDED_LOCAL_SEARCH"))
    model = _Model(inst, nodes, inst.fleet)
    seen: list[int] = []
    search = search_parameters(params, time_limit_s=0.5)
    model.routing.CloseModelWithParameters(search)
    start = model.routing.ReadAssignmentFromRoutes(given.routes, True)
    model.routing.AddAtSolutionCallback(lambda: seen.append(model.routing.CostVar().Value()))
    found = run_search(model.routing, search, start, model.warm)
    assert seen[0] == given.objective_tenths
    assert len(seen) > 1
    assert found.ObjectiveValue() <= given.objective_tenths
    assert check_vrptw(inst, model.routes(found)).feasible
    with pytest.raises(ValueError, match="WarmStart"):
        run_search(model.routing, search, start)


def test_search_parameters_set_the_ils_acceptance():
    """Simulated-annealing acceptance reaches OR-Tools with temperatures it derives from the arc costs."""
    from ortools.constraint_solver import routing_enums_pb2, routing_ils_pb2

    from solver.improve import search_parameters

    search = search_parameters(SolveParams(iterated_local_search=True, ils_acceptance="SIMULATED_ANNEALING",
                                           ruin_visits=12))
    ils = search.iterated_local_search_parameters
    assert search.use_iterated_local_search
    # Each recreated solution is improved by greedy descent, whatever ``metaheuristic`` says
    # (guided local search, the default, would never hand back to the ILS loop).
    assert search.local_search_metaheuristic == routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    assert ils.acceptance_strategy == routing_ils_pb2.AcceptanceStrategy.SIMULATED_ANNEALING
    assert ils.simulated_annealing_parameters.automatic_temperatures
    assert ils.ruin_recreate_parameters.ruin_strategies[0].sisr.avg_num_removed_visits == 12
    greedy = search_parameters(SolveParams(iterated_local_search=True)).iterated_local_search_parameters
    assert greedy.acceptance_strategy == routing_ils_pb2.AcceptanceStrategy.GREEDY_DESCENT


def test_search_parameters_reach_ortools():
    """Switched-off operators and the GLS coefficient are set in the OR-Tools parameters."""
    from ortools.util import optional_boolean_pb2

    from solver.improve import search_parameters

    params = SolveParams(disabled_operators=("use_two_opt",), gls_lambda=0.25, extra_operators=())
    search = search_parameters(params)
    assert search.local_search_operators.use_two_opt == optional_boolean_pb2.BOOL_FALSE
    assert search.guided_local_search_lambda_coefficient == pytest.approx(0.25)


@pytest.mark.parametrize("solver", ["pyvrp", "vroom"])
def test_peers_solve_the_same_integers(solver):
    """PyVRP and VROOM get our DIMACS integers; their routes pass our checker at their own cost."""
    solve = peers.solve_pyvrp if solver == "pyvrp" else peers.solve_vroom
    result = solve(read_solomon(SOLOMON / "C201.txt"), time_limit_s=1.0)
    _checked("C201", result)


def test_suite_reports_round_trip(tmp_path):
    """A two-instance run writes CSV, Markdown and a plot; the CSV reads back to the same rows."""
    files = harness.list_instances("solomon", SOLOMON, ["c101", "RC101"])
    rows = harness.run_suite("solomon", files, solvers=["ours"], time_limits=[0.5, 1.0], bks=BKS, workers=1)
    assert [(r.instance, r.time_limit_s) for r in rows] == [("C101", 0.5), ("C101", 1.0), ("RC101", 0.5),
                                                            ("RC101", 1.0)]
    assert all(r.feasible and r.gap_pct >= 0 for r in rows)
    paths = harness.write_reports(rows, tmp_path, title="t")
    back = harness.read_csv(paths["csv"])
    assert [(r.instance, r.objective, r.feasible) for r in back] == [(r.instance, r.objective, r.feasible) for r in rows]
    md = paths["md"].read_text()
    assert "| **all** | ours | 1 | 2 | 2 |" in md and "| RC101 | ours | 1 |" in md
    assert paths["plot"].stat().st_size > 10_000
    summary = {(s["group"], s["time_limit_s"]): s for s in harness.summarise(rows)}
    assert summary[("C1", 1.0)]["instances"] == 1 and summary[("all", 1.0)]["instances"] == 2


def test_bench_command_runs_the_bundled_subset(tmp_path):
    """`homecare bench` with no path runs the bundled Solomon files and exits 0 when all are feasible."""
    result = CliRunner().invoke(app, ["bench", "--instances", "C201", "-t", "1", "--workers", "1",
                                      "--solvers", "ours,vroom", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "ours     1s: 1/1 feasible" in result.output
    assert "solomon (1 instance)" in (tmp_path / "results.md").read_text()  # not "1 instances"
    with open(tmp_path / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["instance"], r["solver"], r["feasible"]) for r in rows] == [("C201", "ours", "True"),
                                                                           ("C201", "vroom", "True")]


@pytest.mark.parametrize(("args", "message"), [
    (["bench", "tsplib"], "unknown suite 'tsplib'"),
    (["bench", "--instances", "C999"], "no instance named C999"),
    (["bench", "homberger"], "no bundled homberger instances"),
    (["bench", "--solvers", "ours,lkh"], "unknown solver 'lkh'"),
    (["bench", "-t", "0"], "--time-limit 0: give a number of seconds above 0"),
])
def test_bench_command_refuses_bad_input_clearly(args, message, tmp_path):
    """Bad arguments give one clear line and exit code 2, never a traceback."""
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bench_command_runs_mankowska_against_its_own_table(tmp_path):
    """`homecare bench mankowska` names instances A1.., finds their best-known values, and checks feasibility."""
    folder = resolve_path("fixtures/bench/mankowska")
    result = CliRunner().invoke(app, ["bench", "mankowska", str(folder), "--instances", "A1,A2", "-t", "1",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = harness.read_csv(tmp_path / "results.csv")
    assert [r.instance for r in rows] == ["A1", "A2"]
    assert all(r.feasible and r.bks > 0 and r.gap_pct > -0.05 for r in rows)
    md = (tmp_path / "results.md").read_text()
    assert "| A | ours | 1 | 2 | 2 |" in md
