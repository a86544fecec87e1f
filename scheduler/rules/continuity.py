"""Continuity of care: clients see workers they know (a cost in the search, never a violation).

A worker is familiar to a client when the client prefers them
(``preferred_worker_ids``) or they made :data:`FAMILIAR_VISITS` or more of the
client's visits in the plan's ``history`` (the last 28 days); fewer visits make
them familiar in part. The search weighs a visit by someone new at
``SolveParams.continuity_weight_s`` travel seconds (:mod:`solver.constraints.continuity`);
the roster's KPIs report the share of visits by familiar workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from scheduler.rules.base import Violation

if TYPE_CHECKING:  # pragma: no cover - types only
    from scheduler.model import Plan, Visit

#: Visits after which a worker counts as fully familiar to a client.
FAMILIAR_VISITS = 4


class Continuity:
    """Continuity of care: a soft rule, so a finished roster never breaks it."""

    code = "continuity"

    def check(self, view: object) -> Iterable[Violation]:
        """Yield nothing: continuity is a cost, reported in the roster's KPIs."""
        return ()


def strangeness(plan: Plan, visits: Sequence[Visit]) -> np.ndarray:
    """Return, per worker and visit, how much of a stranger the worker is to the client (0-100).

    0 for a preferred worker or one with :data:`FAMILIAR_VISITS` or more visits
    in the plan's history, scaled down linearly for fewer visits, 100 for
    someone new.

    Parameters
    ----------
    plan
        The plan (its workers, clients and history).
    visits
        The visits to score, in any order, repeats allowed (a double-handed
        visit's two model nodes).

    Returns
    -------
    numpy.ndarray
        Shape (workers, visits), ``int64``.
    """
    seen: dict[tuple[str, str], int] = {}
    for h in plan.history:
        seen[(h.client_id, h.worker_id)] = seen.get((h.client_id, h.worker_id), 0) + h.visits
    out = np.full((len(plan.workers), len(visits)), 100, dtype=np.int64)
    nodes_of: dict[str, list[int]] = {}
    for i, v in enumerate(visits):
        nodes_of.setdefault(v.client_id, []).append(i)
    worker_index = {w.id: k for k, w in enumerate(plan.workers)}
    familiar: dict[tuple[int, str], float] = {}
    for (c, wid), n in seen.items():
        if wid in worker_index and n > 0:
            familiar[(worker_index[wid], c)] = min(n, FAMILIAR_VISITS) / FAMILIAR_VISITS
    for c in nodes_of:
        for wid in plan.client(c).preferred_worker_ids:
            if wid in worker_index:
                familiar[(worker_index[wid], c)] = 1.0
    for (k, c), f in familiar.items():
        if c in nodes_of:
            out[k, nodes_of[c]] = round(100 * (1 - f))
    return out
