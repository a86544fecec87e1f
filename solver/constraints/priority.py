"""Priorities: leaving a visit out costs its priority's penalty (``SolveParams.penalty``).

A visit that must be served (a region's half of a double-handed visit whose
other half is served outside it) gets no disjunction: the search may not leave
it out.
"""

from __future__ import annotations

from solver.constraints.build import ModelBuild


def add(m: ModelBuild) -> None:
    """Give each optional visit node a disjunction with its penalty."""
    for i, visit in enumerate(m.node_visit):
        if visit.id not in m.required:
            m.routing.AddDisjunction([m.manager.NodeToIndex(i)], m.params.penalty(visit.priority))
