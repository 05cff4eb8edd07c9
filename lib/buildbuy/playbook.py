"""One 3-step playbook per lesson, filled from the learner's own results.

:func:`playbook` returns three steps (``do``, ``your_number``, ``revisit_when``) for
lesson 1 (physics: measure, size, price), lesson 2 (economics: decide, hedge, watch) and
lesson 3 (board: the ask, the scaling investment, the focus it costs). Every number comes
from the model: the decision record (:func:`buildbuy.decision.decide`), the component
tables (:mod:`buildbuy.derivation`), :mod:`buildbuy.scaling` and :mod:`buildbuy.strategy`.

Examples
--------
>>> from buildbuy import scenarios
>>> p = playbook(scenarios.load("hospital_notes"), 2)
>>> list(p["step"])
[1, 2, 3]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildbuy import derivation, gpu_supply, scaling, strategy, tco
from buildbuy._validate import bad
from buildbuy.decision import decide

__all__ = ["LESSONS", "playbook"]

#: Lessons with a playbook.
LESSONS: tuple[int, ...] = (1, 2, 3)


def _usd(x: float) -> str:
    return f"-${-x / 1e6:,.2f}M" if x < 0 else f"${x / 1e6:,.2f}M"


def _lesson1(S: Any) -> list[tuple[str, str, str]]:
    C = tco.compare(S)
    f = C.fleet
    y1 = f.years[0]
    unit = C.usd_per_1k_tokens.dropna()
    last = unit.iloc[-1] if not unit.empty else None
    price = (f"last month ${last['A']:.4f} (API) vs ${last['B']:.4f} (self-host) per 1k "
             "tokens, all-in" if last is not None else "no month with both paths live")
    return [
        ("Measure: audit the endpoint you would run (buildbuy audit) and compare its "
         "tokens/s per GPU with the model's.",
         f"model: {f.tokens_per_s_per_gpu:,.0f} tokens/s (prompt + output) per {S.gpu} at "
         f"batch {f.batch}, "
         f"{f.ms_per_output_token:.1f} ms per output token (target "
         f"{S.max_ms_per_output_token:g})",
         "the measured tokens/s is more than 20% below the model's: re-size the fleet"),
        ("Size: buy or rent the fleet for the busiest hour with headroom, not for the "
         "average.",
         f"{y1.gpus} GPUs in year 1 for a peak of {y1.peak_tokens_per_s:,.0f} tokens/s at "
         f"{S.target_utilisation:.0%} target utilisation, redundancy {S.redundancy}",
         "the peak-to-average ratio or the latency target changes"),
        ("Price: compare the all-in cost per 1k tokens, not the list prices.", price,
         "the API's list price or the GPU's hourly price moves by more than 20%"),
    ]


def _lesson2(S: Any) -> list[tuple[str, str, str]]:
    D = decide(S)
    npv = D.npv_vs_status_quo_usd
    be = D.break_even_monthly_tokens
    pb = D.payback_months.get("discounted")
    live = gpu_supply.months_to_production_b(S)
    be_text = (f"break-even {be:.3g} tokens a month against {S.monthly_tokens:.3g} today"
               if be is not None else "B does not break even at any volume up to 1e14")
    blocked = [p for p in ("A", "B", "H") if D.feasibility.get(p)]
    return [
        (f"Decide: {D.recommendation}.",
         f"after-tax NPV against doing nothing over {S.horizon_months} months: buy "
         f"{_usd(npv['A'])}, build {_usd(npv['B'])}, hybrid {_usd(npv['H'])}"
         + (f"; ruled out: {', '.join(blocked)}" if blocked else ""),
         "a Monte Carlo P10 on the other side of zero, or a new API price list"),
        ("Hedge: know the volume that flips the answer.", be_text,
         "volume drifts toward the break-even"),
        ("Watch: B's go-live and payback, the months that carry the risk.",
         f"B serves from month {live + 1} (build {S.months_to_production}, GPU lead time "
         f"{S.gpu_lead_time_months if S.hosting == 'owned' else 0} months); discounted "
         f"payback {'never' if pb is None else f'{pb:.1f} months'}",
         "delivery or the build slips past the planned month"),
    ]


def _lesson3(S: Any) -> list[tuple[str, str, str]]:
    capex = derivation.component_table(S, "capex")
    y1 = float(capex.loc[capex["line"] != "resale", "year_1_usd"].sum()) if len(capex) else 0.0
    sc = scaling.scaling_bottlenecks(S)
    path = "A" if strategy.outcome(S)[1] == "buy" else "B"
    top = sc[sc["path"] == path].sort_values("investment_usd", ascending=False).iloc[0]
    st = strategy.strategic_cost(S).set_index("measure")
    em = float(st.loc["engineer_months_horizon", "B_minus_A"])
    n = float(st.loc["integrations_forgone", "B"])
    return [
        ("Ask the board for the year-1 cash, with its EBITDA and EBIT effect.",
         f"year-1 capex {_usd(y1)} (servers and networking)" if y1 else
         "no capex: B rents its GPUs (operating cost only)",
         "the server quote or the depreciation life changes"),
        ("Fund the binding scaling bottleneck of the path you choose first.",
         f"{top['kind']} ({top['path']}): {top['what_binds']}; {_usd(top['investment_usd'])}",
         "volume reaches 3x today's"),
        ("Name what the team will not build.",
         f"B takes {em:,.0f} more engineer-months than A over the horizon, the cost of "
         f"{n:,.0f} integrations like A's",
         "a higher-value project competes for the same engineers"),
    ]


def playbook(S: Any, lesson: int) -> pd.DataFrame:
    """The 3-step playbook of ``lesson`` (1, 2 or 3) for scenario ``S``.

    Returns
    -------
    pandas.DataFrame
        Columns ``step`` (1-3), ``do``, ``your_number``, ``revisit_when``.
    """
    if lesson not in LESSONS or isinstance(lesson, bool):
        raise bad("lesson", lesson, "one of 1, 2, 3")
    steps = {1: _lesson1, 2: _lesson2, 3: _lesson3}[lesson](S)
    return pd.DataFrame([{"step": i + 1, "do": d, "your_number": n, "revisit_when": w}
                         for i, (d, n, w) in enumerate(steps)])
