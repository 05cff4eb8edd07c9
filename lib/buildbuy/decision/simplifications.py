"""How much two of the model's simplifications move the decision, for one scenario."""

from __future__ import annotations

import types
from typing import Any

import pandas as pd

from buildbuy.decision.record import decide

__all__ = ["simplification_effects"]


def _variant(name: str, size: Any, *, elastic: bool = True) -> Any:
    """``buildbuy.tco`` with its replica sizing (and cloud elasticity) replaced.

    A cost model for :func:`buildbuy.tco_compare.compare`: the same lines, the decision
    basis and the verdict, with one simplification changed.
    """
    from buildbuy import tco

    model = types.SimpleNamespace(**{k: getattr(tco, k) for k in (
        "cashflows", "monthly_lines", "monthly_totals", "fleet_by_year")})
    model.__name__ = f"buildbuy.tco[{name}]"
    model.sizing = lambda S, *, allow_infeasible=False: size
    model.context = lambda S, size=None: tco.context(S, size, elastic=elastic)
    model.cashflows = lambda S, *, size=None: tco.cashflows(
        S, context=tco.context(S, size, elastic=elastic))
    model.fleet_by_year = lambda S, *, size=None: tco.fleet_by_year(S, size=size)
    return model


def simplification_effects(S: Any) -> pd.DataFrame:
    """How much two simplifications of the cost model move Scenario B, for this scenario.

    - **Throughput error.** On published saturated runs it was not fitted to, the TPS
      model's throughput for this scenario's GPU family is off by a median ``m`` %
      (positive = optimistic; :func:`buildbuy.tps.accuracy.family_accuracy`; a family
      with no held-out run uses its planning margin). Every replica's capacity is divided
      by ``1 + m/100`` (the load, the day's shape and path A unchanged) to show what B
      would cost, and what the decision would be, if the real throughput differed by that
      much.
    - **Always at peak.** The model before hourly sizing ran the cloud fleet at each
      year's peak-hour size for all 730 hours of every month. Rerunning it that way
      (``buildbuy.tco.context(S, elastic=False)``) shows how much it overstated B's cost.
      Owned servers are bought for the peak either way (zero effect).

    Returns one row per simplification: ``effect_on_b_usd`` (change of B's cash cost over
    the horizon against the model; positive = the simplification makes B dearer),
    ``effect_on_b_share`` (of B's cash cost) and ``recommendation`` (the verdict of the
    decision record with it).
    """
    from buildbuy import tco, tco_compare
    from buildbuy.tps import accuracy

    base = decide(S)
    tco_b = base.comparison.tco_usd["B"]
    fam = accuracy.family_accuracy(S.gpu)
    optimism = (fam.margin_share if fam.n_held_out == 0 else fam.median_error_pct / 100.0)
    size = tco.sizing(S, allow_infeasible=True)
    slower = tco.Sizing(size.fleet, tuple((tp, cap / (1.0 + optimism))
                                          for tp, cap in size.options), size.error)
    runs = [
        (f"throughput {abs(optimism):.1%} {'lower' if optimism >= 0 else 'higher'} "
         f"({fam.family} median)", _variant(f"throughput/{1 + optimism:.6f}", slower)),
        ("cloud fleet always at peak size", _variant("always-on", size, elastic=False)),
    ]
    rows = []
    for label, model in runs:
        c = tco_compare.compare(S, model=model)
        rows.append({"simplification": label, "effect_on_b_usd": c.tco_usd["B"] - tco_b,
                     "recommendation": c.recommendation})
    table = pd.DataFrame(rows)
    table["effect_on_b_share"] = table["effect_on_b_usd"] / tco_b
    return table.set_index("simplification")[["effect_on_b_usd", "effect_on_b_share",
                                              "recommendation"]]
