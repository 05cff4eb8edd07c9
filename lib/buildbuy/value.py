"""The value side: what each path earns against doing nothing, month by month.

A served request creates ``value_usd_per_request`` at Scenario A's quality (a support
contact deflected, clinician minutes saved, a sale not lost) and ``quality_b_vs_a`` times
that on the self-hosted model. Each path earns value only from its go-live month:

- **A** (buy): requests x value, from month ``months_to_production_a + 1``;
- **B** (build): requests x value x ``quality_b_vs_a``, from month
  ``months_to_production_b + 1`` (:func:`buildbuy.gpu_supply.months_to_production_b`: the build,
  or the owned servers' lead time if longer);
- **H** (hybrid): A's value from A's go-live until B goes live, then B's;
- **0** (status quo, doing nothing): no value and no cost. Every NPV in the decision is
  measured against it.

The months before a path goes live earn nothing: that value *forgone* is the path's
opportunity cost. :func:`forgone` returns it as its own labelled line for the lessons; it is
already inside the value lines (a path that goes live later earns less), so it is never added
to costs as well.

Examples
--------
A path live from month 2 in a 3-month horizon, 1,000 requests a month worth $0.50 each:

>>> import numpy as np
>>> p = {"monthly_tokens": 1e6, "annual_growth": 0.0, "value_usd_per_request": 0.5,
...      "quality_b_vs_a": 0.8}
>>> v = value_arrays(p, horizon=3, tokens_per_request=1000, live_a_from=2, live_b_from=3)
>>> v["A"].tolist(), v["B"].tolist(), v["H"].tolist()
([0.0, 0.0, 500.0, 500.0], [0.0, 0.0, 0.0, 400.0], [0.0, 0.0, 500.0, 400.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from buildbuy import demand
from buildbuy.gpu_supply import months_to_production_b

__all__ = ["PATHS", "forgone", "live_from", "monthly_value", "serving_path", "value_arrays"]

#: The three ways to act; the status quo ("0") has no lines at all.
PATHS: tuple[str, ...] = ("A", "B", "H")


def live_from(S: Any) -> dict[str, int]:
    """First month each path serves: ``{"A": ..., "B": ..., "H": ...}``.

    H goes live with whichever of A and B goes live first (it bridges on the API).
    """
    a, b = int(S.months_to_production_a) + 1, months_to_production_b(S) + 1
    return {"A": a, "B": b, "H": min(a, b)}


def serving_path(live_a_from: int, live_b_from: int, horizon: int) -> dict[str, np.ndarray]:
    """Which engine serves each month of each path: masks ``{"A": ..., "B": ...}`` per path.

    Returns ``{path: (uses_api, uses_self_host)}`` as 0/1 arrays over months ``0..horizon``.
    H uses the API from A's go-live until B's go-live, then self-hosting.
    """
    m = demand.months(horizon)
    api_a = (m >= live_a_from).astype(float)
    own_b = (m >= live_b_from).astype(float)
    bridge = ((m >= live_a_from) & (m < live_b_from)).astype(float)
    return {"A": np.stack([api_a, 0 * m]), "B": np.stack([0 * m, own_b]),
            "H": np.stack([bridge, own_b])}


def value_arrays(p: Mapping[str, Any], *, horizon: int, tokens_per_request: float,
                 live_a_from: int, live_b_from: int) -> dict[str, np.ndarray]:
    """Monthly value of each path, USD (positive = value created).

    ``p`` maps ``monthly_tokens``, ``annual_growth``, ``value_usd_per_request`` and
    ``quality_b_vs_a`` to scalars or arrays of shape ``(n, 1)`` (one row per draw); the
    result has shape ``(..., horizon + 1)``.
    """
    m = demand.months(horizon)
    per_request = (demand.volume_tokens(p["monthly_tokens"], p["annual_growth"], m)
                   / float(tokens_per_request) * p["value_usd_per_request"])
    serve = serving_path(live_a_from, live_b_from, horizon)
    q = p["quality_b_vs_a"]
    return {path: per_request * (api + q * own) for path, (api, own) in serve.items()}


def _params(S: Any) -> dict[str, float]:
    return {k: float(getattr(S, k)) for k in
            ("monthly_tokens", "annual_growth", "value_usd_per_request", "quality_b_vs_a")}


def monthly_value(S: Any) -> dict[str, np.ndarray]:
    """Monthly value of paths A, B and H for scenario ``S`` (arrays over months 0..horizon).

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("hospital_notes")
    >>> v = monthly_value(S)
    >>> float(v["A"][S.months_to_production_a + 1]) == S.monthly_tokens * (
    ...     1 + S.annual_growth) ** (S.months_to_production_a / 12) / S.tokens_per_request \\
    ...     * S.value_usd_per_request
    True
    """
    live = live_from(S)
    return value_arrays(_params(S), horizon=S.horizon_months,
                        tokens_per_request=S.tokens_per_request, live_a_from=live["A"],
                        live_b_from=live["B"])


def forgone(S: Any) -> dict[str, np.ndarray]:
    """Value each path misses before it goes live (its opportunity cost), per month.

    The value the path's own model would have created in the months ``1 ..
    live - 1``: A at A's quality, B at ``quality_b_vs_a``; H misses only the months before
    the API is live. Shown as a labelled line; never added to costs (the value lines
    already leave those months out).

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("bank_support")
    >>> f = forgone(S)
    >>> int((f["B"] > 0).sum()) == S.months_to_production  # the build outlasts the delivery
    True
    """
    p = _params(S)
    m = demand.months(S.horizon_months)
    per_request = (demand.volume_tokens(p["monthly_tokens"], p["annual_growth"], m)
                   / float(S.tokens_per_request) * p["value_usd_per_request"])
    live = live_from(S)
    quality = {"A": 1.0, "B": p["quality_b_vs_a"],
               "H": 1.0 if live["A"] <= live["B"] else p["quality_b_vs_a"]}
    return {path: per_request * quality[path] * ((m >= 1) & (m < live[path]))
            for path in PATHS}
