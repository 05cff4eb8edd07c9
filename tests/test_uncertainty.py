"""Tests of buildbuy.uncertainty: tornado, grid, Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from buildbuy import scenarios, uncertainty
from buildbuy.scenarios import ROLES
from buildbuy.tco import compare
from buildbuy.uncertainty import Driver, grid, monte_carlo, pert_ppf, tornado, triangular_ppf


@pytest.fixture(scope="module")
def bank():
    return scenarios.load("bank_support")


def _npv_diff(S) -> float:
    """The cost view: pre-tax cash-cost NPV of B minus A."""
    C = compare(S)
    return C.npv_cost_usd["B"] - C.npv_cost_usd["A"]


def _npv_gap(S) -> float:
    """The decision: after-tax NPV of B minus A, value included (the record's figure)."""
    return compare(S).npv_gap_usd


def test_triangular_ppf_matches_scipy() -> None:
    u = np.linspace(0, 1, 101)
    for lo, mode, hi in ((0.0, 0.3, 1.0), (2.0, 2.0, 5.0), (-1.0, 4.0, 4.0)):
        ref = stats.triang.ppf(u, (mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        assert triangular_ppf(u, lo, mode, hi) == pytest.approx(ref, abs=1e-12)


def test_pert_ppf_matches_scipy_beta() -> None:
    u = np.linspace(0.001, 0.999, 99)
    lo, mode, hi = 250e3, 300e3, 400e3
    a = 1 + 4 * (mode - lo) / (hi - lo)
    b = 1 + 4 * (hi - mode) / (hi - lo)
    ref = stats.beta.ppf(u, a, b, loc=lo, scale=hi - lo)
    assert pert_ppf(u, lo, mode, hi) == pytest.approx(ref, rel=1e-10)


def test_default_drivers_at_least_eight_for_each_hosting(bank) -> None:
    for hosting in scenarios.HOSTING_MODES:
        drivers = uncertainty.default_drivers(bank.replace(hosting=hosting))
        assert len(drivers) >= 8
        assert all(d.source for d in drivers)


def test_tornado_rows_match_direct_recomputation(bank) -> None:
    t = tornado(bank)
    assert len(t) >= 8
    assert t.swing.is_monotonic_decreasing
    assert t.base_metric.iloc[0] == pytest.approx(_npv_gap(bank), rel=1e-9)
    row = t.set_index("driver").loc["server_usd"]
    assert row.metric_high == pytest.approx(_npv_gap(bank.replace(server_usd=400_000.0)),
                                            rel=1e-9)
    row = t.set_index("driver").loc["discount_rate"]
    assert row.metric_low == pytest.approx(_npv_gap(bank.replace(discount_rate=0.08)),
                                           rel=1e-9)
    row = t.set_index("driver").loc["months_to_production"]  # whole number: via replace
    assert (row.low, row.high) == (3, 9)
    assert row.metric_high == pytest.approx(_npv_gap(bank.replace(months_to_production=9)),
                                            rel=1e-9)
    row = t.set_index("driver").loc["staff_fte_b_scale"]
    fewer = {f"{r}_fte_b": getattr(bank, f"{r}_fte_b") * 0.5 for r in ROLES}
    assert row.metric_low == pytest.approx(_npv_gap(bank.replace(**fewer)), rel=1e-9)


def test_tornado_tco_metric_and_custom_driver(bank) -> None:
    t = tornado(bank, [Driver("monthly_tokens", 0.5, 2.0, True, "test")], metric="tco_diff")
    C = compare(bank.replace(monthly_tokens=bank.monthly_tokens * 2))
    assert t.metric_high.iloc[0] == pytest.approx(C.tco_usd["B"] - C.tco_usd["A"], rel=1e-9)


def test_tornado_chart_draws_two_bars_per_driver(bank) -> None:
    t = tornado(bank)
    fig = uncertainty.tornado_chart(t)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(t)
    assert len(ax.get_yticklabels()) == len(t)


def test_grid_cells_match_compare() -> None:
    S = scenarios.load("retail_search")
    g = grid(S, "monthly_tokens", [1e10, 8e10], "api_price_scale", [0.5, 1.0])
    assert g.shape == (2, 2)
    assert g.loc[1.0, 8e10] == pytest.approx(_npv_gap(S.replace(monthly_tokens=8e10)),
                                             rel=1e-9)
    # half the API price: the persona's discount applied to half the list price
    assert g.loc[0.5, 1e10] == pytest.approx(
        _npv_gap(S.replace(monthly_tokens=1e10, api_discount=1 - 0.5 * (1 - S.api_discount))),
        rel=1e-9)
    cost = grid(S, "monthly_tokens", [1e10], "api_price_scale", [1.0], metric="npv_diff")
    assert cost.iloc[0, 0] == pytest.approx(_npv_diff(S.replace(monthly_tokens=1e10)),
                                            rel=1e-9)


def test_grid_and_tornado_bad_input(bank) -> None:
    with pytest.raises(ValueError, match="metric="):
        tornado(bank, metric="irr")
    with pytest.raises(ValueError, match="driver='volume'"):
        grid(bank, "volume", [1.0], "pue", [1.2])
    with pytest.raises(ValueError, match="y="):
        grid(bank, "pue", [1.2], "pue", [1.3])


def test_monte_carlo_is_seeded_and_ordered(bank) -> None:
    m1 = monte_carlo(bank, n_draws=4_000, seed=7)
    m2 = monte_carlo(bank, n_draws=4_000, seed=7)
    m3 = monte_carlo(bank, n_draws=4_000, seed=8)
    assert m1.draws.equals(m2.draws)
    assert not m1.draws.equals(m3.draws)
    p = m1.percentiles_usd
    assert (p.loc["P10"] <= p.loc["P50"]).all() and (p.loc["P50"] <= p.loc["P90"]).all()
    assert m1.prob_self_host_cheaper == pytest.approx(float((m1.draws.tco_diff < 0).mean()))
    assert len(m1.draws) == 4_000


def test_monte_carlo_draw_equals_deterministic_recomputation(bank) -> None:
    mc = monte_carlo(bank, {"server_usd": (250e3, 300e3, 400e3), "pue": (1.1, 1.3, 1.56)},
                     n_draws=3, seed=3)
    row = mc.draws.iloc[1]
    T = bank.replace(server_usd=float(row.server_usd), pue=float(row.pue))
    assert row.npv_diff == pytest.approx(_npv_diff(T), rel=1e-9)
    assert row.npv_gap == pytest.approx(_npv_gap(T), rel=1e-9)
    assert row.npv_gap_hybrid == pytest.approx(compare(T).npv_gap_hybrid_usd, rel=1e-9)


def test_monte_carlo_varies_the_value_side_exactly(bank) -> None:
    mc = monte_carlo(bank, {"value_usd_per_request": (0.2, 0.48, 0.7),
                            "quality_b_vs_a": (0.8, 0.92, 1.0),
                            "tax_rate": (0.1, 0.2563, 0.3)}, n_draws=3, seed=5)
    row = mc.draws.iloc[2]
    T = bank.replace(value_usd_per_request=float(row.value_usd_per_request),
                     quality_b_vs_a=float(row.quality_b_vs_a), tax_rate=float(row.tax_rate))
    assert row.npv_gap == pytest.approx(_npv_gap(T), rel=1e-9)


def test_monte_carlo_narrow_inputs_give_the_base_case(bank) -> None:
    mc = monte_carlo(bank, {"pue": (1.3 - 1e-9, 1.3, 1.3 + 1e-9)}, n_draws=500)
    assert mc.percentiles_usd.loc["P50", "npv_diff"] == pytest.approx(_npv_diff(bank),
                                                                      rel=1e-6)
    assert mc.percentiles_usd.loc["P50", "npv_gap"] == pytest.approx(_npv_gap(bank), rel=1e-6)


def test_monte_carlo_marginals_and_correlation(bank) -> None:
    inputs = {"server_usd": (250e3, 300e3, 400e3), "annual_growth": (0.2, 0.4, 0.6)}
    mc = monte_carlo(bank, inputs, n_draws=20_000, seed=1,
                     correlation={("server_usd", "annual_growth"): 0.6})
    assert mc.draws.server_usd.mean() == pytest.approx((250e3 + 300e3 + 400e3) / 3, rel=0.01)
    rho_s = stats.spearmanr(mc.draws.server_usd, mc.draws.annual_growth)[0]
    assert rho_s == pytest.approx(6 / np.pi * np.arcsin(0.3), abs=0.02)
    pert = monte_carlo(bank, inputs, n_draws=20_000, seed=1, distribution="pert")
    assert pert.draws.server_usd.mean() == pytest.approx((250e3 + 4 * 300e3 + 400e3) / 6,
                                                         rel=0.01)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"inputs": {"pue": (1.5, 1.3, 1.6)}}, "low <= mode <= high"),
    ({"inputs": {"pue": (1.1, 1.3)}}, "three finite numbers"),
    ({"inputs": {"nope": (1, 2, 3)}}, "driver='nope'"),
    ({"n_draws": 0}, "n_draws=0"),
    ({"distribution": "normal"}, "distribution='normal'"),
    ({"inputs": {"pue": (1.1, 1.3, 1.5), "server_usd": (1, 2, 3)},
      "correlation": {("pue", "server_usd"): 1.5}}, "in \\(-1, 1\\)"),
    ({"inputs": {"pue": (1.1, 1.3, 1.5)}, "correlation": {("pue", "gpu"): 0.5}},
     "pairs of names"),
])
def test_monte_carlo_bad_input(bank, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        monte_carlo(bank, **kwargs)


def test_monte_carlo_rejects_non_positive_definite_correlation(bank) -> None:
    inputs = {"pue": (1.1, 1.3, 1.5), "server_usd": (2e5, 3e5, 4e5),
              "electricity_usd_per_kwh": (0.06, 0.08, 0.18)}
    corr = {("pue", "server_usd"): 0.9, ("pue", "electricity_usd_per_kwh"): 0.9,
            ("server_usd", "electricity_usd_per_kwh"): -0.9}
    with pytest.raises(ValueError, match="positive-definite"):
        monte_carlo(bank, inputs, correlation=corr, n_draws=10)
