"""The decision record: one object per scenario, a complete figure registry, the verdict
rules (neither, quality, constraints), tax on one basis and consistent paybacks."""

from __future__ import annotations

import numpy as np
import pytest

from buildbuy import finance, scenarios, tco, uncertainty
from buildbuy.decision import KEY_FIGURES, RISK_DRAWS, Figure, decide, summary_figures

PERSONAS = ("bank_support", "hospital_notes", "retail_search")


@pytest.fixture(scope="module", params=PERSONAS)
def record(request: pytest.FixtureRequest):
    return decide(scenarios.load(request.param))


def test_one_record_per_scenario_values(record) -> None:
    S = record.scenario
    assert decide(scenarios.load(S.name)) is record          # same values, same object
    assert record.comparison is tco.compare(S)               # built on the one comparison
    other = decide(S.replace(monthly_tokens=S.monthly_tokens * 1.01))
    assert other is not record


def test_registry_holds_every_key_figure(record) -> None:
    f = record.figures
    years = range(1, len(record.fleet) + 1)
    must = {"capex_usd", "npv_a_usd", "npv_b_usd", "npv_h_usd", "npv_gap_usd", "irr_b_vs_a",
            "payback_months", "discounted_payback_months", "npv_gap_p10_usd",
            "npv_gap_p50_usd", "npv_gap_p90_usd", "fte_a", "fte_b",
            "break_even_monthly_tokens", "tco_a_usd", "tco_b_usd", "recommendation",
            "valuation_dcf_horizon_usd", "valuation_dcf_terminal_usd", "valuation_pe_usd"}
    must |= {f"{line}_{p}_year_{y}_usd" for line in ("ebitda", "fcf", "value")
             for p in "abh" for y in years}
    must |= {f"gpus_year_{y}" for y in years} | {f"capex_year_{y}_usd" for y in years}
    must |= set(KEY_FIGURES)
    assert must <= set(f), sorted(must - set(f))
    for key, fig in f.items():
        assert isinstance(fig, Figure) and fig.key == key and fig.label
        assert isinstance(fig.text, str)


def test_figures_are_the_records_numbers(record) -> None:
    f, d = record.figures, record
    assert f["gpus_year_1"].value == d.fleet["gpus"].iloc[0]
    assert f["capex_usd"].value == pytest.approx(d.comparison.paths["B"].capex.sum())
    assert f["npv_gap_usd"].value == d.npv_gap_usd
    assert f["payback_months"].value == d.payback_months["simple"]
    assert f["recommendation"].value == d.recommendation
    ebitda = d.annual[(d.annual.path == "B") & (d.annual.year == 1)].ebitda_usd.iloc[0]
    assert f["ebitda_b_year_1_usd"].value == ebitda
    assert f["fte_b"].value == pytest.approx(sum(
        getattr(d.scenario, k) for k in d.scenario.to_dict() if k.endswith("_fte_b")))
    assert summary_figures(d)["npv_gap_usd"] == d.npv_gap_usd


def test_neither_when_no_path_creates_value() -> None:
    for name in PERSONAS:
        c = tco.compare(scenarios.load(name, value_usd_per_request=0.0))
        assert c.recommendation == "neither", name
        assert max(c.npv_vs_status_quo_usd.values()) <= 0
        assert any(r.startswith("Neither") for r in c.reasons)
    d = decide(scenarios.load("hospital_notes", value_usd_per_request=0.0))
    assert d.figures["recommendation"].text == "neither"


def test_a_weaker_b_model_costs_b_value_and_leaves_a_unchanged() -> None:
    S = scenarios.load("retail_search")
    strong, weak = tco.compare(S), tco.compare(S.replace(quality_b_vs_a=0.7))
    assert weak.npv_vs_status_quo_usd["A"] == pytest.approx(strong.npv_vs_status_quo_usd["A"],
                                                           rel=1e-12)
    assert weak.npv_vs_status_quo_usd["B"] < strong.npv_vs_status_quo_usd["B"]
    assert weak.npv_gap_usd < strong.npv_gap_usd
    np.testing.assert_allclose(weak.paths["A"].fcf, strong.paths["A"].fcf)
    assert weak.recommendation == "buy"


def test_tax_identity_for_a_scenario_with_no_capex() -> None:
    S = scenarios.load("retail_search")  # cloud on demand: no hardware bought
    assert decide(S).capex_usd == 0
    pre = tco.compare(S.replace(tax_rate=0.0)).npv_gap_usd
    assert decide(S).npv_gap_usd == pytest.approx((1 - S.tax_rate) * pre, rel=1e-12)


def test_in_house_data_blocks_the_api_and_rented_gpus() -> None:
    bank = decide(scenarios.load("bank_support"))
    assert bank.feasibility["A"] and bank.feasibility["H"] and not bank.feasibility["B"]
    assert bank.recommendation == "build"
    hosp = tco.compare(scenarios.load("hospital_notes", data_residency="in_house"))
    assert hosp.feasibility["A"] and hosp.feasibility["B"]  # rented GPUs are not in house
    assert hosp.recommendation == "neither"
    assert any("not possible" in r for r in hosp.reasons)


