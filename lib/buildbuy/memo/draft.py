"""A first-draft memo for a scenario: the strategy from the decision record, every number
filled in from it.

The lesson on board strategy, the investment-memo exercise and the per-learner report
show this draft; a learner edits the words, never the numbers.
"""

from __future__ import annotations

from typing import Any

from buildbuy.memo.builder import Memo, build_memo
from buildbuy.memo.checker import check_memo

__all__ = ["TABLE_KEYS", "draft_memo"]

#: The figures in the draft's Financial impact table, in order.
TABLE_KEYS: tuple[str, ...] = (
    "npv_a_usd", "npv_b_usd", "npv_h_usd", "npv_gap_usd", "payback_months",
    "discounted_payback_months", "gpus_year_1", "capex_usd", "tco_a_usd", "tco_b_usd",
    "npv_gap_p10_usd", "npv_gap_p90_usd", "break_even_monthly_tokens", "monthly_tokens",
    "horizon_months")

_PATH_OF = {"buy": "a", "build": "b", "hybrid": "h"}


def draft_memo(scenario: Any) -> Memo:
    """A first-draft memo for ``scenario``: strategy and numbers from the decision record.

    ``scenario`` is a persona name, a :class:`~buildbuy.scenarios.Scenario`, or its
    :class:`~buildbuy.decision.Decision`. The text follows the record's recommendation
    (build, buy, hybrid or neither) and quotes its figures as ``{key}`` placeholders, so
    every number is the record's. Raises ``ValueError`` if the built memo fails
    :func:`buildbuy.memo.check_memo`, so no view can show a memo whose numbers disagree
    with the record.
    """
    from buildbuy import scenarios
    from buildbuy.decision import Decision, decide

    if isinstance(scenario, Decision):
        d = scenario
    else:
        d = decide(scenarios.load(scenario) if isinstance(scenario, str) else scenario)
    s = d.scenario
    figs = d.figures
    strategy = d.recommendation
    blocked = {p: bool(r) for p, r in d.feasibility.items()}
    best = _PATH_OF.get(strategy, d.best_path.lower())
    value_line = (f"Against doing nothing, the {strategy if strategy != 'neither' else 'best'} "
                  f"path is worth {{npv_{best}_usd}} after tax over {{horizon_months}}.")
    b_ahead = (figs["npv_gap_usd"].value or 0.0) >= 0
    if blocked["A"]:
        gap = " The API is not an option for us: " + d.feasibility["A"][0] + "."
    elif strategy == "hybrid":
        gap = (" That beats the API alone by {npv_gap_hybrid_usd}; self-hosting alone would "
               + ("beat it by" if b_ahead else "trail it by") + " {npv_gap_abs_usd}.")
    elif b_ahead:
        gap = (" Self-hosting beats the API by {npv_gap_abs_usd} after tax"
               + (", and pays back against it after {discounted_payback_months} "
                  "(discounted)." if figs["discounted_payback_months"].value is not None
                  else ", though it does not pay back against it within the horizon."))
    else:
        gap = " Self-hosting alone would trail the API by {npv_gap_abs_usd} after tax."
    cash = (" In cash costs alone the API costs {tco_a_usd} and self-hosting {tco_b_usd} "
            "(pre-tax, value not counted).")
    rationale = {
        "tco": value_line + gap + cash,
        "ip": ("A fine-tuned model on our own hardware keeps the weights and the data in "
               "house; the API leaves both with the vendor." if strategy in ("build", "hybrid")
               else "The API gives up control of the model, but owning the weights does "
               "not pay for itself at these numbers."),
        "time_to_market": ("The API is live in {months_to_production_a}; self-hosting "
                           "needs {months_to_production_b} of procurement, fine-tuning "
                           "and hardening."),
    }
    be = figs["break_even_monthly_tokens"].value
    revisit = ("revisit the decision when volume passes {break_even_monthly_tokens} a month"
               if be is not None and be > s.monthly_tokens else
               "revisit the decision each year as volume and prices move")
    action = {"build": "Approve {capex_usd} of hardware and the team for self-hosting "
                       "({gpus_year_1} GPUs in year 1), with a review of the volume forecast "
                       "after the first quarter in production.",
              "buy": "Approve the API contract with the SLA terms of Lesson 3, and " + revisit
                     + ".",
              "hybrid": "Approve the API now for launch, and the self-hosted model to take "
                        "over when it is live, with a go or no-go review after its first "
                        "quarter.",
              "neither": "Do not fund this project now; " + revisit + "."}[strategy]
    risk = ("The NPV gap of self-hosting over the API ranges from {npv_gap_p10_usd} to "
            "{npv_gap_p90_usd} (P10 to P90)."
            if "npv_gap_p10_usd" in figs and not blocked["A"] else "")
    table = [k for k in TABLE_KEYS if k in figs]
    m = build_memo(
        title=f"{s.title}: build or buy?",
        problem=(f"{s.description} It handles {{monthly_tokens}} a month today, growing "
                 "{annual_growth} a year. The value we count against doing nothing is "
                 "{value_usd_per_request}."),
        strategy=strategy,
        rationale=rationale,
        impact=("The table gives the after-tax NPVs against doing nothing, the gap "
                "between self-hosting and the API, and the cash it needs. " + risk).strip(),
        risks=[("Volume grows slower than planned",
                "size the first purchase for year 1 only and re-forecast every quarter"),
               ("The model drifts or the vendor changes it",
                "monitor drift monthly and budget retraining (Lesson 2, drift lines)"),
               ("Key people leave", "document the serving stack and cross-train two people")],
        call_to_action=action,
        figures=figs,
        table_keys=table,
    )
    check = check_memo(m, figs)
    if not check.ok:
        raise ValueError(f"the generated memo does not match the record: {check}")
    return m
