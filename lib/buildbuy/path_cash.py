"""After-tax cash of each path, from cost lines and value lines (vectorised over draws).

The decision compares four paths against each other on ONE basis, the after-tax free
cash flow (:mod:`buildbuy.tax`) of value minus cost:

- **A** buy: the API's cost lines and value (:mod:`buildbuy.value`);
- **B** build: the self-host cost lines and value at ``quality_b_vs_a``;
- **H** hybrid: B's cost lines, plus A's lines (API fees, integration, A's staff and drift)
  in the months before B goes live, when the API bridges; value from A's go-live, at A's
  quality until B is live and at B's after;
- **0** status quo: nothing, zero everywhere. Every NPV is measured against it.

Cost lines come from :func:`buildbuy.tco.monthly_lines` (``components=True``): capex rows
that are positive are purchases, negative ones the resale credit at the horizon (sale
proceeds). Owned hardware is disposed of in the last month, even at zero proceeds, so its
remaining book value is written off there (a tax-deductible loss).

This module takes the lines as arguments and does not import :mod:`buildbuy.tco`: both
:mod:`buildbuy.tco_compare` (one scenario) and :mod:`buildbuy.uncertainty` (many draws)
call it, so the Monte Carlo prices exactly what the record prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from buildbuy import demand, tax, value

__all__ = ["CASH_CATEGORIES", "PATHS", "path_cash", "split_lines"]

#: Paths with lines; the status quo ``"0"`` is all zeros.
PATHS: tuple[str, ...] = ("A", "B", "H", "0")
#: Cost categories that are operating cash costs (they reduce EBITDA).
CASH_CATEGORIES: tuple[str, ...] = ("opex", "people", "drift")


def split_lines(lines: Mapping[tuple[str, ...], np.ndarray], side: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(operating costs, purchases, proceeds)`` of one side from component lines.

    ``lines`` maps ``(side, category, component)`` (or ``(side, category)``) to arrays.
    """
    shape = np.shape(next(iter(lines.values())))
    costs, purchases, proceeds = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for key, arr in lines.items():
        if key[0] != side:
            continue
        if key[1] in CASH_CATEGORIES:
            costs = costs + arr
        elif key[1] == "capex":
            purchases = purchases + np.maximum(arr, 0.0)
            proceeds = proceeds + np.maximum(-arr, 0.0)
    return costs, purchases, proceeds


def path_cash(S: Any, lines: Mapping[tuple[str, ...], np.ndarray],
              params: Mapping[str, Any] | None = None) -> dict[str, tax.AfterTax]:
    """After-tax lines of paths A, B, H and 0 for scenario ``S``.

    Parameters
    ----------
    S : Scenario
        Gives the horizon, go-live months, hosting, book life and (unless ``params``
        overrides them) the value and tax fields.
    lines : mapping
        Cost lines by ``(side, category, component)``, arrays ``(n, horizon + 1)``.
    params : mapping, optional
        Draws of ``monthly_tokens``, ``annual_growth``, ``value_usd_per_request``,
        ``quality_b_vs_a`` and ``tax_rate`` as ``(n, 1)`` arrays (Monte Carlo); the
        scenario's values otherwise.

    Returns
    -------
    dict
        ``{path: buildbuy.tax.AfterTax}`` for ``"A"``, ``"B"``, ``"H"`` and ``"0"``.
    """
    p = {k: float(getattr(S, k)) for k in ("monthly_tokens", "annual_growth",
                                           "value_usd_per_request", "quality_b_vs_a",
                                           "tax_rate")}
    p.update(params or {})
    live = value.live_from(S)
    values = value.value_arrays(p, horizon=S.horizon_months,
                                tokens_per_request=S.tokens_per_request,
                                live_a_from=live["A"], live_b_from=live["B"])
    m = demand.months(S.horizon_months)
    bridge = (m < live["B"]).astype(float) * float(live["A"] < live["B"])
    a = split_lines(lines, "A")
    b = split_lines(lines, "B")
    sides = {"A": a, "B": b, "H": tuple(bb + aa * bridge for aa, bb in zip(a, b, strict=True))}
    disposal = [S.horizon_months] if S.hosting == "owned" else []
    out = {}
    schedules: list[tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    for path, (costs, purchases, proceeds) in sides.items():
        # B and H buy the same hardware: one schedule for both
        known = next((s for buy, s in schedules if buy is purchases
                      or np.array_equal(buy, purchases)), None)
        if known is None:
            known = tax.depreciation(purchases, S.depreciation_life_months,
                                     disposal_months=disposal)
            schedules.append((purchases, known))
        out[path] = tax.after_tax(value=values[path], costs=costs, purchases=purchases,
                                  proceeds=proceeds, tax_rate=p["tax_rate"],
                                  life_months=S.depreciation_life_months,
                                  disposal_months=disposal, schedule=known)
    zero = np.zeros_like(out["A"].fcf)
    out["0"] = tax.AfterTax(*(zero for _ in range(11)))
    return out
