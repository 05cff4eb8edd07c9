"""The memo builder and checker: formatting, parsing, matching within rounding, structure."""

from __future__ import annotations

import pytest

from buildbuy import memo
from buildbuy.memo import Figure, build_memo, check_memo, format_value, quoted_numbers

FIGS = [
    Figure("tco_a_usd", "TCO, A", 1_234_567.0, "usd"),
    Figure("tco_b_usd", "TCO, B", 845_210.0, "usd"),
    Figure("saving_share", "Saving", 0.31536, "share"),
    Figure("payback_months", "Payback", 14.24, "months"),
    Figure("usd_per_1k", "Cost per 1k", 0.012345, "usd_per_1k_tokens"),
    Figure("monthly_tokens", "Volume", 3.0e9, "tokens"),
    Figure("crossover_month", "Crossover", None, "months"),
]


def _memo(**changes: object) -> memo.Memo:
    fields: dict[str, object] = {
        "title": "Support assistant: build or buy",
        "problem": "We serve {monthly_tokens} a month and the bill grows.",
        "strategy": "build",
        "rationale": {"tco": "B costs {tco_b_usd} against {tco_a_usd} for A.",
                      "ip": "Our fine-tuned weights stay ours.",
                      "time_to_market": "Six months; we start on the API."},
        "impact": "B saves {saving_share} and pays back in {payback_months}.",
        "risks": [("GPU prices fall", "lease, do not buy"),
                  ("Staff leave", "document and cross-train")],
        "call_to_action": "Approve the pilot budget this quarter.",
        "figures": FIGS,
    }
    fields.update(changes)
    return build_memo(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "unit", "text"), [
    (1_234_567, "usd", "$1.23M"),
    (845_210, "usd", "$845k"),
    (999_500, "usd", "$1.00M"),          # rounds up into the next suffix
    (-12.5e6, "usd", "-$12.5M"),
    (0.012345, "usd_per_1k_tokens", "$0.0123 per 1k tokens"),
    (14.24, "months", "14.2 months"),
    (0.31536, "share", "31.5%"),
    (3.0e9, "tokens", "3.00B tokens"),
    (7.6, "count", "8"),
    (None, "months", "never within the horizon"),
])
def test_format_value(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_format_value_rejects_bad_unit_and_nan() -> None:
    with pytest.raises(ValueError, match=r"unit='dollars' is invalid"):
        format_value(1.0, "dollars")
    with pytest.raises(ValueError, match=r"value=nan is invalid"):
        format_value(float("nan"), "usd")


def test_quoted_numbers_values_units_and_rounding_steps() -> None:
    text = ("A costs $1,234,567 or $850k or $1.2 million; $0.0123 per 1k tokens; 35.2%; "
            "14 months; 2.5 billion tokens; 3 vendors in 2027; TCO per 1k tokens.")
    got = {(q.text, q.unit): (q.value, q.half_step) for q in quoted_numbers(text)}
    assert got[("$1,234,567", "usd")] == (1_234_567.0, 0.5)
    assert got[("$850k", "usd")] == (850_000.0, 500.0)
    assert got[("$1.2 million", "usd")] == pytest.approx((1.2e6, 5e4))
    assert got[("$0.0123 per 1k tokens", "usd_per_1k_tokens")] == pytest.approx((0.0123, 5e-5))
    assert got[("35.2%", "share")] == pytest.approx((0.352, 0.0005))
    assert got[("14 months", "months")] == (14.0, 0.5)
    assert got[("2.5 billion tokens", "tokens")] == pytest.approx((2.5e9, 0.05e9))
    # bare numbers are not figures, and "1k tokens" inside a price is not a volume
    assert len(got) == 7


def test_built_memo_has_sections_in_order_and_quotes_figures() -> None:
    m = _memo()
    assert [h for h, _ in m.sections] == list(memo.REQUIRED_SECTIONS)
    md = m.markdown
    assert md.startswith("# Support assistant: build or buy\n")
    assert "B costs $845k against $1.23M for A." in md
    assert "B saves 31.5% and pays back in 14.2 months." in md
    assert "We recommend that we **build**: fine-tune an open model" in md
    assert "a **hybrid**: launch on the API" in _memo(strategy="hybrid").markdown
    assert "**neither**" in _memo(strategy="neither").markdown
    assert "| Payback | 14.2 months |" in md
    assert "| Crossover | never within the horizon |" in md
    assert "- **GPU prices fall.** Mitigation: lease, do not buy" in md
    assert "<h2>Financial impact</h2>" in m.html and "<table>" in m.html
    assert m._repr_markdown_() == md


def test_check_passes_a_built_memo() -> None:
    report = check_memo(_memo(), FIGS)
    assert report.ok, report.problems
    assert ("$1.23M", "tco_a_usd") in report.matched
    assert ("14.2 months", "payback_months") in report.matched
    assert str(report).startswith("memo OK")


@pytest.mark.parametrize(("quoted", "ok"), [
    ("$1.2M", True),    # 1.2347M rounds to 1.2M
    ("$1.23M", True),
    ("$1.24M", False),  # the half-step at 2 decimals is 0.005M
    ("$1M", True),      # coarse, but still the right number rounded
    ("$1,234,567", True),
    ("$1,234,600", False),
    ("31.5%", True), ("32%", True), ("31.6%", False),
    ("14 months", True), ("15 months", False),
])
def test_matching_within_rounding(quoted: str, ok: bool) -> None:
    text = "\n".join(f"## {s}\n\n**TCO** **IP** **Time to market**" for s in
                     memo.REQUIRED_SECTIONS) + f"\n\nWe quote {quoted}."
    report = check_memo(text, FIGS)
    assert report.ok is ok, report.problems


def test_check_finds_hand_edited_number_missing_section_and_rationale() -> None:
    md = _memo().markdown.replace("B costs $845k", "B costs $800k")
    md = md.replace("## Risks and mitigations", "## Risks")
    md = md.replace("**IP.**", "Moat:")
    report = check_memo(md, FIGS)
    assert not report.ok
    assert report.unmatched == ("$800k",)
    assert report.missing_sections == ("Risks and mitigations",)
    assert report.missing_rationale == ("IP",)
    assert len(report.problems) == 3


def test_word_limit() -> None:
    long_text = " ".join(["word"] * 700)
    report = check_memo(_memo(problem=long_text), FIGS)
    assert report.word_count > memo.MAX_WORDS
    assert any("one-page memo" in p for p in report.problems)
    assert check_memo(_memo(problem=long_text), FIGS, max_words=2000).ok


@pytest.mark.parametrize(("changes", "pattern"), [
    ({"strategy": "rent"}, r"strategy='rent' is invalid: must be one of 'build', 'buy'"),
    ({"rationale": {"tco": "x", "ip": "y"}}, r"rationale=\['ip', 'tco'\] is invalid"),
    ({"problem": "  "}, r"problem='  ' is invalid: must be a non-empty string"),
    ({"problem": "costs {tco_a}"}, r"problem='...\{tco_a\}...' is invalid.*did you mean"),
    ({"risks": []}, r"risks=\[\] is invalid"),
    ({"risks": [("only a risk",)]}, r"risks\[0\]=\('only a risk',\) is invalid"),
    ({"table_keys": ["nope"]}, r"table_keys='nope' is invalid"),
])
def test_build_memo_rejects_bad_input(changes: dict[str, object], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        _memo(**changes)


def test_figure_validation() -> None:
    with pytest.raises(ValueError, match=r"key='TCO A' is invalid"):
        Figure("TCO A", "x", 1.0, "usd")
    with pytest.raises(ValueError, match=r"value=inf is invalid"):
        Figure("x", "x", float("inf"), "usd")
    with pytest.raises(ValueError, match=r"memo=3 is invalid"):
        check_memo(3, FIGS)  # type: ignore[arg-type]


@pytest.mark.parametrize("persona", ["bank_support", "hospital_notes", "retail_search"])
def test_draft_memo_follows_the_record_and_passes_its_own_check(persona: str) -> None:
    from buildbuy import scenarios
    from buildbuy.decision import decide
    from buildbuy.memo import board_facts, draft_memo, judge

    d = decide(scenarios.load(persona))
    m = draft_memo(d)
    facts = board_facts(d)
    assert m.strategy == d.recommendation == facts.recommendation
    assert check_memo(m, facts.figures).ok
    assert judge(m, facts).ok
    assert draft_memo(persona).markdown == m.markdown   # name, scenario or record alike
    # the memo may quote every figure of the record's registry, as the record has it
    figs = memo.memo_figures(scenarios.load(persona))
    assert all(figs[k] is f for k, f in d.figures.items())
    # the amount, the headcount and the widest tornado driver are all stated
    cta = dict(m.sections)["Call to action"]
    assert facts.text("ask_usd") in cta and facts.text("headcount_fte") in cta
    assert facts.widest.label.lower() in m.markdown.lower()


def test_draft_memo_says_neither_when_nothing_creates_value() -> None:
    from buildbuy import scenarios
    from buildbuy.memo import board_facts, draft_memo, judge

    S = scenarios.load("hospital_notes", value_usd_per_request=0.0)
    m = draft_memo(S)
    assert m.strategy == "neither" and "**neither**" in m.markdown
    facts = board_facts(S)
    assert facts.figures["ask_usd"].value == 0.0 and judge(m, facts).ok
    assert "no funding ($0)" in dict(m.sections)["Call to action"]


def test_per_request_prices_are_read_as_their_own_unit() -> None:
    figs = [Figure("v", "Value", 0.48, "usd_per_request"), Figure("c", "Cost", 0.48, "usd")]
    got = {q.text: q.unit for q in memo.quoted_numbers("worth $0.480 per request, $0.48")}
    assert got == {"$0.480 per request": "usd_per_request", "$0.48": "usd"}
    assert check_memo("## Business problem\nworth $0.480 per request", figs).matched == (
        ("$0.480 per request", "v"),)
