"""Merge ``homecare bench`` CSVs (e.g. one per solver, run side by side) into one report.

    python benchmarks/report.py OUT_DIR RESULTS.csv [RESULTS.csv ...] [--title TITLE] [--no-instances]

Writes ``OUT_DIR/results.csv``, ``results.md`` and ``gap_vs_time.png`` exactly as
``homecare bench`` does for a single run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from solver.bench import harness


def main() -> None:
    """Read the CSVs, concatenate their rows and write the reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("csvs", type=Path, nargs="+")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    rows = [row for path in args.csvs for row in harness.read_csv(path)]
    first = {name: k for k, name in reversed(list(enumerate(r.instance for r in rows)))}
    rows.sort(key=lambda r: (first[r.instance], r.time_limit_s, r.solver))
    paths = harness.write_reports(rows, args.out, title=args.title)
    print(Path(paths["md"]).read_text(encoding="utf-8").split("\n\n| instance")[0])


if __name__ == "__main__":
    main()
