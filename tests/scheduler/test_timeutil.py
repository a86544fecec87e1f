"""Wall-clock HH:MM strings and seconds since midnight."""

from __future__ import annotations

import pytest

from scheduler.timeutil import DAY_S, ceil_minutes, format_hhmm, parse_hhmm


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:00", 0), ("7:05", 7 * 3600 + 300), ("08:30", 30600), ("23:59", DAY_S - 60), ("24:00", DAY_S),
     ("08:00:30", 28830), (" 09:15 ", 33300)],
)
def test_parse_hhmm_reads_times_of_day(text: str, seconds: int) -> None:
    """HH:MM, H:MM and HH:MM:SS parse to seconds since midnight; 24:00 ends the day."""
    assert parse_hhmm(text) == seconds


@pytest.mark.parametrize("text", ["", "8", "08:60", "08:00:60", "24:01", "25:00", "8am", "08-00", "-1:00"])
def test_parse_hhmm_rejects_non_times(text: str) -> None:
    """Anything that is not a time from 00:00 to 24:00 raises ValueError quoting it."""
    with pytest.raises(ValueError, match=repr(text).replace("(", r"\(")):
        parse_hhmm(text)


@pytest.mark.parametrize("value", [None, 830, 8.5, ["08:00"]])
def test_parse_hhmm_rejects_non_strings(value: object) -> None:
    """Numbers and other non-strings are not times."""
    with pytest.raises(ValueError, match="expected a time as 'HH:MM'"):
        parse_hhmm(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00"), (28800, "08:00"), (28859, "08:00"), (DAY_S, "24:00")])
def test_format_hhmm_rounds_down_to_the_minute(seconds: int, text: str) -> None:
    """Seconds format as zero-padded HH:MM, dropping leftover seconds."""
    assert format_hhmm(seconds) == text


def test_format_hhmm_rejects_negative_times() -> None:
    """A time before midnight is an error."""
    with pytest.raises(ValueError, match="before midnight"):
        format_hhmm(-1)


def test_format_and_parse_round_trip_every_minute() -> None:
    """Every minute of the day survives format then parse."""
    assert all(parse_hhmm(format_hhmm(m * 60)) == m * 60 for m in range(24 * 60 + 1))


@pytest.mark.parametrize(("seconds", "minutes"), [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (3600, 60)])
def test_ceil_minutes_rounds_up(seconds: int, minutes: int) -> None:
    """Durations round up to whole minutes."""
    assert ceil_minutes(seconds) == minutes
