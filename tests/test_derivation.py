"""Lesson 2's component tables: every cost line in one component, the tables add up to the
comparison's totals, and the formulas in words match the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from buildbuy import derivation, scenarios, tco

PERSONAS = scenarios.persona_names()


@pytest.mark.parametrize("persona", PERSONAS)
def test_component_tables_sum_to_the_comparison_totals(persona: str) -> None:
    S = scenarios.load(persona)
    C = tco.compare(S)
    for side in ("A", "B"):
        tables = [derivation.component_table(S, c) for c in derivation.CONCEPTS]
        by_table = sum(t.loc[t["path"] == side, "total_usd"].sum() for t in tables)
        assert by_table == pytest.approx(C.tco_usd[side], rel=1e-12)
        assert derivation.totals(S).loc["total", side] == pytest.approx(C.tco_usd[side],
                                                                       rel=1e-12)


@pytest.mark.parametrize("persona", PERSONAS)
def test_years_add_up_to_the_line_total(persona: str) -> None:
    S = scenarios.load(persona)
    for c in derivation.CONCEPTS:
        t = derivation.component_table(S, c)
        years = [k for k in t.columns if k.startswith("year_")]
        assert len(years) == 3, years
        np.testing.assert_allclose(t[years].sum(axis=1), t["total_usd"], rtol=1e-12)


def test_every_line_has_a_formula_and_one_component() -> None:
    for persona in PERSONAS:
        S = scenarios.load(persona)
        cf = derivation.lines(S)
        assert set(cf["concept"]) <= set(derivation.CONCEPTS)
        for c in derivation.CONCEPTS:
            t = derivation.component_table(S, c)
            assert (t["formula"].str.len() > 0).all(), (persona, c)


def test_hand_computed_lines_of_the_bank() -> None:
    S = scenarios.load("bank_support")
    people = derivation.component_table(S, "people").set_index(["path", "line"])
    # 2 ML engineers on B at $241,833 a year: $483,666 a year
    assert people.loc[("B", "ml_engineer"), "year_1_usd"] == pytest.approx(
        2 * S.ml_engineer_usd_per_year)
    assert "2 FTE x $241,833" in people.loc[("B", "ml_engineer"), "formula"]
    capex = derivation.component_table(S, "capex").set_index("line")
    fleet = derivation.fleet_table(S)
    # year 1 buys the year-1 servers, later years the top-ups, at $300,000 each
    bought = np.diff(fleet["servers"].to_numpy(), prepend=0)
    np.testing.assert_allclose(capex.loc["gpu_servers", ["year_1_usd", "year_2_usd",
                                                          "year_3_usd"]].to_numpy(dtype=float),
                               bought * S.server_usd)
    assert capex.loc["networking", "total_usd"] == pytest.approx(
        capex.loc["gpu_servers", "total_usd"] * S.networking_uplift)


def test_fleet_table_is_the_fleet_plan_and_the_rent_line() -> None:
    S = scenarios.load("retail_search")
    t = derivation.fleet_table(S)
    plan = tco.compare(S).fleet
    assert t["gpus"].tolist() == plan.gpus_by_year
    rent = derivation.component_table(S, "fleet").set_index("line")
    assert t["rent_usd"].sum() == pytest.approx(rent.loc["gpu_rental", "total_usd"])


def test_api_fee_formula_shows_the_blended_price() -> None:
    S = scenarios.load("hospital_notes")
    t = derivation.component_table(S, "api_fees").set_index("line")
    # sonnet 4.5 at $3 in / $15 out per 1M, the hospital's output share
    from buildbuy import costs
    usd_1m = costs.api_usd_per_1k_tokens(S.api_model, output_token_share=S.output_token_share,
                                         cached_input_share=S.cached_input_share) * 1000
    assert f"${usd_1m:.2f} per 1M tokens" in t.loc["api_fees", "formula"]


def test_bad_concept_names_the_choices() -> None:
    with pytest.raises(ValueError, match="concept='capx' is invalid: must be one of"):
        derivation.component_table(scenarios.load("bank_support"), "capx")
    with pytest.raises(ValueError, match="category='tax'"):
        derivation.concept_of("A", "x", "tax")


def test_depreciation_table_is_the_records_schedule() -> None:
    from buildbuy.decision import decide

    S = scenarios.load("bank_support")
    D = decide(S)
    t = derivation.depreciation_table(S)
    assert t["capex_usd"].tolist() == pytest.approx(list(D.capex_by_year_usd.values()))
    # straight line to zero over the book life: year 1 holds 12 months of year-1 purchases
    assert t.loc[0, "depreciation_usd"] == pytest.approx(
        D.capex_by_year_usd[1] / S.depreciation_life_months * 12)
    assert t["depreciation_usd"].sum() == pytest.approx(D.depreciation["B"].sum())


@pytest.mark.parametrize("persona", PERSONAS)
def test_value_table_is_the_value_lines(persona: str) -> None:
    from buildbuy.decision import decide

    S = scenarios.load(persona)
    t = derivation.value_table(S).set_index(["path", "line"])
    D = decide(S)
    assert t.loc[("B", "forgone"), "total_usd"] == pytest.approx(
        D.figures["forgone_value_b_usd"].value)
    assert t.loc[("A", "forgone"), "total_usd"] == pytest.approx(
        D.figures["forgone_value_a_usd"].value)
    years = [c for c in t.columns if c.startswith("year_")]
    np.testing.assert_allclose(t[years].sum(axis=1), t["total_usd"], rtol=1e-12)
