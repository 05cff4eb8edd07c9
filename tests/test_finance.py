"""Tests for buildbuy.finance: hand-computed cases, numpy-financial and scipy agreement,
invariants and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from buildbuy import finance as fin

npf = pytest.importorskip("numpy_financial")

DOC_FLOWS = [-100, 39, 59, 55, 20]


def _conventional_flows(rng: np.random.Generator, n: int) -> np.ndarray:
    """An outflow (or two) followed by positive savings: exactly one sign change."""
    capex = rng.uniform(50, 500)
    savings = rng.uniform(1, 60, size=n)
    flows = np.concatenate([[-capex], savings])
    if rng.random() < 0.5:
        flows[1] = -rng.uniform(1, 50)  # a second outflow keeps one sign change
    return flows


# ----------------------------------------------------------------------------- rates


def test_monthly_rate_hand_value_and_round_trip() -> None:
    # (1.09) ** (1/12) - 1 = 0.00720732... (compound convention, not 0.09 / 12 = 0.0075)
    assert fin.monthly_rate(0.09) == pytest.approx(1.09 ** (1 / 12) - 1, rel=1e-15)
    assert fin.monthly_rate(0.09) == pytest.approx(0.0072073233, abs=1e-10)
    assert (1 + fin.monthly_rate(0.09)) ** 12 - 1 == pytest.approx(0.09, abs=1e-14)
    assert fin.monthly_rate(0.0) == 0.0


def test_discount_factors_hand_values() -> None:
    np.testing.assert_allclose(fin.discount_factors(0.25, 3), [1.0, 0.8, 0.64])


# ----------------------------------------------------------------------------- NPV


def test_npv_hand_computed() -> None:
    # -100 + 60/1.2 + 72/1.44 = -100 + 50 + 50 = 0
    assert fin.npv(0.2, [-100, 60, 72]) == pytest.approx(0.0, abs=1e-12)
    assert fin.npv(0.0, [1, 2, 3]) == 6.0
    # Excel convention discounts every flow one more period.
    assert fin.npv(0.2, [120, 144], convention="excel") == pytest.approx(100 + 100)


def test_npv_doc_values_numpy_vs_excel() -> None:
    assert fin.npv(0.1, DOC_FLOWS) == pytest.approx(39.197, abs=5e-4)
    assert fin.npv(0.1, DOC_FLOWS, convention="excel") == pytest.approx(35.634, abs=5e-4)
    assert fin.npv(0.1, DOC_FLOWS, convention="excel") == pytest.approx(
        fin.npv(0.1, DOC_FLOWS) / 1.1, rel=1e-14)


def test_npv_agrees_with_numpy_financial() -> None:
    rng = np.random.default_rng(0)
    for _ in range(25):
        flows = _conventional_flows(rng, int(rng.integers(3, 40)))
        rate = float(rng.uniform(-0.5, 0.5))
        assert fin.npv(rate, flows) == pytest.approx(npf.npv(rate, flows), rel=1e-12, abs=1e-9)


def test_npv_vectorised_rows_and_rates() -> None:
    rng = np.random.default_rng(1)
    flows = rng.normal(size=(5, 13))
    rates = rng.uniform(0, 0.1, size=5)
    got = fin.npv(rates, flows)
    assert got.shape == (5,)
    for i in range(5):
        assert got[i] == pytest.approx(npf.npv(rates[i], flows[i]), rel=1e-12)
    got_scalar = fin.npv(0.05, flows)
    for i in range(5):
        assert got_scalar[i] == pytest.approx(npf.npv(0.05, flows[i]), rel=1e-12)


def test_cost_npv_never_rises_with_the_discount_rate() -> None:
    costs = np.random.default_rng(2).uniform(0, 1000, size=37)
    values = [fin.npv(r, costs) for r in np.linspace(-0.05, 0.3, 30)]
    assert np.all(np.diff(values) <= 0)


# ----------------------------------------------------------------------------- IRR


def test_irr_hand_computed() -> None:
    # -100 + 60/1.2 + 72/1.44 = 0 exactly at 20 %
    assert fin.irr([-100, 60, 72]) == pytest.approx(0.2, abs=1e-12)
    # -100 + 110 / (1 + r) = 0 at 10 %
    assert fin.irr([-100, 110]) == pytest.approx(0.1, abs=1e-12)
    # a loss: -100 + 50 = 0 at -50 %
    assert fin.irr([-100, 50]) == pytest.approx(-0.5, abs=1e-12)


def test_irr_agrees_with_numpy_financial_and_brentq_on_conventional_flows() -> None:
    rng = np.random.default_rng(3)
    for _ in range(25):
        flows = _conventional_flows(rng, int(rng.integers(2, 37)))
        got = fin.irr(flows)
        assert got == pytest.approx(npf.irr(flows), abs=1e-9)
        ref = optimize.brentq(lambda r, f=flows: npf.npv(r, f), -0.999, 100.0, xtol=1e-14)
        assert got == pytest.approx(ref, abs=1e-9)
        assert fin.npv(got, flows) == pytest.approx(0.0, abs=1e-7 * np.abs(flows).sum())


def test_irr_multiple_roots_selection_and_raise() -> None:
    flows = [-50, -100, 600, 300, -100]  # numpy-financial issue #28
    roots = fin.irr_roots(flows)
    assert roots.size == 2
    for r in roots:
        assert fin.npv(r, flows) == pytest.approx(0.0, abs=1e-9)
    assert roots[0] == pytest.approx(-0.7689, abs=1e-4)
    assert roots[1] == pytest.approx(1.8544, abs=1e-4)
    # default: smallest non-negative root (numpy-financial 1.1 rule), not 1.0's -0.769
    assert fin.irr(flows) == pytest.approx(roots[1], abs=1e-12)
    with pytest.raises(ValueError, match=r"cashflows=.*2 \(.*mirr"):
        fin.irr(flows, multiple_roots="raise")


def test_irr_no_sign_change_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"cashflows=.*change sign"):
        fin.irr([100, 200, 300])
    with pytest.raises(ValueError, match=r"cashflows=.*change sign"):
        fin.irr([-100, -5, 0])


def test_irr_unknown_option() -> None:
    with pytest.raises(ValueError, match="multiple_roots='first'"):
        fin.irr(DOC_FLOWS, multiple_roots="first")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- MIRR


def test_mirr_hand_computed() -> None:
    # PV(out) = 100; FV(in) = 60 * 1.1 + 72 = 138 over 2 periods -> sqrt(1.38) - 1
    assert fin.mirr([-100, 60, 72], 0.05, 0.10) == pytest.approx(1.38 ** 0.5 - 1, rel=1e-14)
    # with two outflows: PV(out) = 100 + 20/1.05
    got = fin.mirr([-100, -20, 150], 0.05, 0.10)
    assert got == pytest.approx((150 / (100 + 20 / 1.05)) ** 0.5 - 1, rel=1e-14)


def test_mirr_agrees_with_numpy_financial() -> None:
    rng = np.random.default_rng(4)
    for _ in range(25):
        flows = _conventional_flows(rng, int(rng.integers(2, 37)))
        f, r = rng.uniform(0, 0.2, size=2)
        assert fin.mirr(flows, f, r) == pytest.approx(npf.mirr(flows, f, r), rel=1e-10)
    flows = [-4500, -800, 800, 800, 600, 600, 800, 800, 700, 3000]
    assert fin.mirr(flows, 0.08, 0.055) == pytest.approx(npf.mirr(flows, 0.08, 0.055), rel=1e-12)


def test_mirr_needs_both_signs() -> None:
    with pytest.raises(ValueError, match=r"cashflows=.*outflow"):
        fin.mirr([1, 2, 3], 0.1, 0.1)


# ----------------------------------------------------------------------------- payback


def test_simple_payback_hand_computed() -> None:
    # cumulative -100, -70, -40, -10, +20: 3 + 10/30
    assert fin.payback_period([-100, 30, 30, 30, 30]) == pytest.approx(10 / 3)
    assert fin.payback_period([-100, 50, 50]) == pytest.approx(2.0)
    assert fin.payback_period([-100, 100]) == pytest.approx(1.0)
    assert fin.payback_period([-100, 30, 30]) is None
    assert fin.payback_period([5, 1, 1]) == 0.0


def test_discounted_payback_hand_computed() -> None:
    # at 10 %: -100, +55/1.1 = 50, +60.5/1.21 = 50 -> exactly 2 periods
    assert fin.payback_period([-100, 55, 60.5], rate=0.1) == pytest.approx(2.0)
    # -100, 44/1.1 = 40, 72.6/1.21 = 60, 133.1/1.331 = 100: cum -100, -60, 0 -> 2.0
    assert fin.payback_period([-100, 44, 72.6, 133.1], rate=0.1) == pytest.approx(2.0)
    # pays back undiscounted, not discounted
    assert fin.payback_period([-100, 50, 50], rate=0.1) is None


def test_discounted_payback_is_never_earlier_than_simple() -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        flows = _conventional_flows(rng, 36)
        simple = fin.payback_period(flows)
        disc = fin.payback_period(flows, rate=0.01)
        if disc is not None:
            assert simple is not None and simple <= disc + 1e-12


def test_payback_waits_for_the_last_recovery() -> None:
    # cumulative -100, 0 (paid back), -50 (refresh), +0 ... pays back for good at period 3
    assert fin.payback_period([-100, 100, -50, 50]) == pytest.approx(3.0)
    # cumulative -10, +10, -20, +5: last negative is k=2, flow[3]=25 -> 2 + 20/25
    assert fin.payback_period([-10, 20, -30, 25]) == pytest.approx(2.8)


# ----------------------------------------------------------------------------- capital


def test_straight_line_depreciation_and_book_value() -> None:
    d = fin.straight_line_depreciation(300_000, 60, salvage_usd=60_000, horizon_periods=36)
    assert d.shape == (36,)
    np.testing.assert_allclose(d, 4_000.0)
    assert fin.net_book_value(300_000, 60, 36, salvage_usd=60_000) == pytest.approx(156_000)
    assert 300_000 - d.sum() == pytest.approx(fin.net_book_value(300_000, 60, 36,
                                                                 salvage_usd=60_000))
    # horizon longer than the life: charge stops, book value stays at salvage
    d = fin.straight_line_depreciation(1_200, 12, salvage_usd=0, horizon_periods=18)
    assert d[:12].sum() == pytest.approx(1_200) and np.all(d[12:] == 0)
    assert fin.net_book_value(1_200, 12, 18, salvage_usd=100) == pytest.approx(100)
    assert fin.straight_line_depreciation(1_200, 12).shape == (12,)


def test_capital_recovery_factor() -> None:
    # 0.09 * 1.09**3 / (1.09**3 - 1) = 0.129502 / 0.295029 = 0.395055
    assert fin.capital_recovery_factor(0.09, 3) == pytest.approx(0.3950548, abs=1e-7)
    assert fin.capital_recovery_factor(0.0, 4) == 0.25
    for r, n in [(0.09, 3), (0.01, 36), (0.2, 5)]:
        assert fin.capital_recovery_factor(r, n) == pytest.approx(-npf.pmt(r, n, 1), rel=1e-12)
        # the level charge repays exactly 1 in present value
        pv = fin.npv(r, [0.0] + [fin.capital_recovery_factor(r, n)] * n)
        assert pv == pytest.approx(1.0, rel=1e-12)
    # continuous in the rate near zero
    assert fin.capital_recovery_factor(1e-9, 4) == pytest.approx(0.25, rel=1e-6)


def test_annualised_capital_charge() -> None:
    # by hand: $300k x CRF(9 %, 3 years) = $300k x 0.39505 = ~$118.5k a year
    assert fin.annualised_capital_charge(300_000, 0.09, 3) == pytest.approx(118_516.4, abs=0.1)
    # with salvage: (P - S) * CRF + S * r
    got = fin.annualised_capital_charge(300_000, 0.09, 3, salvage_usd=90_000)
    crf = fin.capital_recovery_factor(0.09, 3)
    assert got == pytest.approx(210_000 * crf + 90_000 * 0.09, rel=1e-12)
    # zero rate: straight line
    assert fin.annualised_capital_charge(300_000, 0.0, 3, salvage_usd=60_000) == 80_000


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, name", [
    (lambda: fin.npv(-1.0, DOC_FLOWS), "rate=-1.0"),
    (lambda: fin.npv(-1.5, DOC_FLOWS), "rate=-1.5"),
    (lambda: fin.npv(np.array([0.1, -1.2]), [DOC_FLOWS, DOC_FLOWS]), "rate="),
    (lambda: fin.npv(float("nan"), DOC_FLOWS), "rate=nan"),
    (lambda: fin.npv(0.1, [1, float("inf")]), "cashflows="),
    (lambda: fin.npv(0.1, []), "cashflows="),
    (lambda: fin.npv(0.1, DOC_FLOWS, convention="Excel"), "convention='Excel'"),
    (lambda: fin.npv(np.array([0.1, 0.2, 0.3]), np.ones((2, 4))), "rate="),
    (lambda: fin.monthly_rate(-1.0), "annual_rate=-1.0"),
    (lambda: fin.irr([-1.0]), "cashflows="),
    (lambda: fin.mirr(DOC_FLOWS, -1.0, 0.1), "finance_rate=-1.0"),
    (lambda: fin.mirr(DOC_FLOWS, 0.1, -2), "reinvest_rate=-2"),
    (lambda: fin.payback_period(DOC_FLOWS, rate=-1), "rate=-1"),
    (lambda: fin.payback_period("abc"), "cashflows="),
    (lambda: fin.straight_line_depreciation(-5, 12), "cost_usd=-5"),
    (lambda: fin.straight_line_depreciation(100, 0), "life_periods=0"),
    (lambda: fin.straight_line_depreciation(100, 12.5), "life_periods=12.5"),
    (lambda: fin.straight_line_depreciation(100, 12, salvage_usd=200), "salvage_usd=200"),
    (lambda: fin.straight_line_depreciation(100, 12, horizon_periods=0), "horizon_periods=0"),
    (lambda: fin.net_book_value(100, 12, -1), "elapsed_periods=-1"),
    (lambda: fin.capital_recovery_factor(-1.0, 3), "rate=-1.0"),
    (lambda: fin.capital_recovery_factor(0.1, 0), "n=0"),
    (lambda: fin.annualised_capital_charge(-1, 0.1, 3), "capex_usd=-1"),
    (lambda: fin.discount_factors(0.1, 0), "n_periods=0"),
])
def test_bad_input_names_the_argument(call, name: str) -> None:
    with pytest.raises(ValueError, match=r"is invalid: must be") as info:
        call()
    assert str(info.value).startswith(name)


def test_monthly_rate_convention_error_stated_in_the_docstring() -> None:
    # the module docstring says r/12 differs by 0.029 points a month at 9 % and values a
    # level 36-month stream 0.5 % lower than the compound convention
    r = 0.09
    assert r / 12 - fin.monthly_rate(r) == pytest.approx(0.000293, abs=1e-6)
    stream = np.r_[0.0, np.ones(36)]
    compound, nominal = fin.npv(fin.monthly_rate(r), stream), fin.npv(r / 12, stream)
    assert (compound - nominal) / compound == pytest.approx(0.005, abs=0.0005)
