"""Judgement (the rubric), the PR/FAQ, kill criteria, the board facts and the nearest figure."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from buildbuy import memo, scenarios, uncertainty
from buildbuy.memo import Figure, check_memo, format_value, judge, quoted_numbers
from buildbuy.memo.draft import kill_sentence
from buildbuy.memo.kill import flip_point, kill_criterion


@pytest.fixture(scope="module")
def bank() -> memo.BoardFacts:
    return memo.board_facts("bank_support")


def _items(rubric: memo.Rubric) -> dict[str, bool]:
    return {i.id: i.passed for i in rubric.items}


# --- the rubric ---------------------------------------------------------------------------

def test_rubric_catches_build_when_the_record_says_neither(bank: memo.BoardFacts) -> None:
    draft = memo.draft_memo(bank)
    assert draft.strategy == "build" and judge(draft, bank).ok
    neither = dataclasses.replace(
        bank, decision=dataclasses.replace(bank.decision, recommendation="neither"))
    r = judge(draft, neither)
    assert not r.ok and _items(r)["recommendation"] is False
    assert "recommends 'build' but the decision record recommends 'neither'" in str(r)
    # the same text that says "neither" agrees with that record
    agreeing = draft.markdown.replace("**build**", "**neither**")
    assert _items(judge(agreeing, neither))["recommendation"] is True


@pytest.mark.parametrize("persona", ["bank_support", "hospital_notes", "retail_search"])
def test_drafts_pass_every_item(persona: str) -> None:
    f = memo.board_facts(persona)
    for doc in (memo.draft_memo(f), memo.draft_prfaq(f)):
        assert judge(doc, f).ok, judge(doc, f)
        assert judge(doc.markdown, f).ok  # Markdown read back the same way
        assert check_memo(doc.markdown, f.figures).ok


def test_each_item_fails_alone(bank: memo.BoardFacts) -> None:
    md = memo.draft_memo(bank).markdown
    kill_block = md[md.index("**Kill criteria.**"):md.index("**Quality assumption.**")]
    no_kill = md.replace(kill_block, "")
    r = judge(no_kill, bank)
    assert _items(r) == {"recommendation": True, "kill_criteria": False, "quality": True,
                         "ask": True, "length": True}
    first, second = (k.label for k in bank.kill_criteria[:2])
    assert first in r.item("kill_criteria").feedback
    # one criterion left: the second-widest driver is still missing
    first_only = no_kill.replace("## Call to action", kill_block.split("\n- ")[0] + "\n- "
                                 + kill_block.split("\n- ")[1] + "\n\n## Call to action")
    feedback = judge(first_only, bank).item("kill_criteria").feedback
    assert second in feedback and first not in feedback
    q_start = md.index("**Quality assumption.**")
    no_quality = md[:q_start] + md[md.index("## Call to action"):]
    assert _items(judge(no_quality, bank))["quality"] is False
    no_date = md.replace(memo.long_date(bank.decision_date), "soon")
    assert "no decision date" in judge(no_date, bank).item("ask").feedback
    wrong_date = md.replace(memo.long_date(bank.decision_date), "2 March 2027")
    assert "not the scenario's decision date" in judge(wrong_date, bank).item("ask").feedback
    iso = md.replace(memo.long_date(bank.decision_date), bank.decision_date)
    assert _items(judge(iso, bank))["ask"] is True  # 2027-01-29 reads as the same date
    no_amount = md.replace(f"approve {bank.text('ask_usd')} for", "approve the budget for")
    no_amount = no_amount.replace(f"including {bank.text('capex_year_1_usd')} of hardware", "")
    assert "no amount" in judge(no_amount, bank).item("ask").feedback
    capex_only = no_amount.replace("approve the budget",
                                   f"approve {bank.text('capex_year_1_usd')}")
    assert _items(judge(capex_only, bank))["ask"] is True  # the capex is an ask too
    short = "# T\n\n## Recommendation\n\nWe recommend that we **build**.\n"
    assert "too short" in judge(short, bank).item("length").feedback
    long = md.replace("## Call to action", "word " * 700 + "\n\n## Call to action")
    assert "more than one page" in judge(long, bank).item("length").feedback


def test_feedback_never_writes_the_memo(bank: memo.BoardFacts) -> None:
    r = judge("# T\n\n## Business problem\n\nSomething.\n", bank)
    assert not any(i.passed for i in r.items[:4])
    text = str(r)
    # no threshold, amount or date of the record appears in the feedback
    keys = [k.key for k in bank.kill_criteria if k.threshold is not None]
    for key in [*keys, "ask_usd", "capex_year_1_usd"]:
        assert bank.text(key) not in text
    assert memo.long_date(bank.decision_date) not in text and bank.decision_date not in text


def test_kill_sentence_needs_driver_trigger_condition_and_number(bank: memo.BoardFacts) -> None:
    from buildbuy.memo.rubric import _kill_sentence

    assert _kill_sentence("Stop if volume falls below 23.1B tokens.", "monthly_tokens", "V")
    assert not _kill_sentence("Stop if volume falls.", "monthly_tokens", "V")  # no number
    assert not _kill_sentence("Volume is 23.1B tokens.", "monthly_tokens", "V")  # no trigger
    assert not _kill_sentence("Stop if prices fall below 23.1B tokens.", "monthly_tokens", "V")
    # a driver with no word list is named by the words of its label
    assert _kill_sentence("Exit when the widget ratio passes 40%.", "widget_ratio",
                          "Widget ratio")


def test_stated_strategy_and_parse_memo() -> None:
    assert memo.builder.stated_strategy("We recommend a hybrid approach.") == "hybrid"
    assert memo.builder.stated_strategy("**Buy** now.") == "buy"
    m = memo.builder.parse_memo(memo.draft_prfaq("retail_search").markdown)
    assert m.kind == "prfaq" and m.strategy == "hybrid"
    with pytest.raises(ValueError, match=r"markdown='' is invalid"):
        memo.builder.parse_memo("")


# --- the PR/FAQ ---------------------------------------------------------------------------

def _prfaq(**changes: object) -> memo.Memo:
    fields: dict[str, object] = dict(
        title="Answers in seconds", subtitle="Our assistant, on our servers.",
        problem="Customers wait {payback_months}.", strategy="build",
        solution="We serve it ourselves.", leader_quote="It pays.", customer_quote="Fast!",
        external_faq=[("Is my data safe?", "Yes.")], impact="Cheaper.",
        risks=[("Volume falls", "Buy in steps")], call_to_action="Approve.",
        figures=[Figure("payback_months", "Payback", 14.24, "months")])
    fields.update(changes)
    return memo.build_prfaq(**fields)  # type: ignore[arg-type]


def test_prfaq_layout_and_board_questions() -> None:
    p = _prfaq(kill_criteria=["Stop if it slips past {payback_months}."], quality="Equal.",
               internal_faq=[("Who owns it?", "The CX team.")])
    assert [h for h, _ in p.sections] == list(memo.PRFAQ_SECTIONS)
    release, external, internal = (b for _, b in p.sections)
    assert "Customers wait 14.2 months." in release
    assert "We recommend that we **build**" in release
    assert "\u201cIt pays,\u201d said the executive" in release
    assert "\u201cFast!\u201d said a customer" in release
    assert external.startswith("**Q. Is my data safe?**")
    qs = [line for line in internal.splitlines() if line.startswith("**Q.")]
    assert qs == [f"**Q. {q}**" for q in memo.prfaq.BOARD_QUESTIONS.values()] + [
        "**Q. Who owns it?**"]
    assert "- Stop if it slips past 14.2 months." in internal
    assert "**Quality assumption.** Equal." in internal
    assert check_memo(p, [Figure("payback_months", "Payback", 14.24, "months")]).ok


@pytest.mark.parametrize(("changes", "pattern"), [
    ({"strategy": "rent"}, r"strategy='rent' is invalid"),
    ({"subtitle": ""}, r"subtitle='' is invalid"),
    ({"external_faq": []}, r"external_faq=\[\] is invalid"),
    ({"internal_faq": [("q",)]}, r"internal_faq\[0\]=\('q',\) is invalid"),
    ({"kill_criteria": "stop"}, r"kill_criteria='stop' is invalid"),
    ({"table_keys": ["nope"]}, r"table_keys='nope' is invalid"),
    ({"solution": "costs {nope}"}, r"solution='...\{nope\}...' is invalid"),
])
def test_prfaq_rejects_bad_input(changes: dict[str, object], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        _prfaq(**changes)


def test_check_reads_a_typed_prfaq_as_one() -> None:
    text = "# T\n\n## Press release\n\nx\n\n## Internal FAQ\n\ny\n"
    r = check_memo(text, [])
    assert r.missing_sections == ("External FAQ",) and r.missing_rationale == ()


# --- the checker: the whole record and the nearest figure ----------------------------------

def test_checker_accepts_every_record_figure(bank: memo.BoardFacts) -> None:
    shown = [f for f in bank.figures.values() if f.value is not None and f.unit != "text"
             and not (f.unit == "count" and not f.key.startswith("gpus"))]
    assert len(shown) > 100
    # a bare count is not a figure ("3 vendors"); a GPU count is quoted with its noun
    text = "\n".join(f"{f.label}: {f.text}{' GPUs' if f.unit == 'count' else ''}."
                      for f in shown)
    quoted = quoted_numbers(text)
    assert len(quoted) >= len(shown)
    assert check_memo("# T\n\n" + text, bank.figures, max_words=10_000).unmatched == ()


def test_checker_rejects_a_wrong_figure_with_the_nearest_one(bank: memo.BoardFacts) -> None:
    capex = bank.figures["capex_year_1_usd"]
    wrong = format_value(capex.value * 1.03, "usd")  # 3% off: a hand-edited number
    r = check_memo(f"# T\n\nThe hardware costs {wrong}.", bank.figures)
    assert r.unmatched == (wrong,)
    near = dict(r.nearest)[wrong]
    said = quoted_numbers(wrong)[0].value
    assert near.unit == "usd"  # nearest in relative terms: at least as near as the capex
    assert abs(near.value / said - 1) <= abs(capex.value / said - 1) < 0.05
    assert f"nearest is {near.label} ({near.key}) = {near.text}" in r.problems[-1]
    # nearest in relative terms and within the unit family: months never match dollars
    r = check_memo("# T\n\nWe need 6.5 FTE for 13.4 months.", bank.figures)
    got = dict(r.nearest)
    assert got["6.5 FTE"].unit == "fte" and got["13.4 months"].unit == "months"


def test_nearest_figure_is_relative() -> None:
    figs = [Figure("a", "A", 100.0, "usd"), Figure("b", "B", 1_000_000.0, "usd"),
            Figure("m", "M", 150.0, "months")]
    q = quoted_numbers("$150")[0]
    assert memo.nearest_figure(q, figs).key == "a"  # 50% off, not 99.98% off
    assert memo.nearest_figure(quoted_numbers("2 GPUs")[0], figs) is None


# --- kill criteria ------------------------------------------------------------------------

def test_flip_point_hand_computed() -> None:
    # -2 at 0, -1 at 0.3, +5 at 0.9: zero at 0.3 + 1/6 * 0.6 = 0.4
    assert flip_point([0.0, 0.3, 0.9], [-2.0, -1.0, 5.0], near=0.3) == pytest.approx(0.4)
    assert flip_point([0.9, 0.0, 0.3], [5.0, -2.0, -1.0], near=0.3) == pytest.approx(0.4)
    assert flip_point([0.0, 1.0], [0.0, 3.0], near=1.0) == 0.0  # an exact zero counts
    assert flip_point([0.0, 1.0], [1.0, 3.0], near=1.0) is None
    with pytest.raises(ValueError, match="two finite sequences"):
        flip_point([0.0], [1.0], near=0.0)


def test_kill_threshold_is_where_the_model_flips() -> None:
    """At each threshold the decision metric (recommended path minus the next best, after
    tax) is zero to 0.1% of the driver's tornado swing, with opposite signs 1% of the range
    searched inside and outside: the refinement finds the model's own root."""
    for persona in ("bank_support", "retail_search"):
        f = memo.board_facts(persona)
        found = [k for k in f.kill_criteria if k.threshold is not None]
        assert found, persona
        plus, minus = f.kill_metric
        for k in found:
            span = k.high - k.low
            probe = [k.threshold - 0.01 * span, k.threshold, k.threshold + 0.01 * span]
            probe = [v for v in probe if v >= 0]

            def metric(name: str, k: memo.KillCriterion = k, probe: list = probe,
                       S: scenarios.Scenario = f.scenario) -> dict:
                t = uncertainty.tornado(S, [
                    uncertainty.Driver(k.driver, v, v, False, "") for v in probe],
                    metric=name)
                return dict(zip(t["low"], t["metric_low"], strict=True))

            at = metric(plus)
            if minus is not None:
                other = metric(minus)
                at = {x: v - other[x] for x, v in at.items()}
            assert abs(at[k.threshold]) < 1e-3 * k.swing_usd, (persona, k)
            if len(probe) == 3:
                assert np.sign(at[probe[0]]) != np.sign(at[probe[2]]), (persona, k)


