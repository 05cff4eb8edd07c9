"""A first-draft memo for a scenario: the strategy from the model, every number filled in.

The lesson on board strategy, the investment-memo exercise and the per-learner report
show this draft; a learner edits the words, never the numbers.
"""

from __future__ import annotations

from typing import Any

from buildbuy.memo.builder import Memo, build_memo
from buildbuy.memo.checker import check_memo
from buildbuy.memo.figures import figures_from_comparison

__all__ = ["draft_memo"]

_TABLE = ["tco_a_usd", "tco_b_usd", "npv_a_usd", "npv_b_usd", "crossover_month",
          "usd_per_1k_tokens_a", "usd_per_1k_tokens_b", "break_even_monthly_tokens",
          "monthly_tokens", "horizon_months"]


def draft_memo(scenario: Any) -> Memo:
    """A first-draft memo for ``scenario``: strategy from the model, numbers filled in.

    ``scenario`` is a persona name, a :class:`~buildbuy.scenarios.Scenario`, or the
    :class:`~buildbuy.tco_compare.Comparison` already computed for one.

    The text follows the model's recommendation (build, buy or hybrid) and quotes its
    figures as ``{key}`` placeholders, so every number is the model's. Raises
    ``ValueError`` if the built memo fails :func:`buildbuy.memo.check_memo` (a
    placeholder or a rounding that no longer matches), so the lesson cannot show a memo
    whose numbers disagree with the model.
    """
    if hasattr(scenario, "cashflows") and hasattr(scenario, "scenario"):
        c = scenario
    else:
        from buildbuy import scenarios, tco

        s0 = scenarios.load(scenario) if isinstance(scenario, str) else scenario
        c = tco.compare(s0)
    s = c.scenario
    figs = figures_from_comparison(c)
    cheaper = figs["tco_saving_usd"].value > 0
    cost_line = ("Self-hosting saves {tco_saving_usd} ({tco_saving_share} of the API cost) "
                 "over {horizon_months}." if cheaper else
                 "Self-hosting would cost {extra_cost_b_usd} more ({extra_cost_b_share} "
                 "above the API) over {horizon_months}.")
    payback = (" Its cumulative cost drops below the API's after {crossover_month}."
               if figs["crossover_month"].value is not None else
               " Its cumulative cost does not drop below the API's within the horizon.")
    strategy = c.recommendation
    rationale = {
        "tco": cost_line + payback,
        "ip": ("A fine-tuned model on our own hardware keeps the weights and the data in "
               "house; the API leaves both with the vendor." if strategy != "buy" else
               "The API gives up control of the model, but at this volume owning the "
               "weights does not pay for itself."),
        "time_to_market": ("The API is live in {months_to_production_a}; self-hosting "
                           "needs {months_to_production_b} of procurement, fine-tuning "
                           "and hardening."),
    }
    be = figs["break_even_monthly_tokens"].value
    revisit = ("revisit the decision when volume passes {break_even_monthly_tokens} a month"
               if be is not None and be > s.monthly_tokens else
               "revisit the decision each year as volume and prices move")
    action = {"build": "Approve the hardware and the team for self-hosting, with a review "
                       "of the volume forecast after the first quarter in production.",
              "buy": "Approve the API contract with the SLA terms of Lesson 3, and " + revisit
                     + ".",
              "hybrid": "Approve the API now for launch, and a self-hosting pilot sized for "
                        "the steady base of the traffic, with a go or no-go review after its "
                        "first quarter."}[strategy]
    m = build_memo(
        title=f"{s.title}: build or buy?",
        problem=(f"{s.description} It handles {{monthly_tokens}} a month today, growing "
                 "{annual_growth} a year."),
        strategy=strategy,
        rationale=rationale,
        impact=("The API costs {usd_per_1k_tokens_a} on average over the horizon; "
                "self-hosting {usd_per_1k_tokens_b}, all costs included."),
        risks=[("Volume grows slower than planned",
                "size the first purchase for year 1 only and re-forecast every quarter"),
               ("The model drifts or the vendor changes it",
                "monitor drift monthly and budget retraining (Lesson 2, drift lines)"),
               ("Key people leave", "document the serving stack and cross-train two people")],
        call_to_action=action,
        figures=figs,
        table_keys=_TABLE,
    )
    check = check_memo(m, figs)
    if not check.ok:
        raise ValueError(f"the generated memo does not match the model: {check}")
    return m
