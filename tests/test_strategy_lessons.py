"""Strategic opportunity cost, lead-time scenarios, scaling bottlenecks and playbooks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from buildbuy import derivation, playbook, scaling, scenarios, strategy, tco, value
from buildbuy.decision import decide
from buildbuy.scenarios import ROLES


def test_lead_time_scenarios_move_b_only_when_owned() -> None:
    S = scenarios.load("bank_support", months_to_production=6)
    t = strategy.lead_time_scenarios(S).set_index("lead_time_months")
    # 12 months (Omdia's year) delays B by 6 months and forgoes 6 more months of value
    assert t.loc[12, "b_live_month"].max() == 13
    assert t.loc[12, "delay_months"].max() == 6
    # B forgoes B's value of months 7-12: the value lines of the on-time scenario
    v = value.monthly_value(S)["B"]
    base = np.ravel(t.loc[3, "b_forgone_usd"])[0]
    assert np.ravel(t.loc[12, "b_forgone_usd"])[0] - base == pytest.approx(v[7:13].sum())
    # the first row is the scenario itself, and its verdict is the record's
    first = strategy.lead_time_scenarios(S).iloc[0]
    assert first["case"] == "your scenario"
    assert first["decision"] == decide(S).recommendation
    assert first["npv_b_minus_a_usd"] == pytest.approx(decide(S).npv_gap_usd)
    cloud = strategy.lead_time_scenarios(scenarios.load("hospital_notes"))
    assert cloud["delay_months"].eq(0).all() and cloud["npv_b_minus_a_usd"].nunique() == 1


def test_strategic_cost_hand_computed() -> None:
    S = scenarios.load("retail_search")   # no on-call top-up
    t = strategy.strategic_cost(S).set_index("measure")
    fte_a = sum(getattr(S, f"{r}_fte_a") for r in ROLES)
    fte_b = sum(getattr(S, f"{r}_fte_b") for r in ROLES)
    assert t.loc["staff_fte", "A"] == pytest.approx(fte_a)
    assert t.loc["staff_fte", "B"] == pytest.approx(fte_b)
    assert t.loc["engineer_months_horizon", "B_minus_A"] == pytest.approx(
        (fte_b - fte_a) * S.horizon_months)
    assert t.loc["engineer_months_before_live", "B"] == pytest.approx(
        fte_b * S.months_to_production)
    tot = derivation.totals(S)
    assert t.loc["people_cost_usd", "B"] == pytest.approx(tot.loc["people", "B"])
    assert t.loc["integrations_forgone", "B"] == pytest.approx(
        (tot.loc["people", "B"] - tot.loc["people", "A"]) / S.api_integration_usd)


def test_scaling_bottlenecks_are_model_differences() -> None:
    S = scenarios.load("retail_search")
    t = scaling.scaling_bottlenecks(S, volume_multiple=2.0)
    tech_b = t[(t.kind == "technical") & (t.path == "B")].iloc[0]
    big = S.replace(monthly_tokens=2 * S.monthly_tokens)
    rent = derivation.totals(big).loc["fleet", "B"] - derivation.totals(S).loc["fleet", "B"]
    running = (derivation.totals(big).loc["running", "B"]
               - derivation.totals(S).loc["running", "B"])
    assert tech_b["investment_usd"] == pytest.approx(rent + running)
    talent = t[t.kind == "talent"].iloc[0]
    extra = sum(getattr(S, f"{r}_fte_b") - getattr(S, f"{r}_fte_a") for r in ROLES)
    assert talent["investment_usd"] == math.ceil(extra) * scaling.COST_PER_HIRE_USD
    with pytest.raises(ValueError, match="volume_multiple=0 is invalid"):
        scaling.scaling_bottlenecks(S, volume_multiple=0)


def test_bank_needs_a_bigger_rotation() -> None:
    t = scaling.scaling_bottlenecks(scenarios.load("bank_support"))
    org = t[t.kind == "organisational"].iloc[0]
    assert "rotation of 8" in org["what_binds"] and org["investment_usd"] > 0


@pytest.mark.parametrize("persona", scenarios.persona_names())
def test_playbooks_quote_the_model(persona: str) -> None:
    S = scenarios.load(persona)
    C = tco.compare(S)
    for lesson in playbook.LESSONS:
        p = playbook.playbook(S, lesson)
        assert list(p.columns) == ["step", "do", "your_number", "revisit_when"]
        assert len(p) == 3 and p["your_number"].str.len().min() > 10
    p2 = playbook.playbook(S, 2)
    assert p2.loc[0, "do"] == f"Decide: {decide(S).recommendation}."
    p1 = playbook.playbook(S, 1)
    f = decide(S).figures
    assert f"GPUs B runs in year 1: {f['gpus_year_1'].text}," in p1.loc[1, "your_number"]
    assert C.fleet.gpus_by_year[0] == f["gpus_year_1"].value
    with pytest.raises(ValueError, match="lesson=4 is invalid"):
        playbook.playbook(S, 4)


@pytest.mark.parametrize("persona", scenarios.persona_names())
def test_the_rule_by_hand_gives_the_records_choice(persona: str) -> None:
    from buildbuy.decision import explain

    S = scenarios.load(persona)
    D = decide(S)
    m = explain.margin(S)
    assert m.choice == D.recommendation
    allowed = {p: v for p, v in D.npv_vs_status_quo_usd.items() if not D.feasibility[p]}
    values = sorted([*allowed.values(), 0.0], reverse=True)
    assert m.margin_usd == pytest.approx(values[0] - values[1])
    s = explain.swing(S)
    t = D.risk.tornado
    widths = (t["metric_high"] - t["metric_low"]).abs()
    assert s.swing_usd == pytest.approx(widths.max())


def test_constraint_what_ifs_block_the_right_paths() -> None:
    from buildbuy.decision import explain

    t = explain.constraint_what_ifs(scenarios.load("hospital_notes")).set_index("case")
    assert t.loc["your scenario", "blocked"] == "none"
    # in-house data rules out the API and the hospital's rented GPUs
    assert t.loc["data must stay in-house", "blocked"] == "A, B, H"
    r = explain.constraint_what_ifs(scenarios.load("retail_search")).set_index("case")
    slow = next(c for c in r.index if c.startswith("API measured"))
    assert r.loc[slow, "blocked"].startswith("A")       # 47.6 ms against a 20 ms target
    assert "47.6 ms per output token" in r.loc[slow, "first_reason"]
