"""First drafts from the decision record: the memo and the PR/FAQ, every number filled in.

The lesson on board strategy and the per-learner report show these drafts; the board pack
(:mod:`buildbuy.boardpack`) exports them. A learner edits the words, never the numbers.
Both drafts follow the record's recommendation (build, buy, hybrid or neither) and state
the amount asked, the headcount, the after-tax value and the EBITDA, EBIT and cash effect,
the P10/P90 range, the widest tornado drivers with their kill criteria, the quality
assumption and the decision date. Both pass :func:`~buildbuy.memo.check_memo` and
:func:`~buildbuy.memo.judge`; a draft that does not raises ``ValueError``, so no view can
show numbers that disagree with the record.
"""

from __future__ import annotations

import datetime
from typing import Any

from buildbuy.decision.figures import format_value
from buildbuy.memo.builder import Memo, build_memo
from buildbuy.memo.checker import check_memo
from buildbuy.memo.facts import CONSTRAINT_KEY, PATH_NAMES, BoardFacts, board_facts
from buildbuy.memo.kill import KillCriterion
from buildbuy.memo.prfaq import build_prfaq
from buildbuy.memo.rubric import judge

__all__ = ["TABLE_KEYS", "draft_fields", "draft_memo", "draft_prfaq", "kill_sentence", "long_date"]

#: Figures in the draft's Financial impact table, in order (``{p}``: the recommended path).
TABLE_KEYS: tuple[str, ...] = (
    "ask_usd", "capex_year_1_usd", "headcount_fte", "npv_{p}_usd", "ebitda_{p}_year_1_usd",
    "ebit_{p}_year_1_usd", "fcf_{p}_year_1_usd", "npv_gap_usd", "npv_gap_p10_usd",
    "npv_gap_p90_usd", "gpus_year_1", "tco_a_usd", "tco_b_usd")

_ACT = {"build": "stop before the next hardware order",
        "hybrid": "stop the move to self-hosting",
        "buy": "review the API contract",
        "neither": "revisit the case"}


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


def kill_sentence(k: KillCriterion, facts: BoardFacts) -> str:
    """The draft's kill criterion for one driver, with ``{key}`` placeholders.

    With a threshold: what to do, and the driver value past which the decision reverses.
    Without one (the decision holds over the tornado's whole range): the range tested,
    and a review past it.
    """
    from buildbuy.memo.kill import threshold_unit

    scale = threshold_unit(facts.scenario, k.driver)[1]  # quoted relative to plan
    label = _lower(k.label)
    if k.threshold is None:
        end = (f"{{range_high_{k.driver}}} above plan" if scale else
               f"{{range_low_{k.driver}}} to {{range_high_{k.driver}}}")
        return (f"{k.label}: the decision holds across the range tested ({end}); we "
                f"review it if {label} moves beyond that.")
    if scale:
        cond = f"{label} ends up more than {{{k.key}}} {'above' if k.rises else 'below'} plan"
    else:
        cond = (f"{label} {'rises above' if k.rises else 'falls below'} {{{k.key}}} "
                f"(plan: {{base_{k.driver}}})")
    act = _ACT[facts.recommendation]
    return f"{act[0].upper()}{act[1:]} if {cond}."


def _facts(scenario: Any) -> BoardFacts:
    return board_facts(scenario)


def _abs(f: BoardFacts, key: str) -> str:
    fig = f.figures[key]
    return format_value(None if fig.value is None else abs(fig.value), fig.unit)


def _move(f: BoardFacts, key: str, what: str) -> str:
    v = f.figures[key].value or 0.0
    return f"{'adds' if v >= 0 else 'takes'} {_abs(f, key)} {'to' if v >= 0 else 'from'} {what}"


def _sentences(*parts: str) -> str:
    """Non-empty sentences joined by one space."""
    return " ".join(p.strip() for p in parts if p.strip())


def _common(f: BoardFacts) -> dict[str, Any]:
    """Text shared by the memo and the PR/FAQ drafts (numbers filled in)."""
    rec, p = f.recommendation, f.path.lower()
    name = PATH_NAMES[f.path]
    risk = ""
    if "npv_gap_p10_usd" in f.figures and not f.api_ruled_out:
        r = f.decision.risk  # no gap range against an API that is ruled out
        risk = (f"Across {r.n_draws:,} draws of the uncertain inputs, the after-tax NPV gap "
                f"of self-hosting over the API runs from {f.text('npv_gap_p10_usd')} (P10) "
                f"to {f.text('npv_gap_p90_usd')} (P90); self-hosting comes out ahead in "
                f"{f.text('prob_b_better')} of them.")
    widest = ""
    if f.widest is not None:
        w = f.widest
        widest = (f" The widest driver is {_lower(w.label)}: across its range it moves the "
                  f"gap by {f.text('swing_' + w.driver)}.")
    lead = "" if rec != "neither" else "Funding it would mean this: "
    owned = (f.figures["capex_year_1_usd"].value or 0.0) > 0
    hardware = (f"{f.text('capex_year_1_usd')} of hardware in year 1" if owned else
                "no hardware of its own (it rents GPUs)")
    impact = (f"{lead}Against doing nothing, {name} is worth {f.text(f'npv_{p}_usd')} after "
              f"tax over {f.text('horizon_months')}. In year 1 it "
              f"{_move(f, f'ebitda_{p}_year_1_usd', 'EBITDA')}, "
              f"{_move(f, f'ebit_{p}_year_1_usd', 'EBIT')} and "
              f"{_move(f, f'fcf_{p}_year_1_usd', 'free cash flow')} after tax. Self-hosting "
              f"needs {hardware} and {f.text('fte_b')}; the API needs {f.text('fte_a')}.")
    quality = (f"We assume the self-hosted model's quality is {f.text('quality_b_vs_a')} of "
               "the API model's, counted as the value of its answers, from the public "
               "evaluation the scenario cites for it; a task evaluation on our own cases "
               "before go-live must confirm it.")
    date = long_date(f.decision_date)
    if rec == "neither":
        ask = (f"We ask the board for no funding ({f.text('ask_usd')}) and to confirm by "
               f"{date} that we revisit the case when a kill criterion below is met.")
    else:
        what = {"build": f"including {f.text('capex_year_1_usd')} of hardware",
                "buy": "for the API service and its integration",
                "hybrid": (f"to launch on the API and buy {f.text('capex_year_1_usd')} of "
                           "hardware for the switch" if owned else
                           "to launch on the API and prepare the switch to self-hosting")}
        ask = (f"We ask the board to approve {f.text('ask_usd')} for the first "
               f"{f.text('ask_months')}, {what[rec]}, and a team of "
               f"{f.text('headcount_fte')}, by {date}.")
    return {"risk": risk, "widest": widest, "impact": impact, "quality": quality,
            "ask": ask, "kills": [kill_sentence(k, f) for k in f.kill_criteria]}


