"""Demand: the tokens and requests a scenario must serve, month by month.

One growth formula for the whole library. Month 0 is "upfront, at the start" and carries
no traffic; month ``m >= 1`` carries::

    monthly_tokens * (1 + annual_growth) ** ((m - 1) / 12)

tokens (prompt + output), i.e. ``annual_growth`` compounds monthly. A request is
``tokens_per_request`` tokens, so requests = tokens / ``tokens_per_request``.

Examples
--------
>>> import numpy as np
>>> volume_tokens(1e9, 0.44, np.arange(14)).round(-6)[[0, 1, 13]].tolist()
[0.0, 1000000000.0, 1440000000.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SECONDS_PER_MONTH", "months", "peak_tokens_per_s", "requests", "tokens",
           "volume_tokens"]

#: Seconds in the 730-hour month the whole library uses (``buildbuy.costs.HOURS_PER_MONTH``;
#: written out here so that demand imports nothing: ``tests/test_structure.py`` checks).
SECONDS_PER_MONTH: float = 730.0 * 3600.0


def months(horizon_months: int) -> np.ndarray:
    """Month index ``0..horizon_months`` as floats."""
    return np.arange(int(horizon_months) + 1, dtype=float)


def volume_tokens(monthly_tokens: Any, annual_growth: Any, month: Any) -> np.ndarray:
    """Tokens demanded in each month of ``month`` (0 = upfront: no traffic).

    Broadcasts: ``monthly_tokens`` and ``annual_growth`` may be arrays of shape ``(n, 1)``
    (one row per Monte Carlo draw) against a 1-D ``month``.
    """
    m = np.asarray(month, dtype=float)
    return (np.asarray(monthly_tokens, dtype=float)
            * (1.0 + np.asarray(annual_growth, dtype=float)) ** ((m - 1.0) / 12.0) * (m >= 1))


def tokens(S: Any) -> np.ndarray:
    """Tokens demanded per month ``0..horizon`` for scenario ``S``."""
    return volume_tokens(S.monthly_tokens, S.annual_growth, months(S.horizon_months))


def requests(S: Any) -> np.ndarray:
    """Requests demanded per month ``0..horizon``: tokens / ``tokens_per_request``."""
    return tokens(S) / float(S.tokens_per_request)


def peak_tokens_per_s(monthly_volume_tokens: Any, peak_to_average: Any) -> Any:
    """Peak load in tokens/s of a month with ``monthly_volume_tokens`` tokens.

    ``peak_to_average`` x the month's average rate (volume / 2,628,000 s).

    >>> float(peak_tokens_per_s(2.628e9, 3.0))
    3000.0
    """
    return (np.asarray(monthly_volume_tokens, dtype=float) * peak_to_average
            / SECONDS_PER_MONTH)
