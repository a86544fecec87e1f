"""A quote's offers and audit row: a row per offer in two write transactions or in one, or one quote row.

``store_offers`` wrote 100 offer rows (JSON shaped as the service's) and the
``quote`` audit row in two transactions, then in one; it now writes one
``quotes`` row holding the request once and every offer (``one quote row``).
Each way runs 300 times in interleaved blocks of 30, into a fresh SQLite file
(``synchronous=FULL``, as the service) in a temporary folder; prints wall and
CPU time a quote. Run from the repository root::

    python benchmarks/offer_commits.py

``benchmarks/RESULTS.md``, "Quotes through the service", has the figures.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from api import crud
from api.db import Database, migrate
from api.models import AuditRecord, OfferRecord, QuoteRecord
from api.security import Principal

WHO = Principal("k1", "bench", "frontdoor")
BLOCKS, PER_BLOCK, OFFERS = 10, 30, 100


def offer_rows(n: int = OFFERS) -> list[dict[str, Any]]:
    """Return ``n`` offer rows shaped as ``api.frontdoor.store_offers`` writes them."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    offer = {"provider_id": "care-1", "window": {"start": "09:00", "end": "10:00"}, "green": True,
             "slots": [{"date": "2026-12-08", "start": "09:12", "worker_ids": ["w012"],
                        "extra_travel_s": 312}],
             "extra_travel_s": 312, "extra_cost": 4.2, "known_worker": False}
    ask = {"client_id": "c0001", "kind": "care", "duration_min": 30}
    return [{"id": crud.new_id("of"), "client_id": "c0001", "provider_id": "care-1", "request": ask,
             "offer": offer, "rosters": {"2026-12-08": "ro_x"}, "created_at": now, "expires_at": now,
             "created_by": None} for _ in range(n)]


def main() -> None:
    """Time both ways, interleaved, and print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'h.db'}")
        migrate(db)
        audit = {"who": WHO, "action": "quote", "resource": f"{OFFERS} offers", "client_ids": ["c0001"]}

        def two() -> None:
            with db.write() as session:
                session.execute(insert(OfferRecord), offer_rows())
            crud.audit(db=db, **audit)

        def one() -> None:
            with db.write() as session:
                session.execute(insert(OfferRecord), offer_rows())
                session.execute(insert(AuditRecord), crud._audit_rows(**audit))

        def quote_row() -> None:
            rows = offer_rows()
            with db.write() as session:
                session.execute(insert(QuoteRecord), [{
                    "id": crud.new_id("of"), "client_id": "c0001", "request": rows[0]["request"],
                    "offers": [{"offer": r["offer"], "rosters": r["rosters"]} for r in rows],
                    "created_at": rows[0]["created_at"], "expires_at": rows[0]["expires_at"], "created_by": None}])
                session.execute(insert(AuditRecord), crud._audit_rows(**audit))

        ways: dict[str, Callable[[], None]] = {"two transactions": two, "one transaction": one,
                                               "one quote row": quote_row}
        wall: dict[str, list[float]] = {name: [] for name in ways}
        cpu: dict[str, list[float]] = {name: [] for name in ways}
        for block in range(BLOCKS):
            for name in sorted(ways, reverse=block % 2 == 1):
                for _ in range(PER_BLOCK):
                    w, c = time.perf_counter(), time.process_time()
                    ways[name]()
                    wall[name].append(time.perf_counter() - w)
                    cpu[name].append(time.process_time() - c)
        db.dispose()
    for name in ways:
        w = sorted(wall[name])
        print(f"{name}: wall mean {1000 * statistics.mean(w):.2f} ms, p50 {1000 * w[len(w) // 2]:.2f}, "
              f"p99 {1000 * w[int(0.99 * len(w))]:.2f}; CPU mean {1000 * statistics.mean(cpu[name]):.2f} ms "
              f"({len(w)} quotes)")


if __name__ == "__main__":
    main()