def test_the_price_of_a_constraint_is_the_best_blocked_path_minus_the_chosen_one() -> None:
    bank = decide(scenarios.load("bank_support"))
    npv = bank.npv_vs_status_quo_usd
    assert bank.constraint_cost_path == "A"                  # the API is the best blocked path
    assert bank.constraint_cost_usd == pytest.approx(npv["A"] - npv["B"], rel=1e-12)
    assert bank.figures["constraint_cost_usd"].value == bank.constraint_cost_usd
    assert any("price of the constraints" in r for r in bank.reasons)
    # without the policy the same numbers give the other verdict: the price is what it costs
    free = decide(scenarios.load("bank_support", data_residency="any"))
    assert free.recommendation == "buy" and free.constraint_cost_usd is None
    assert free.npv_vs_status_quo_usd["A"] == pytest.approx(npv["A"], rel=1e-12)
    assert "constraint_cost_usd" not in free.figures
    # a B no GPU can serve has no fleet in its lines, so no price
    slow = decide(scenarios.load("retail_search", max_ms_per_output_token=1.0))
    assert slow.feasibility["B"] and slow.constraint_cost_usd is None
    # "neither": the chosen path is doing nothing, so the price is the blocked path's NPV
    hosp = decide(scenarios.load("hospital_notes", data_residency="in_house"))
    best = max(("A", "B", "H"), key=lambda p: hosp.npv_vs_status_quo_usd[p])
    assert hosp.constraint_cost_usd == pytest.approx(
        max(0.0, hosp.npv_vs_status_quo_usd[best]), rel=1e-12)


def test_a_latency_target_no_gpu_meets_blocks_b_without_crashing() -> None:
    d = decide(scenarios.load("retail_search", max_ms_per_output_token=1.0))
    assert d.replica is None and d.feasibility["B"] and d.feasibility["H"]
    assert "latency target not met" in d.feasibility["B"][0]
    assert d.recommendation == "buy" and d.risk is None
    assert d.fleet["gpus"].eq(0).all()
    assert "not feasible" in d.fleet["sized_for"].iloc[0]


def test_paybacks_are_consistent_even_over_ten_years() -> None:
    """Issue 16: a 120-month horizon gave simple payback "never" but discounted 119.7."""
    for name in PERSONAS:
        d = tco.compare(scenarios.load(name, horizon_months=120))
        for pb in (d.payback_months, d.payback_hybrid_months):
            if pb["simple"] is None:
                assert pb["discounted"] is None, name
            elif pb["discounted"] is not None:
                assert pb["discounted"] >= pb["simple"], name
    assert finance.paybacks([10.0, 10.0, -25.0], 0.5) == (None, None)


def test_risk_is_the_seeded_monte_carlo_and_tornado(record) -> None:
    r = record.risk
    assert r is not None and r.n_draws == RISK_DRAWS and r.seed == 0
    mc = uncertainty.monte_carlo(record.scenario, n_draws=RISK_DRAWS, seed=0)
    assert r.npv_gap_p50_usd == pytest.approx(mc.percentiles_usd.loc["P50", "npv_gap"])
    assert r.prob_b_better == mc.prob_b_better
    assert r.npv_gap_p10_usd <= r.npv_gap_p50_usd <= r.npv_gap_p90_usd
    assert r.tornado.base_metric.iloc[0] == pytest.approx(record.npv_gap_usd, rel=1e-9)
    assert r.top_drivers == tuple(r.tornado.label.head(3))


def test_the_records_draw_count_is_enough() -> None:
    """5,000 draws: percentiles within 2% of the P10-P90 spread of 100,000 other draws."""
    S = scenarios.load("bank_support")
    small = decide(S).risk
    big = uncertainty.monte_carlo(S, n_draws=100_000, seed=1).percentiles_usd["npv_gap"]
    spread = big["P90"] - big["P10"]
    for q in ("P10", "P50", "P90"):
        assert abs(getattr(small, f"npv_gap_{q.lower()}_usd") - big[q]) < 0.02 * spread


def test_valuation_values_the_recommended_path_against_doing_nothing(record) -> None:
    v = record.valuation
    assert v.against == "0" and v.path == record.best_path
    assert v.dcf_horizon_usd == pytest.approx(record.npv_vs_status_quo_usd[v.path])
    assert len(v.explain()) >= 3
    if record.scenario.sector.startswith("bank"):
        assert set(v.table.method) == {"dcf_horizon", "dcf_terminal", "pe"}
    else:
        assert {"ev_ebitda", "ev_ebit", "pe"} <= set(v.table.method)
    assert all(v.table.basis.str.len() > 10)


def test_personas_teach_build_buy_and_hybrid() -> None:
    got = {n: tco.compare(scenarios.load(n)).recommendation for n in PERSONAS}
    assert got == {"bank_support": "build", "hospital_notes": "buy",
                   "retail_search": "hybrid"}
