"""Search parameters: bad values are refused with the field named."""

from __future__ import annotations

import pytest

from scheduler.errors import ConfigError
from solver.params import SolveParams


@pytest.mark.parametrize(("field", "value"), [("ils_acceptance", "RANDOM"), ("ruin", "SHRED"), ("ruin_visits", 0)])
def test_iterated_local_search_params_are_checked(field, value):
    """Out-of-range ILS settings are refused, and the message names the field and the bad value."""
    with pytest.raises(ConfigError, match=f"{field}.*{value}"):
        SolveParams(**{field: value})