def _rationale(f: BoardFacts) -> dict[str, str]:
    d, figs, rec = f.decision, f.figures, f.recommendation
    best = f.path.lower()
    value_line = (f"Against doing nothing, the {rec if rec != 'neither' else 'best'} path is "
                  f"worth {{npv_{best}_usd}} after tax over {{horizon_months}}.")
    b_ahead = (figs["npv_gap_usd"].value or 0.0) >= 0
    if d.feasibility.get("A"):
        gap = " The API is not an option for us: " + d.feasibility["A"][0] + "."
    elif rec == "hybrid":
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
    price = ""
    cost = figs.get(CONSTRAINT_KEY)
    if cost is not None and (cost.value or 0.0) > 0:  # the record's price of the constraints
        price = (f" Our constraints cost {{{CONSTRAINT_KEY}}} after tax: "
                 f"{PATH_NAMES[d.constraint_cost_path]}, which they rule out, would be worth "
                 "that much more.")
    return {
        "tco": value_line + gap + price + cash,
        "ip": ("A fine-tuned model on our own hardware keeps the weights and the data in "
               "house; the API leaves both with the vendor." if rec in ("build", "hybrid")
               else "The API gives up control of the model, but owning the weights does "
               "not pay for itself at these numbers."),
        "time_to_market": ("The API is live in {months_to_production_a}; self-hosting "
                           "needs {months_to_production_b} of procurement, fine-tuning "
                           "and hardening."),
    }


def draft_fields(scenario: Any) -> dict[str, Any]:
    """The text of :func:`draft_memo`, field by field: the keyword arguments of
    :func:`~buildbuy.memo.build_memo` except ``figures`` and ``table_keys`` (what a learner
    filling the no-code memo form would type for a draft that passes).

    ``scenario`` is a persona name, a :class:`~buildbuy.scenarios.Scenario`, its
    :class:`~buildbuy.decision.Decision` or its :class:`~buildbuy.memo.BoardFacts`.
    """
    f = _facts(scenario)
    s = f.scenario
    t = _common(f)
    return dict(
        title=f"{s.title}: build or buy?",
        problem=(f"{s.description} It handles {{monthly_tokens}} a month today, growing "
                 "{annual_growth} a year. Value created on the API's model: "
                 "{value_usd_per_request}."),
        strategy=f.recommendation,
        rationale=_rationale(f),
        impact=t["impact"],
        risks=[("The outcome is uncertain",
                _sentences("act on the kill criteria below.", t["risk"], t["widest"])),
               ("The model drifts or the vendor changes it",
                "monitor drift monthly and budget retraining (lesson 2, drift lines)"),
               ("Key people leave", "document the serving stack and cross-train two people")],
        kill_criteria=list(t["kills"]),
        quality=t["quality"],
        call_to_action=t["ask"],
    )


def draft_memo(scenario: Any) -> Memo:
    """A first-draft memo for ``scenario``: the record's recommendation, numbers filled in.

    ``scenario`` is a persona name, a :class:`~buildbuy.scenarios.Scenario`, its
    :class:`~buildbuy.decision.Decision` or its :class:`~buildbuy.memo.BoardFacts`.

    Raises
    ------
    ValueError
        If the draft fails :func:`check_memo` or :func:`judge`.
    """
    f = _facts(scenario)
    m = build_memo(**draft_fields(f), figures=f.figures, table_keys=f.table_keys(TABLE_KEYS))
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
        "hybrid": "A provider's API answers from launch; our own fine-tuned model takes over "
                  "once it is live.",
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
                _sentences("act on the kill criteria below.", t["risk"], t["widest"])),
               ("The model drifts", "monitor drift monthly and budget retraining")],
        kill_criteria=t["kills"],
        call_to_action=t["ask"],
        figures=f.figures,
        table_keys=f.table_keys(("ask_usd", "capex_year_1_usd", "headcount_fte",
                                 "npv_{p}_usd", "npv_gap_usd")),
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
