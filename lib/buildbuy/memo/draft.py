"""First drafts from the record: the memo and the PR/FAQ, every number filled in.

The lesson on board strategy and the per-learner report show these drafts; the board pack
(:mod:`buildbuy.boardpack`) exports them. A learner edits the words, never the numbers.
Both drafts state the amount asked, the headcount, the P10/P90 range, the widest tornado
drivers with their kill criteria, the quality assumption and the decision date, and both
pass :func:`~buildbuy.memo.check_memo` and :func:`~buildbuy.memo.judge` (a draft that
does not raises ``ValueError``, so no view can show numbers that disagree with the model).
"""

from __future__ import annotations

import datetime
from typing import Any

from buildbuy.memo.builder import Memo, build_memo
from buildbuy.memo.checker import check_memo
from buildbuy.memo.facts import MC_DRAWS, BoardFacts, board_facts
from buildbuy.memo.figures import format_value
from buildbuy.memo.kill import KillCriterion
from buildbuy.memo.prfaq import build_prfaq
from buildbuy.memo.rubric import judge

__all__ = ["TABLE_KEYS", "draft_memo", "draft_prfaq", "kill_sentence", "long_date"]

#: Figures in the draft's Financial impact table, in order.
TABLE_KEYS: tuple[str, ...] = (
    "ask_usd", "capex_y1_usd", "headcount_fte", "ebitda_delta_y1_usd", "ebit_delta_y1_usd",
    "fcf_delta_y1_usd", "npv_fcf_gap_usd", "npv_gap_p10_usd", "npv_gap_p90_usd",
    "tco_a_usd", "tco_b_usd")

_STOP = {"build": "stop before the next hardware order",
         "hybrid": "stop the self-hosting pilot",
         "buy": "revisit self-hosting",
         "neither": "revisit the decision"}


def long_date(iso: str) -> str:
    """``"2027-01-29"`` -> ``"29 January 2027"``.

    Examples
    --------
    >>> long_date("2027-01-29")
    '29 January 2027'
    """
    d = datetime.date.fromisoformat(iso)
    return f"{d.day} {d.strftime('%B')} {d.year}"


