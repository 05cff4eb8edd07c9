"""How much two of the model's simplifications move the decision, for one scenario."""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildbuy.decision.record import decide

__all__ = ["simplification_effects"]


def simplification_effects(S: Any) -> pd.DataFrame:
    """How much two simplifications of the cost model move Scenario B, for this scenario.

    - **Throughput error.** On published saturated runs it was not fitted to, the TPS
      model's throughput for this scenario's GPU family is off by a median ``m`` %
      (positive = optimistic; :func:`buildbuy.tps.accuracy.family_accuracy`; a family
      with no held-out run uses its planning margin). Sizing the fleet for ``(1 + m/100)``
      times the peak shows what B would cost if the real throughput differed by that much
      (the decision record of that scenario).
    - **Always-on fleet.** The fleet is sized for the peak and runs all month; a perfect
      autoscaler would rent only the average load, so at most ``1 - 1/peak_to_average``
      of the cloud GPU rent could be saved. Owned servers are bought for the peak anyway
      (zero effect).

    Returns one row per simplification: ``effect_on_b_usd`` (change of B's cash cost over
    the horizon; negative = B would be cheaper), ``effect_on_b_share`` (of B's cash cost)
    and ``recommendation`` (the verdict with that change; ``"-"`` where it is only a
    bound).
    """
    from buildbuy.tps import accuracy

    base = decide(S)
    tco_b = base.comparison.tco_usd["B"]
    fam = accuracy.family_accuracy(S.gpu)
    optimism = (fam.margin_share if fam.n_held_out == 0 else fam.median_error_pct / 100.0)
    slower = decide(S.replace(peak_to_average=S.peak_to_average * (1.0 + optimism)))
    cf = base.comparison.cashflows
    rent = float(cf[(cf.scenario == "B") & (cf.component == "gpu_rental")].usd.sum())
    autoscale = 0.0 - rent * (1.0 - 1.0 / S.peak_to_average)
    table = pd.DataFrame([
        {"simplification": f"throughput {abs(optimism):.1%} "
                           f"{'lower' if optimism >= 0 else 'higher'} ({fam.family} median)",
         "effect_on_b_usd": slower.comparison.tco_usd["B"] - tco_b,
         "recommendation": slower.recommendation},
        {"simplification": "perfect autoscaling (bound)",
         "effect_on_b_usd": autoscale, "recommendation": "-"},
    ])
    table["effect_on_b_share"] = table["effect_on_b_usd"] / tco_b
    return table.set_index("simplification")[["effect_on_b_usd", "effect_on_b_share",
                                              "recommendation"]]
