"""Solomon reader, DIMACS checker, our VRPTW model and the peers, on the bundled subset."""

from __future__ import annotations

import math

import pytest

from scheduler.bundled import resolve_path
from solver.bench.instances import (
    InstanceError,
    check_vrptw,
    instance_files,
    load_vrptw_bks,
    read_cvrplib_solution,
    read_solomon,
)

SOLOMON = resolve_path("fixtures/bench/solomon")
BKS = load_vrptw_bks(SOLOMON / "solomon_bks.csv")


def _inst(name: str):
    return read_solomon(SOLOMON / f"{name}.txt")


def test_reads_every_bundled_instance_with_fleet_capacity_and_depot():
    """Each bundled file has 100 customers, the published fleet and a depot open all day."""
    files = instance_files(SOLOMON)
    assert [f.stem for f in files] == ["C101", "C201", "R101", "R201", "RC101", "RC201"]
    for f in files:
        inst = read_solomon(f)
        assert inst.n_customers == 100
        assert inst.fleet == 25
        assert inst.capacity == (200 if inst.cls.endswith("1") else {"C2": 700}.get(inst.cls, 1000))
        assert inst.ready[0] == 0 and inst.due[0] > inst.due[1:].max() - 1


def test_truncated_arcs_follow_the_dimacs_rule():
    """Arc lengths are floor(10 d) in tenths, symmetric, zero on the diagonal."""
    inst = _inst("R101")
    d = inst.tenths()
    assert d.shape == (101, 101)
    assert (d == d.T).all() and (d.diagonal() == 0).all()
    exact = math.hypot(inst.x[1] - inst.x[2], inst.y[1] - inst.y[2])
    assert d[1, 2] == math.floor(10 * exact)


@pytest.mark.parametrize("name", ["C101", "C201", "R101", "R201", "RC101", "RC201"])
def test_checker_reproduces_the_optimal_dimacs_cost(name):
    """The CVRPLIB optimal solution is feasible and costs exactly its published value."""
    routes, cost = read_cvrplib_solution(SOLOMON / "cvrplib_sol" / f"{name}.sol")
    check = check_vrptw(_inst(name), routes)
    assert check.feasible, check.violations
    assert check.distance == pytest.approx(cost, abs=1e-9)
    assert check.distance == pytest.approx(BKS[name], abs=1e-9)


def test_checker_names_each_broken_rule():
    """Duplicated, missing, late and overloaded customers and a too-large fleet are each reported."""
    inst = _inst("C101")
    routes, _ = read_cvrplib_solution(SOLOMON / "cvrplib_sol" / "C101.sol")
    first = routes[0]
    dup = [first + [routes[1][0]], *routes[1:]]
    assert any("already served" in v for v in check_vrptw(inst, dup).violations)
    missing = [first[1:], *routes[1:]]
    assert any(f"1 customer not served: {first[0]}" in v for v in check_vrptw(inst, missing).violations)
    late = [list(reversed(first)), *routes[1:]]
    assert any("after its due date" in v for v in check_vrptw(inst, late).violations)
    merged = [first + routes[1], *routes[2:]]
    assert any("exceeds capacity 200" in v for v in check_vrptw(inst, merged).violations)
    singles = [[c] for r in routes for c in r]
    assert any("fleet has 25" in v for v in check_vrptw(inst, singles).violations)


def test_reader_names_file_and_line_of_bad_rows(tmp_path):
    """A short customer row and an inverted window are reported with file, line or customer."""
    text = (SOLOMON / "C101.txt").read_text().splitlines()
    short = tmp_path / "short.txt"
    short.write_text("\n".join(text[:12] + ["    3      42         66         10"] + text[13:]))
    with pytest.raises(InstanceError, match=r"short.txt:13: customer row needs 7 numbers"):
        read_solomon(short)
    inverted = tmp_path / "inv.txt"
    row = text[11].split()
    row[4], row[5] = row[5], row[4]
    inverted.write_text("\n".join(text[:11] + ["  ".join(row)] + text[12:]))
    with pytest.raises(InstanceError, match=r"customer 2: due date 825 is before ready time 870"):
        read_solomon(inverted)
    with pytest.raises(InstanceError, match="cannot read instance"):
        read_solomon(tmp_path / "absent.txt")
