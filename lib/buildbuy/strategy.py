"""Strategic costs of building, in the learner's numbers: GPU scarcity and focus.

- :func:`lead_time_scenarios`: the scenario re-run with each published GPU server lead time
  (``data/gpu_lead_times.csv``): when B goes live, the months it loses against its build
  plan, the value it forgoes before it serves, and what that does to the decision.
- :func:`strategic_cost`: what the team does *not* build while it builds this: the people
  B ties up beyond A (FTE, engineer-months, their cost in the model) and how many projects
  the size of A's integration that difference would pay for.

Both read the decision record (:func:`buildbuy.decision.decide`) and its cost lines for
every number they print.

Examples
--------
>>> from buildbuy import scenarios
>>> t = lead_time_scenarios(scenarios.load("bank_support"))
>>> bool(t["delay_months"].min() >= 0)
True
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildbuy import derivation, gpu_supply
from buildbuy.decision import decide
from buildbuy.scenarios import ROLES

__all__ = ["lead_time_scenarios", "outcome", "strategic_cost"]


def outcome(S: Any) -> tuple[float, str]:
    """``(NPV gap of B over A in USD, recommendation)`` from the decision record.

    The gap is after tax, against doing nothing (positive = B better).
    """
    D = decide(S)
    return float(D.npv_gap_usd), str(D.recommendation)


def _forgone_b(S: Any) -> float:
    return float(decide(S).figures["forgone_value_b_usd"].value)


def lead_time_scenarios(S: Any) -> pd.DataFrame:
    """B's go-live and the decision under the scenario's lead time and each published one.

    Returns
    -------
    pandas.DataFrame
        One row per case: ``case`` ("your scenario" first, then each market of
        ``data/gpu_lead_times.csv`` at the high end of its range, with its date),
        ``lead_time_months``, ``b_live_month`` (first month B serves),
        ``delay_months`` (beyond the build's ``months_to_production``),
        ``b_forgone_usd`` (the value B forgoes before it serves: its opportunity cost),
        ``npv_b_usd`` (B's after-tax NPV against doing nothing), ``npv_b_minus_a_usd`` (the
        record's NPV gap) and ``decision`` (the record's recommendation). Cloud hosting is
        not delayed by server lead times (its rows all equal the first).
    """
    cases = [("your scenario", int(S.gpu_lead_time_months))]
    for _, r in gpu_supply.lead_times().iterrows():
        cases.append((f"{r['market']} ({r['as_of'][:7]})", int(r["lead_time_months"])))
    rows = []
    for name, months in cases:
        s = S.replace(gpu_lead_time_months=months)
        go = gpu_supply.months_to_production_b(s)
        gap, rec = outcome(s)
        rows.append({"case": name, "lead_time_months": months, "b_live_month": go + 1,
                     "delay_months": go - int(S.months_to_production),
                     "b_forgone_usd": _forgone_b(s),
                     "npv_b_usd": float(decide(s).npv_vs_status_quo_usd["B"]),
                     "npv_b_minus_a_usd": gap, "decision": rec})
    return pd.DataFrame(rows)


def strategic_cost(S: Any) -> pd.DataFrame:
    """What B's team does not build while it builds and runs this, next to A's.

    Rows (``measure``), with columns ``A``, ``B``, ``B_minus_A`` and ``how``:

    - ``staff_fte``: FTE on the path (the scenario's roles, plus the MLOps FTE the model
      adds to staff B's on-call rotation, averaged over the horizon);
    - ``engineer_months_before_live``: FTE x months before the path serves;
    - ``engineer_months_horizon``: FTE x horizon months;
    - ``people_cost_usd``: the path's people lines over the horizon (already in the TCO);
    - ``integrations_forgone``: B minus A people cost / A's integration cost: how many
      projects the size of A's integration the extra people would have paid for.
    """
    cf = derivation.lines(S)
    h = float(S.horizon_months)

    def people(side: str) -> float:
        return float(cf[(cf["scenario"] == side) & (cf["concept"] == "people")]["usd"].sum())

    on_call = cf[(cf["scenario"] == "B") & (cf["component"] == "on_call_staff")]["usd"].sum()
    extra_fte = float(on_call) / (S.mlops_usd_per_year / 12.0) / h
    fte = {"A": sum(getattr(S, f"{r}_fte_a") for r in ROLES),
           "B": sum(getattr(S, f"{r}_fte_b") for r in ROLES) + extra_fte}
    before = {"A": fte["A"] * S.months_to_production_a,
              "B": (fte["B"] - extra_fte) * gpu_supply.months_to_production_b(S)}
    cost = {"A": people("A"), "B": people("B")}
    rows = [
        ("staff_fte", fte, "FTE by role, plus B's on-call top-up averaged over the horizon"),
        ("engineer_months_before_live", before, "FTE x months before the path serves"),
        ("engineer_months_horizon", {k: v * h for k, v in fte.items()}, "FTE x horizon months"),
        ("people_cost_usd", cost, "the path's people lines over the horizon (in the TCO)"),
    ]
    out = [{"measure": m, "A": v["A"], "B": v["B"], "B_minus_A": v["B"] - v["A"], "how": how}
           for m, v, how in rows]
    n = (cost["B"] - cost["A"]) / S.api_integration_usd if S.api_integration_usd else 0.0
    out.append({"measure": "integrations_forgone", "A": 0.0, "B": n, "B_minus_A": n,
                "how": f"(B - A people cost) / A's integration (${S.api_integration_usd:,.0f})"})
    return pd.DataFrame(out)
