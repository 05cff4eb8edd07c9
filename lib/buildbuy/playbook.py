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

from buildbuy import gpu_supply, scaling, strategy
from buildbuy._validate import bad
from buildbuy.decision import decide

__all__ = ["LESSONS", "playbook"]

#: Lessons with a playbook.
LESSONS: tuple[int, ...] = (1, 2, 3)


def _lesson1(S: Any) -> list[tuple[str, str, str]]:
    D = decide(S)
    f = D.figures
    r = D.replica
    measure = (f"model: {r.tokens_per_s_per_gpu:,.0f} tokens/s (prompt + output) per {S.gpu} "
               f"at batch {r.batch}, {r.ms_per_output_token:.1f} ms per output token (target "
               f"{S.max_ms_per_output_token:g})" if r is not None else
               "no GPU group meets the latency target: self-hosting is ruled out")
    return [
        ("Measure: audit the endpoint you would run (buildbuy audit) and compare its "
         "tokens/s per GPU with the model's.", measure,
         "the measured tokens/s is more than 20% below the model's: re-size the fleet"),
        ("Size: buy or rent the fleet for the busiest hour with headroom, not for the "
         "average.",
         f"{f['gpus_year_1'].label}: {f['gpus_year_1'].text}, for a "
         f"{f['peak_tokens_per_s_year_1'].text} peak at {S.target_utilisation:.0%} target "
         f"utilisation, redundancy {S.redundancy}",
         "the peak-to-average ratio or the latency target changes"),
        ("Price: compare the all-in cost per 1k tokens, not the list prices.",
         f"{f['usd_per_1k_tokens_a'].text} (API) against {f['usd_per_1k_tokens_b'].text} "
         "(self-host), over the horizon",
         "the API's list price or the GPU's hourly price moves by more than 20%"),
    ]


def _lesson2(S: Any) -> list[tuple[str, str, str]]:
    D = decide(S)
    f = D.figures
    live = gpu_supply.months_to_production_b(S)
    blocked = [p for p in ("A", "B", "H") if D.feasibility.get(p)]
    lead = S.gpu_lead_time_months if S.hosting == "owned" else 0
    return [
        (f"Decide: {D.recommendation}.",
         f"after-tax NPV against doing nothing: buy {f['npv_a_usd'].text}, build "
         f"{f['npv_b_usd'].text}, hybrid {f['npv_h_usd'].text}"
         + (f"; ruled out: {', '.join(blocked)}" if blocked else ""),
         "a Monte Carlo P10 on the other side of zero, or a new API price list"),
        ("Hedge: know the volume that flips the cost comparison.",
         f"{f['break_even_monthly_tokens'].label}: {f['break_even_monthly_tokens'].text}, "
         f"against {S.monthly_tokens:.3g} tokens a month today",
         "volume drifts toward the break-even"),
        ("Watch: B's go-live and payback, the months that carry the risk.",
         f"B serves from month {live + 1} (build {S.months_to_production} months, GPU lead "
         f"time {lead} months); {f['discounted_payback_months'].label}: "
         f"{f['discounted_payback_months'].text}",
         "delivery or the build slips past the planned month"),
    ]


def _lesson3(S: Any) -> list[tuple[str, str, str]]:
    D = decide(S)
    f = D.figures
    sc = scaling.scaling_bottlenecks(S)
    path = "A" if D.recommendation == "buy" else "B"
    top = sc[sc["path"] == path].sort_values("investment_usd", ascending=False).iloc[0]
    st = strategy.strategic_cost(S).set_index("measure")
    em = float(st.loc["engineer_months_horizon", "B_minus_A"])
    n = float(st.loc["integrations_forgone", "B"])
    y1 = f["capex_year_1_usd"]
    return [
        ("Ask the board for the year-1 cash, with its EBITDA and EBIT effect.",
         f"{y1.label}: {y1.text} (servers and networking)" if y1.value else
         "no capex: B rents its GPUs (operating cost only)",
         "the server quote or the depreciation life changes"),
        ("Fund the binding scaling bottleneck of the path you choose first.",
         f"{top['kind']} ({top['path']}): {top['what_binds']}; "
         f"${top['investment_usd'] / 1e6:,.2f}M over the horizon",
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
