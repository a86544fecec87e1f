"""``scheduler.text.counted``: a count with its noun in the right number, for every user-facing message."""

from __future__ import annotations

import pytest

from scheduler.text import counted


@pytest.mark.parametrize(("n", "noun", "plural", "expected"), [
    (1, "worker", None, "1 worker"),
    (0, "worker", None, "0 workers"),
    (2, "visit", None, "2 visits"),
    (1000, "visit", None, "1,000 visits"),
    (1, "worker's route", "workers' routes", "1 worker's route"),
    (3, "worker's route", "workers' routes", "3 workers' routes"),
])
def test_counted_singular_and_plural(n, noun, plural, expected):
    """One is singular; zero, several and thousands (with separators) are plural; irregular plurals given."""
    assert counted(n, noun, plural) == expected


def test_counted_lives_where_the_domain_can_use_it():
    """scheduler.pay (domain) uses the same helper as the command line, which re-uses it, not a copy."""
    import homecare_cli.common as cli_common
    import scheduler.pay as pay

    assert pay.counted is counted and cli_common.counted is counted
