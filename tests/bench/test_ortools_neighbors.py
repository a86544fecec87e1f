"""benchmarks/ortools_neighbors.py: the OR-Tools reproducer runs on a bundled Solomon instance."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
R101 = ROOT / "fixtures" / "bench" / "solomon" / "R101.txt"


def _script() -> ModuleType:
    path = ROOT / "benchmarks" / "ortools_neighbors.py"
    spec = importlib.util.spec_from_file_location("ortools_neighbors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("ratio", [1.0, 0.1])
@pytest.mark.parametrize("allowed", [False, True])
def test_solves_every_customer_and_profiles_relocate(ratio: float, allowed: bool) -> None:
    """Each setting solves and reports Relocate in OR-Tools' profile; the full one serves all.

    The restricted neighbourhood with allowed vehicles may leave customers out of its
    first solution and not bring them back in 1 s: that weakness is what the script
    reproduces (CI saw 5 left out under load), so only the full neighbourhood must
    serve all 100.
    """
    script = _script()
    objective, profile = script.solve_once(R101, ratio, 1.0, allowed)
    assert objective is not None and objective > 0
    if ratio == 1.0:
        # A customer left out would cost DROP_PENALTY; R101's routes total far less.
        assert objective < script.DROP_PENALTY
    assert "Relocate<1>" in profile


def test_a_missing_instance_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A path that is not a file stops with argparse's usage error, not a traceback."""
    monkeypatch.setattr(sys, "argv", ["ortools_neighbors.py", str(ROOT / "no-such.txt")])
    with pytest.raises(SystemExit) as exc:
        _script().main()
    assert exc.value.code == 2
    assert "no such instance file" in capsys.readouterr().err