def test_kill_for_a_whole_number_driver_is_a_whole_month() -> None:
    S = scenarios.load("retail_search")
    row = uncertainty.tornado(S, [uncertainty.Driver("months_to_production", 1.0, 24.0,
                                                     False, "", "Months to production")]).iloc[0]
    k = kill_criterion(S, row)
    assert k.threshold is not None and float(k.threshold).is_integer()
    # the first whole month past the root: the metric's sign there differs from plan's
    t = uncertainty.tornado(S, [uncertainty.Driver("months_to_production", k.threshold,
                                                   k.threshold, False, "")])
    assert np.sign(t["metric_low"].iloc[0]) != np.sign(t["base_metric"].iloc[0])


def test_kill_search_stays_inside_what_the_scenario_accepts() -> None:
    """Widened past the tornado's range, the search keeps to values a scenario may hold:
    peak_to_average under the limit its load profile sets (a rule between two fields)."""
    from buildbuy import load_profile

    S = scenarios.load("retail_search")
    limit = load_profile.max_peak_to_average(S.load_profile)
    row = uncertainty.tornado(S, [uncertainty.Driver("peak_to_average", 0.9, 1.5, True, "",
                                                     "Peak-to-average")]).iloc[0]
    assert S.peak_to_average * (1 + 10 * 0.5) > limit  # 10x the range would pass it
    k = kill_criterion(S, row, metric=("npv_h", "npv_b"))
    assert S.peak_to_average * 1.5 < k.high < limit  # widened, but not past the limit