def _lower(label: str) -> str:
    """A label inside a sentence: "Volume growth" -> "volume growth", "API price" kept."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def _facts(scenario: Any) -> BoardFacts:
    return scenario if isinstance(scenario, BoardFacts) else board_facts(scenario)


def kill_sentence(k: KillCriterion, facts: BoardFacts) -> str:
    """The draft's kill criterion for one driver, with ``{key}`` placeholders.

    With a threshold: what to do, and the driver value past which the decision reverses.
    Without one (the gap keeps its sign over the tornado's whole range): the range
    tested, and a review past it.
    """
    from buildbuy.uncertainty import SCALES

    scale = k.driver in SCALES
    act = _STOP[facts.recommendation]
    label = _lower(k.label)
    if k.threshold is None:
        end = f"{{range_high_{k.driver}}}" if not scale else \
            f"{{range_high_{k.driver}}} above plan"
        return (f"{k.label}: the answer holds across the range tested, up to {end}; we "
                f"review the decision if {label} moves beyond that.")
    if scale:
        where = "above" if k.rises else "below"
        cond = f"{label} ends up more than {{{k.key}}} {where} plan"
    else:
        cond = (f"{label} {'rises above' if k.rises else 'falls below'} {{{k.key}}} "
                f"(plan: {{base_{k.driver}}})")
    return f"{act[0].upper()}{act[1:]} if {cond}."


def _abs(facts: BoardFacts, key: str) -> str:
    fig = facts.figures[key]
    return format_value(None if fig.value is None else abs(fig.value), fig.unit)


def _move(facts: BoardFacts, key: str, what: str) -> str:
    v = facts.figures[key].value or 0.0
    return f"{'raises' if v >= 0 else 'lowers'} {what} by {_abs(facts, key)}"


def _common(facts: BoardFacts) -> dict[str, Any]:
    """Text shared by the memo and the PR/FAQ drafts."""
    f, rec, w = facts, facts.recommendation, facts.widest
    p10, p90 = f.figures["npv_gap_p10_usd"].value, f.figures["npv_gap_p90_usd"].value
    rng = (f"Across {MC_DRAWS:,} draws of the uncertain inputs, the NPV gap of self-hosting "
           f"over the API runs from {f.text('npv_gap_p10_usd')} (P10) to "
           f"{f.text('npv_gap_p90_usd')} (P90); self-hosting comes out ahead in "
           f"{f.text('prob_b_better')} of them.")
    if p10 is not None and p90 is not None and p10 < 0 < p90:
        rng += " The sign of the answer is not certain."
    impact = (f"In year 1, choosing self-hosting {_move(f, 'ebitda_delta_y1_usd', 'EBITDA')}, "
              f"{_move(f, 'ebit_delta_y1_usd', 'EBIT')} after depreciation and "
              f"{_move(f, 'fcf_delta_y1_usd', 'free cash flow')} after "
              f"{f.text('capex_y1_usd')} of hardware. Over the horizon its change in free "
              f"cash flow is worth {f.text('npv_fcf_gap_usd')} today. Self-hosting needs "
              f"{f.text('headcount_fte_b')} against {f.text('headcount_fte_a')} for the API.")
    widest = (f"The widest driver is {_lower(w.label)}: across its range it "
              f"moves the cost gap by {f.text('swing_' + w.driver)}.")
    quality = (f"We assume the self-hosted model delivers {f.text('quality_b_vs_a')} of the "
               f"API model's quality on our task. Basis: {f.quality_basis}. A task "
               "evaluation before go-live must confirm it.")
    date = long_date(f.decision_date)
    if rec == "neither":
        ask = (f"We ask the board for no funding ({f.text('ask_usd')}) and a decision by "
               f"{date} to revisit the case when the kill criteria below move.")
    else:
        what = {"build": f"of which {f.text('capex_y1_usd')} is hardware",
                "buy": "for the API service and its integration",
                "hybrid": "to launch on the API while the self-hosting option is prepared"}
        ask = (f"We ask the board to approve {f.text('ask_usd')} for the first 12 months, "
               f"{what[rec]}, and a team of {f.text('headcount_fte')}, by {date}.")
    kills = [kill_sentence(k, f) for k in f.kill_criteria]
    return {"range": rng, "impact": impact, "widest": widest, "quality": quality,
            "ask": ask, "kills": kills}


def draft_memo(scenario: Any) -> Memo:
    """A first-draft memo for ``scenario``: the record's recommendation, numbers filled in.

    ``scenario`` is a persona name, a :class:`~buildbuy.scenarios.Scenario` or the
    :class:`~buildbuy.memo.BoardFacts` already computed for one.

    Raises
    ------
    ValueError
        If the draft fails :func:`check_memo` or :func:`judge` (a figure or a rounding that
        no longer matches the record), so no view shows a memo that disagrees with it.
    """
    f = _facts(scenario)
    s, rec = f.scenario, f.recommendation
    t = _common(f)
    cheaper = (f.figures["tco_saving_usd"].value or 0.0) > 0
    cost_line = ("Self-hosting saves {tco_saving_usd} ({tco_saving_share} of the API cost) "
                 "over {horizon_months}." if cheaper else
                 "Self-hosting would cost {extra_cost_b_usd} more ({extra_cost_b_share} "
                 "above the API) over {horizon_months}.")
    payback = (" Its cumulative cost drops below the API's after {crossover_month}."
               if f.figures["crossover_month"].value is not None else
               " Its cumulative cost does not drop below the API's within the horizon.")
    rationale = {
        "tco": cost_line + payback,
        "ip": ("A fine-tuned model on our own hardware keeps the weights and the data in "
               "house; the API leaves both with the vendor." if rec in ("build", "hybrid")
               else "The API gives up control of the model, but at this volume owning the "
               "weights does not pay for itself."),
        "time_to_market": ("The API is live in {months_to_production_a}; self-hosting "
                           "needs {months_to_production_b} of procurement, fine-tuning "
                           "and hardening."),
    }
    m = build_memo(
        title=f"{s.title}: build or buy?",
        problem=(f"{s.description} It handles {{monthly_tokens}} a month today, growing "
                 "{annual_growth} a year; on the API that costs {tco_a_usd} over "
                 "{horizon_months}."),
        strategy=rec,
        rationale=rationale,
        impact=t["impact"],
        risks=[("The outcome is uncertain",
                "act on the kill criteria below. " + t["range"] + " " + t["widest"]),
               ("The model drifts or the vendor changes it",
                "monitor drift monthly and budget retraining (lesson 2, drift lines)"),
               ("Key people leave", "document the serving stack and cross-train two people")],
        kill_criteria=t["kills"],
        quality=t["quality"],
        call_to_action=t["ask"],
        figures=f.figures,
        table_keys=list(TABLE_KEYS),
    )
    return _verified(m, f)


def draft_prfaq(scenario: Any) -> Memo:
    """A first-draft PR/FAQ for ``scenario`` (see :func:`draft_memo`)."""
    f = _facts(scenario)
    s, rec = f.scenario, f.recommendation
    t = _common(f)
    solution = {
        "build": "Our own fine-tuned open model answers on our own servers, live in "
                 "{months_to_production_b}.",
        "buy": "A provider's model answers through its API, live in {months_to_production_a}.",
        "hybrid": "A provider's API answers from month {months_to_production_a}; our own "
                  "model takes over when it pays.",
        "neither": "We keep today's process and revisit when the numbers move.",
    }[rec]
    m = build_prfaq(
        title=f"{s.title}: answers on demand",
        subtitle="What the service does for the people who use it, and what it costs us.",
        problem=(f"{s.description} The workload is {{monthly_tokens}} a month today, growing "
                 "{annual_growth} a year."),
        strategy=rec,
        solution=solution,
        leader_quote=("We chose the path that is worth most after every cost, and we know "
                      "when we would stop."),
        customer_quote="I get a good answer without waiting.",
        external_faq=[("Is my data safe?",
                       "It is handled under the same controls as today; self-hosting keeps "
                       "it on our own servers."),
                      ("Will the answers be as good?", t["quality"])],
        impact=t["impact"],
        risks=[("The outcome is uncertain",
                "act on the kill criteria below. " + t["range"] + " " + t["widest"]),
               ("The model drifts", "monitor drift monthly and budget retraining")],
        kill_criteria=t["kills"],
        quality=None,
        call_to_action=t["ask"],
        figures=f.figures,
        table_keys=["ask_usd", "capex_y1_usd", "headcount_fte", "ebitda_delta_y1_usd",
                    "npv_fcf_gap_usd"],
    )
    return _verified(m, f)


def _verified(m: Memo, f: BoardFacts) -> Memo:
    check = check_memo(m, f.figures)
    if not check.ok:
        raise ValueError(f"the generated {m.kind} does not match the record: {check}")
    rubric = judge(m, f)
    if not rubric.ok:
        raise ValueError(f"the generated {m.kind} fails its own rubric: {rubric}")
    return m
