"""What the API path pays per token over time: list-price change and model refreshes.

Two different things make an API cheaper, and they must not be confused:

- ``api_price_decline``: the *same model's* list price falling, per year, compounded
  monthly. A named tier's price has been flat for long stretches: Claude's Sonnet tier
  has cost $3 / $15 per million input / output tokens from Claude 3 Sonnet (March 2024)
  to Sonnet 4.5 (September 2025). The default is 0.
- A **model refresh**: moving to a newer, cheaper model of the same capability. The
  steep "LLMflation" declines (about 10x a year for constant capability, a16z, November
  2024) are this kind: they need a switch of model. With ``api_refresh_months = N > 0``
  the path refreshes every ``N`` months after it goes live, each time paying
  ``api_refresh_price_share`` of the previous price and a migration of
  ``api_migration_engineer_days`` engineer-days (re-evaluation, prompt rework, regression
  tests) at the ML engineer's day rate.

Examples
--------
>>> import numpy as np
>>> m = np.arange(0, 8)
>>> price_index(m, decline=0.0, live_from=2, refresh_months=3, refresh_price_share=0.5)
array([1. , 1. , 1. , 1. , 1. , 0.5, 0.5, 0.5])
>>> refresh_months_mask(m, live_from=2, refresh_months=3).astype(int)
array([0, 0, 0, 0, 0, 1, 0, 0])
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["price_index", "refresh_count", "refresh_months_mask"]


def refresh_count(months: Any, *, live_from: int, refresh_months: int) -> np.ndarray:
    """Refreshes done by each month: ``floor((m - live_from) / N)`` once live, else 0."""
    m = np.asarray(months, dtype=float)
    if refresh_months <= 0:
        return np.zeros_like(m)
    return np.where(m >= live_from, np.floor((m - live_from) / refresh_months), 0.0)


def refresh_months_mask(months: Any, *, live_from: int, refresh_months: int) -> np.ndarray:
    """1.0 in the months a refresh happens (``live_from + k N``, ``k >= 1``), else 0."""
    n = refresh_count(months, live_from=live_from, refresh_months=refresh_months)
    prev = refresh_count(np.asarray(months, dtype=float) - 1.0, live_from=live_from,
                         refresh_months=refresh_months)
    return (n > prev).astype(float)


def price_index(months: Any, *, decline: Any, live_from: int, refresh_months: int,
                refresh_price_share: Any) -> np.ndarray:
    """Price per token in month ``m`` relative to month 1's list price.

    ``(1 - decline) ** ((max(m, 1) - 1) / 12) * refresh_price_share ** refreshes(m)``.
    """
    m = np.asarray(months, dtype=float)
    n = refresh_count(m, live_from=live_from, refresh_months=refresh_months)
    return ((1.0 - np.asarray(decline)) ** ((np.maximum(m, 1.0) - 1.0) / 12.0)
            * np.asarray(refresh_price_share, dtype=float) ** n)