def test_a_ratio_driver_is_quoted_relative_to_plan() -> None:
    f = memo.board_facts("retail_search")
    k = next((k for k in f.kill_criteria if k.driver == "peak_to_average"), None)
    if k is None:
        pytest.skip("peak_to_average is not among the retailer's widest drivers")
    assert f.figures[f"base_{k.driver}"].value == 0.0 and f.figures[k.key].unit == "share"
    if k.threshold is not None:
        assert f.figures[k.key].value == pytest.approx(abs(k.threshold / k.base - 1))
        assert f"{{{k.key}}} above plan" in kill_sentence(k, f)  # peaks higher than planned


def test_board_facts_hand_checks(bank: memo.BoardFacts) -> None:
    d = bank.decision
    S = bank.scenario
    fte_b = sum(getattr(S, f"{r}_fte_b") for r in scenarios.ROLES)
    assert d.headcount_fte["B"] == pytest.approx(fte_b)
    assert bank.figures["headcount_fte"].value == pytest.approx(fte_b)  # build staffs B
    # months 0-12: the upfront hardware purchase (month 0) is part of the first year's ask
    first = d.monthly.loc[0:12, "B"]
    assert bank.figures["ask_usd"].value == pytest.approx(first["costs"].sum()
                                                          + first["capex"].sum())
    # 4 servers (year 1's peak at 70% of capacity needs 3, plus one spare: N+1) x $300k,
    # plus 15% networking
    assert (d.fleet["servers"].iloc[0], S.server_usd, S.networking_uplift) == (4, 300_000, 0.15)
    assert bank.figures["capex_year_1_usd"].value == pytest.approx(1_380_000)
    assert bank.path == "B" and bank.versus == "0"  # the API is blocked: B against nothing
    assert bank.kill_metric == ("npv_b", None)
    assert [k.driver for k in bank.kill_criteria] == list(d.risk.tornado["driver"][:3])
    assert memo.board_facts(d) is bank  # cached with its record
    hybrid = memo.board_facts("retail_search")
    assert hybrid.path == "H" and hybrid.kill_metric == ("npv_h", f"npv_{hybrid.versus.lower()}")
