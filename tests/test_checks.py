"""Instant feedback: statuses, tolerances, hints that do not leak, scenario-following."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from buildbuy import checks, data, questions, scenarios
from buildbuy.checks import check


@pytest.fixture(scope="module")
def bank() -> scenarios.Scenario:
    return scenarios.load("bank_support")


@pytest.fixture(scope="module")
def hospital() -> scenarios.Scenario:
    return scenarios.load("hospital_notes")


def _kv_gb_by_hand(s: scenarios.Scenario) -> float:
    m = data.get_model(s.self_host_model)
    # K and V, per layer, per KV head, head_dim values of 2 bytes (bf16)
    return 2 * m.n_layers * m.n_kv_heads * m.head_dim * 2 * s.tokens_per_request / 1e9


def test_registry_has_three_practice_questions_per_lesson() -> None:
    for lesson in (1, 2, 3):
        practice = [q for q in questions.QUESTIONS.values()
                    if q.lesson == lesson and q.id.startswith(f"p{lesson}_")]
        assert len(practice) >= 3, lesson
    for q in questions.QUESTIONS.values():
        assert q.kind in questions.KINDS
        assert q.exercise in questions.EXERCISES
        assert (q.kind == "choice") == bool(q.choices)
        assert q.hint and q.prompt


def test_kv_cache_question_matches_the_hand_formula(bank: scenarios.Scenario) -> None:
    # qwen2.5-32b: 2 x 64 layers x 8 KV heads x 128 x 2 bytes = 262,144 B/token; x 2000 tokens
    assert _kv_gb_by_hand(bank) == pytest.approx(0.524288)
    assert questions.get("p1_kv_cache_gb").expected(bank) == pytest.approx(0.524288)


@pytest.mark.parametrize("qid", sorted(questions.QUESTIONS))
def test_unanswered_never_raises(qid: str, bank: scenarios.Scenario) -> None:
    r = check(qid, None, scenario=bank)
    assert r.status == "not_answered"
    assert r.message.startswith("not answered yet")


def test_unknown_question_raises_with_suggestion(bank: scenarios.Scenario) -> None:
    with pytest.raises(ValueError, match=r"question_id='p1_kv_cache' is invalid.*p1_kv_cache_gb"):
        check("p1_kv_cache", 1.0, scenario=bank)


def test_no_scenario_is_an_error_status_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_SCENARIO", None)
    r = check("p1_kv_cache_gb", 0.5)
    assert r.status == "error"
    assert "use_scenario" in r.message


def test_use_scenario_is_the_default_and_validates(monkeypatch: pytest.MonkeyPatch,
                                                    bank: scenarios.Scenario) -> None:
    monkeypatch.setattr(checks, "_SCENARIO", None)
    checks.use_scenario(bank)
    assert checks.current_scenario() is bank
    assert check("p1_kv_cache_gb", _kv_gb_by_hand(bank)).status == "correct"
    with pytest.raises(ValueError, match=r"scenario='bank_support' is invalid"):
        checks.use_scenario("bank_support")


def test_relative_tolerance_boundary(bank: scenarios.Scenario) -> None:
    e = _kv_gb_by_hand(bank)  # rel_tol = 1%
    assert check("p1_kv_cache_gb", e * 1.009, scenario=bank).status == "correct"
    assert check("p1_kv_cache_gb", e * 0.991, scenario=bank).status == "correct"
    r = check("p1_kv_cache_gb", e * 1.02, scenario=bank)
    assert r.status == "incorrect"
    assert "within 1%" in r.message


def test_hint_does_not_reveal_the_expected_value(bank: scenarios.Scenario) -> None:
    e = _kv_gb_by_hand(bank)
    r = check("p1_kv_cache_gb", 7.0, scenario=bank)
    assert r.status == "incorrect"
    assert "Hint:" in r.message
    for shown in (f"{e}", f"{e:.3f}", f"{e:.2f}", f"{e:.4g}", f"{e * 1e3:.0f}"):
        assert shown not in r.message


def test_unit_slip_gets_a_units_nudge(bank: scenarios.Scenario) -> None:
    e = _kv_gb_by_hand(bank)
    assert "power of 1000" in check("p1_kv_cache_gb", e * 1e9, scenario=bank).message
    assert "power of 1000" in check("p1_kv_cache_gb", e * 1e3, scenario=bank).message
    assert "sign" in check("p1_kv_cache_gb", -e, scenario=bank).message


def test_expected_follows_the_learners_scenario(bank: scenarios.Scenario,
                                                hospital: scenarios.Scenario) -> None:
    answer = _kv_gb_by_hand(bank)
    assert check("p1_kv_cache_gb", answer, scenario=bank).status == "correct"
    assert check("p1_kv_cache_gb", answer, scenario=hospital).status == "incorrect"
    assert check("p1_kv_cache_gb", _kv_gb_by_hand(hospital), scenario=hospital).correct
    bigger = bank.replace(tokens_per_request=4000)
    assert check("p1_kv_cache_gb", 2 * answer, scenario=bigger).correct


def test_numeric_answer_types(bank: scenarios.Scenario) -> None:
    e = _kv_gb_by_hand(bank)
    assert check("p1_kv_cache_gb", np.float32(e), scenario=bank).correct
    assert check("p1_kv_cache_gb", "0.52", scenario=bank).status == "incorrect"
    assert check("p1_kv_cache_gb", True, scenario=bank).status == "incorrect"
    assert "finite" in check("p1_kv_cache_gb", math.nan, scenario=bank).message
    assert check("p1_kv_cache_gb", "never", scenario=bank).status == "incorrect"


def test_choice_questions(bank: scenarios.Scenario) -> None:
    # batch-1 decode streams every weight once per step: memory-bandwidth bound
    assert check("p1_bound_batch1", "Memory_Bandwidth ", scenario=bank).correct
    r = check("p1_bound_batch1", "compute", scenario=bank)
    assert r.status == "incorrect" and "Hint:" in r.message
    r = check("p1_bound_batch1", "gpu", scenario=bank)
    assert r.status == "incorrect" and "not an option" in r.message
    assert check("p1_bound_batch1", 3, scenario=bank).status == "incorrect"


def test_concept_drift_question_is_computed_by_simulation() -> None:
    # inputs do not move under concept drift, so only the error-rate detector fires
    assert questions.concept_drift_alarms() == {"psi": False, "ks_test": False, "ddm": True}
    r = check("p3_concept_drift_detector", "ddm", scenario=scenarios.load("retail_search"))
    assert r.correct
    assert check("p3_concept_drift_detector", "psi",
                 scenario=scenarios.load("retail_search")).status == "incorrect"


def test_psi_threshold_question_hand_computed(bank: scenarios.Scenario) -> None:
    from scipy import stats

    n = bank.monitor_samples_per_day * 30
    expected = stats.chi2.ppf(0.95, 9) * (2 / n)
    assert check("p3_psi_threshold", expected, scenario=bank).correct


def test_library_failure_is_an_error_status(monkeypatch: pytest.MonkeyPatch,
                                            bank: scenarios.Scenario) -> None:
    q = questions.get("p1_kv_cache_gb")

    def boom(_s: object) -> float:
        raise RuntimeError("library broke")

    monkeypatch.setitem(questions.QUESTIONS, q.id,
                        questions.Question(**{**vars(q), "expected": boom}))
    r = check(q.id, 1.0, scenario=bank)
    assert r.status == "error" and "library broke" in r.message


def test_record_is_json_and_display_bundle(bank: scenarios.Scenario) -> None:
    r = check("p1_kv_cache_gb", np.float64(0.5), scenario=bank)
    rec = json.loads(json.dumps(r.to_record()))
    assert rec["question"] == "p1_kv_cache_gb"
    assert rec["status"] == "incorrect"
    assert rec["answer"] == 0.5
    assert rec["scenario"] == {"persona": "bank_support", "overrides": {}}
    assert checks.scenario_from_ref(rec["scenario"]) == bank
    changed = bank.replace(monthly_tokens=5e9)
    ref = check("p1_kv_cache_gb", 0.5, scenario=changed).to_record()["scenario"]
    assert ref == {"persona": "bank_support", "overrides": {"monthly_tokens": 5e9}}
    assert checks.scenario_from_ref(ref) == changed
    bundle = r.bundle()
    assert bundle[checks.RECORD_MIME]["status"] == "incorrect"
    assert "p1_kv_cache_gb" in bundle["text/plain"] and "<b>" in bundle["text/html"]
    assert checks.RECORD_MIME not in r.bundle(with_record=False)


def test_summary_counts_the_latest_result_per_question(bank: scenarios.Scenario) -> None:
    results = [check("p1_kv_cache_gb", 7.0, scenario=bank),
               check("p1_kv_cache_gb", _kv_gb_by_hand(bank), scenario=bank),
               check("p1_bound_batch1", None, scenario=bank)]
    assert dict(checks.summary(results)) == {"correct": 1, "incorrect": 0,
                                             "not_answered": 1, "error": 0}


def test_never_answers_for_a_crossover_that_does_not_happen(hospital: scenarios.Scenario
                                                           ) -> None:
    tiny = hospital.replace(monthly_tokens=1e6)  # B's fixed costs are never recovered
    assert questions.record(tiny).comparison.crossover_month is None
    assert check("ex2_crossover_month", "never", scenario=tiny).correct
    assert check("ex2_crossover_month", " Never ", scenario=tiny).correct
    r = check("ex2_crossover_month", 12.0, scenario=tiny)
    assert r.status == "incorrect" and "Hint:" in r.message


def test_crossover_within_half_a_month(bank: scenarios.Scenario) -> None:
    big = bank.replace(monthly_tokens=2e11)  # far above break-even: B catches up
    p = questions.record(big).comparison.crossover_month
    assert p is not None
    assert check("ex2_crossover_month", p + 0.49, scenario=big).correct
    assert check("ex2_crossover_month", p + 0.51, scenario=big).status == "incorrect"
    r = check("ex2_crossover_month", "never", scenario=big)
    assert r.status == "incorrect" and "does happen" in r.message


def test_expected_values_are_the_records_figures(bank: scenarios.Scenario) -> None:
    """One number, one source: the checks expect exactly what the record prints."""
    d = questions.record(bank)
    for qid, key in (("ex2_tco_a_usd", "tco_a_usd"), ("ex2_tco_b_usd", "tco_b_usd"),
                     ("ex2_crossover_month", "crossover_month"),
                     ("p2_break_even_monthly_tokens", "break_even_monthly_tokens"),
                     ("p2_discounted_crossover_month", "discounted_crossover_month")):
        assert questions.get(qid).expected(bank) == d.figures[key].value, qid
    assert questions.get("ex2_recommendation").expected(bank) == d.recommendation
    assert questions.fleet(bank) == d.replica  # the same sizing, not another one


def test_memo_question_checks_arithmetic_and_judgement(bank: scenarios.Scenario) -> None:
    from buildbuy import memo

    facts = memo.board_facts(bank)
    m = memo.draft_memo(facts)  # passes the checker and the rubric by construction
    r = check("ex3_memo", m, scenario=bank)
    assert r.correct, r.message
    assert [p[0] for p in r.parts] == [f"ex3_memo:{i}" for i in memo.rubric.ITEMS]
    assert {p[1] for p in r.parts} == {"correct"}
    assert r.to_record()["parts"] == [list(p) for p in r.parts]
    assert check("ex3_memo", m.markdown, scenario=bank).correct  # what the grader re-checks
    wrong = m.markdown.replace(facts.text("tco_a_usd"), "$9.99M", 1)
    r = check("ex3_memo", wrong, scenario=bank)
    assert r.status == "incorrect" and "'$9.99M' matches no model figure" in r.message
    assert "nearest is" in r.message
    # right numbers, wrong judgement: the rubric item fails and so does the answer
    other = m.markdown.replace("**build**", "**buy**")
    r = check("ex3_memo", other, scenario=bank)
    assert r.status == "incorrect"
    assert dict((p[0], p[1]) for p in r.parts)["ex3_memo:recommendation"] == "incorrect"
    assert check("ex3_memo", 42, scenario=bank).status == "incorrect"


def test_memo_parts_are_the_rubric_items_and_the_bank_imports_light() -> None:
    import subprocess
    import sys

    from buildbuy.memo import rubric

    assert questions.RUBRIC_ITEMS == rubric.ITEMS == questions.get("ex3_memo").parts
    # an exercise's first import must not pull in the memo, the record or scipy
    code = ("import sys, buildbuy.checks; "
            "print(sorted(m for m in ('buildbuy.memo', 'buildbuy.decision', 'scipy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_part_rows_cover_unjudged_answers() -> None:
    from buildbuy.checks import part_rows

    rows = part_rows("ex3_memo", "not_answered")
    assert [r[0] for r in rows] == [f"ex3_memo:{i}" for i in questions.RUBRIC_ITEMS]
    assert {r[1] for r in rows} == {"not_answered"}
    assert {r[1] for r in part_rows("ex3_memo", "error")} == {"error"}
    assert part_rows("ex1_binding", "correct") == []  # a question without parts
