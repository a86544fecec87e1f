"""Convert between ``HH:MM`` wall-clock strings and seconds since midnight.

Times in plans and rosters are local wall-clock times (Europe/London) on the
plan's date. Internally every time is an ``int`` number of seconds since local
midnight, so a day is ``0`` to ``86_400`` (``24:00`` is allowed as an end time).
"""

from __future__ import annotations

import re

DAY_S = 24 * 3600
TIMEZONE = "Europe/London"

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_hhmm(text: str) -> int:
    """Parse ``HH:MM`` (or ``HH:MM:SS``) into seconds since midnight.

    Parameters
    ----------
    text
        A time from ``00:00`` to ``24:00``.

    Returns
    -------
    int
        Seconds since midnight.

    Raises
    ------
    ValueError
        If ``text`` is not a valid time of day.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a time as 'HH:MM', got {text!r}")
    match = _HHMM.match(text.strip())
    if match is None:
        raise ValueError(f"expected a time as 'HH:MM', got {text!r}")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if minutes > 59 or seconds > 59:
        raise ValueError(f"{text!r} is not a time of day")
    total = hours * 3600 + minutes * 60 + seconds
    if total > DAY_S:
        raise ValueError(f"{text!r} is later than 24:00")
    return total


def format_hhmm(seconds: int) -> str:
    """Format seconds since midnight as ``HH:MM``, rounding down to the minute.

    Parameters
    ----------
    seconds
        Seconds since midnight, from 0 to 86,400.

    Returns
    -------
    str
        The time as ``HH:MM``.

    Raises
    ------
    ValueError
        If ``seconds`` is negative.
    """
    if seconds < 0:
        raise ValueError(f"time {seconds} s is before midnight")
    minutes = int(seconds) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def ceil_minutes(seconds: int) -> int:
    """Round a duration in seconds up to whole minutes.

    Parameters
    ----------
    seconds
        A non-negative duration (seconds).

    Returns
    -------
    int
        The duration in whole minutes, rounded up.
    """
    return -(-int(seconds) // 60)
