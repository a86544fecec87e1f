"""Smoke run of ``benchmarks/quote_service.py``: quotes through the service while a solve runs, on a small day.

A 60-visit generated day published on two dates, a solve of it running, and
ten ``POST /offers`` a second for three seconds: every one answers 2xx and the
solve runs throughout. No timing is asserted (figures go to
``benchmark.extra_info``); the measurement is the script, see RESULTS.md,
"Quotes through the service".
"""

from __future__ import annotations

from quote_service import Options, report, run


def test_quote_service_offers_while_solving(benchmark):
    """Every offered quote is answered without error while the solve job keeps running."""
    options = Options(visits=60, days=2, rate=10, duration=3, clients=4, solve=30, publish_search=0.5, warm=2)
    result = benchmark.pedantic(run, args=(options,), rounds=1, iterations=1)
    print("\n" + report(options, result))
    assert result.errors == []
    assert len(result.latencies_s) == result.offered == 30
    assert result.with_offers > 0
    assert result.solve_throughout, result.solve_running
    benchmark.extra_info.update(answered=len(result.latencies_s), server_cpu_s=round(result.server_cpu_s, 2))
