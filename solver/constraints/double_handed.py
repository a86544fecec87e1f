"""Double-handed visits: two nodes, served together at one start minute by two different workers.

The two places' ``Time`` cumuls are equal and they are both active or both
inactive. The time equality implies two workers, but only the solver's
propagation sees that, after the search's filters have passed a move, and it is
dear (the whole model, some 35 ms a check on 1,000 visits): a move that puts
both places on one route, next to each other at no travel, looks free to the
filters. A hard type incompatibility lets them turn it down. The pair is also
left to the search's start-gap filter (:mod:`solver.gaps`) through ``m.tied``.
"""

from __future__ import annotations

from solver.constraints.build import ModelBuild
from solver.gaps import StartGap


def add(m: ModelBuild) -> None:
    """Tie each double-handed visit's second node to its first."""
    routing, manager, time_dim, solver = m.routing, m.manager, m.time_dim, m.solver
    first_node: dict[str, int] = {}
    for i, visit in enumerate(m.node_visit):
        if visit.id not in first_node:
            first_node[visit.id] = i
            continue
        index, other = manager.NodeToIndex(i), manager.NodeToIndex(first_node[visit.id])
        solver.Add(time_dim.CumulVar(index) == time_dim.CumulVar(other))
        solver.Add(routing.ActiveVar(index) == routing.ActiveVar(other))
        first_type = 2 * len(m.tied)  # one pair of types per double-handed visit tied so far
        routing.SetVisitType(other, first_type, routing.TYPE_ADDED_TO_VEHICLE)
        routing.SetVisitType(index, first_type + 1, routing.TYPE_ADDED_TO_VEHICLE)
        routing.AddHardTypeIncompatibility(first_type, first_type + 1)
        m.tied.append(StartGap(other, index, 0, 0))
