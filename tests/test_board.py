"""Tests for buildbuy.board on small hand-made cash-flow frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from buildbuy import board, finance

npf = pytest.importorskip("numpy_financial")


def _frame(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["month", "scenario", "category", "usd"]).assign(
        component=lambda d: d["category"] + "_item")


def _swap_case(horizon: int = 24, resale: float = 0.0) -> pd.DataFrame:
    """A pays $1,000/month of API fees; B buys a $12,000 server up front, pays $200/month
    of power and $100/month of staff, and is late by 2 months ($500/month forgone)."""
    rows = [(0, "B", "capex", 12_000.0)]
    for m in range(1, horizon + 1):
        rows += [(m, "A", "opex", 1_000.0), (m, "B", "opex", 200.0), (m, "B", "people", 100.0)]
    rows += [(1, "B", "opportunity", 500.0), (2, "B", "opportunity", 500.0)]
    if resale:
        rows.append((horizon, "B", "capex", -resale))
    return _frame(rows)


# ----------------------------------------------------------------------------- views


def test_annual_view_hand_computed() -> None:
    v = board.annual_view(_swap_case(), depreciation_life_months=48).set_index(
        ["scenario", "year"])
    # A: 12 x $1,000 of opex a year, no capex
    a1 = v.loc[("A", 1)]
    assert a1.ebitda_usd == -12_000 and a1.ebit_usd == -12_000 and a1.fcf_usd == -12_000
    # B year 1: opex 12 x 300 = 3,600; depreciation 12 x 12,000/48 = 3,000; capex 12,000
    b1 = v.loc[("B", 1)]
    assert b1.opex_usd == 3_600
    assert b1.ebitda_usd == -3_600
    assert b1.depreciation_usd == pytest.approx(3_000)
    assert b1.ebit_usd == pytest.approx(-6_600)
    assert b1.capex_usd == 12_000
    assert b1.fcf_usd == pytest.approx(-15_600)
    assert b1.forgone_ebitda_usd == -1_000  # shown, not in EBITDA
    assert b1.net_book_value_usd == pytest.approx(9_000)
    b2 = v.loc[("B", 2)]
    assert b2.fcf_usd == pytest.approx(-3_600) and b2.ebit_usd == pytest.approx(-6_600)
    assert b2.net_book_value_usd == pytest.approx(6_000)
    assert b2.forgone_ebitda_usd == 0


def test_month_zero_is_year_one_and_month_13_year_two() -> None:
    cf = _frame([(0, "A", "opex", 1.0), (12, "A", "opex", 2.0), (13, "A", "opex", 4.0)])
    v = board.annual_view(cf, depreciation_life_months=12)
    assert v["year"].tolist() == [1, 2]
    assert v["opex_usd"].tolist() == [3.0, 4.0]


def test_capex_hits_cash_not_ebitda() -> None:
    cf = _frame([(0, "B", "capex", 6_000.0), (6, "B", "capex", 6_000.0),
                 (12, "B", "opex", 0.0)])  # the horizon is the last month in the frame
    m = board.monthly_view(cf, depreciation_life_months=12)
    assert np.all(m["ebitda_usd"] == 0)
    assert m["fcf_usd"].sum() == -12_000
    # first server from month 1 (500/month); the second serves, and so depreciates, from
    # its purchase month 6 (as buildbuy.tco runs a top-up from the month it is bought)
    dep = m["depreciation_usd"].to_numpy()
    np.testing.assert_allclose(dep[1:6], 500.0)
    assert dep[0] == 0 and dep[6] == pytest.approx(1_000.0)


def test_resale_books_a_disposal_gain_and_empties_the_books() -> None:
    # $12,000 over 48 months: book value after 24 months = 6,000; sold for 3,600
    v = board.annual_view(_swap_case(resale=3_600.0), depreciation_life_months=48)
    b2 = v[(v.scenario == "B") & (v.year == 2)].iloc[0]
    assert b2.disposal_proceeds_usd == 3_600
    assert b2.disposal_gain_usd == pytest.approx(3_600 - 6_000)
    assert b2.net_book_value_usd == 0
    assert b2.ebitda_usd == -3_600  # the loss on disposal is below EBITDA
    assert b2.fcf_usd == pytest.approx(-3_600 + 3_600)


def test_a_sale_disposes_of_hardware_bought_the_same_month() -> None:
    cf = _frame([(0, "B", "capex", 1_200.0), (6, "B", "capex", 600.0),
                 (6, "B", "capex", -900.0)])
    m = board.monthly_view(cf, depreciation_life_months=12).set_index("month")
    # book value at month 6: 1,200 - 6 x 100 = 600 (old) + 600 - 50 (new, one month of
    # service) = 1,150; sold for 900
    assert m.loc[6, "disposal_gain_usd"] == pytest.approx(900 - 1_150)
    assert m.loc[6, "net_book_value_usd"] == 0


@pytest.mark.parametrize("life, salvage", [(12, 0.0), (48, 0.0), (60, 0.3), (240, 0.5)])
def test_total_ebit_over_a_horizon_ending_in_a_sale_does_not_depend_on_book_choices(
        life: int, salvage: float) -> None:
    cf = _swap_case(resale=3_600.0)
    v = board.annual_view(cf, depreciation_life_months=life, residual_value_share=salvage)
    b = v[v.scenario == "B"]
    # EBIT total = opex + (cost - proceeds), whatever the life or book salvage
    assert b["ebit_usd"].sum() == pytest.approx(-(24 * 300) - (12_000 - 3_600))
    assert b["fcf_usd"].sum() == pytest.approx(-(24 * 300) - 12_000 + 3_600)


def test_residual_value_share_sets_the_book_floor() -> None:
    cf = _frame([(0, "B", "capex", 1_000.0), (30, "B", "opex", 0.0)])
    m = board.monthly_view(cf, depreciation_life_months=10, residual_value_share=0.2)
    assert m["depreciation_usd"].sum() == pytest.approx(800)
    assert m["net_book_value_usd"].iloc[-1] == pytest.approx(200)


def test_opportunity_cost_optional_in_ebitda() -> None:
    cf = _swap_case()
    off = board.annual_view(cf, depreciation_life_months=48)
    on = board.annual_view(cf, depreciation_life_months=48, include_opportunity=True)
    b_off = off[(off.scenario == "B") & (off.year == 1)].iloc[0]
    b_on = on[(on.scenario == "B") & (on.year == 1)].iloc[0]
    assert b_on.ebitda_usd == b_off.ebitda_usd - 1_000
    assert b_on.fcf_usd == b_off.fcf_usd - 1_000
    assert b_on.forgone_ebitda_usd == b_off.forgone_ebitda_usd == -1_000


def test_tax_book_and_bonus() -> None:
    cf = _swap_case(resale=3_600.0)
    t = 0.25
    pre = board.annual_view(cf, depreciation_life_months=48)
    book = board.annual_view(cf, depreciation_life_months=48, tax_rate=t)
    bonus = board.annual_view(cf, depreciation_life_months=48, tax_rate=t,
                              tax_depreciation="bonus")
    # book: tax = t x EBIT; FCF = EBITDA - tax - capex + proceeds
    np.testing.assert_allclose(book["tax_usd"], t * pre["ebit_usd"])
    np.testing.assert_allclose(book["fcf_usd"], pre["fcf_usd"] - t * pre["ebit_usd"])
    # EBIT itself is pre-tax and unchanged
    np.testing.assert_allclose(book["ebit_usd"], pre["ebit_usd"])
    # bonus: B's year-1 deduction includes the whole $12,000 purchase
    b1 = bonus[(bonus.scenario == "B") & (bonus.year == 1)].iloc[0]
    assert b1.tax_usd == pytest.approx(t * (-3_600 - 12_000))
    # same total tax over a horizon that ends in a sale; bonus saves earlier
    b_book = book[book.scenario == "B"]
    b_bonus = bonus[bonus.scenario == "B"]
    assert b_bonus["tax_usd"].sum() == pytest.approx(b_book["tax_usd"].sum())
    assert b_bonus["tax_usd"].iloc[0] < b_book["tax_usd"].iloc[0]


def test_delta_is_alternative_minus_base() -> None:
    v = board.annual_view(_swap_case(), depreciation_life_months=48)
    d = board.delta(v)
    y1 = d[d.year == 1].iloc[0]
    assert y1.ebitda_usd == pytest.approx(-3_600 + 12_000)
    assert y1.capex_usd == 12_000
    d_rev = board.delta(v, base="B", alternative="A")
    np.testing.assert_allclose(d_rev["fcf_usd"], -d["fcf_usd"])


# ----------------------------------------------------------------------------- EV


def test_enterprise_value_three_ways_hand_computed() -> None:
    cf = _swap_case()
    ev = board.enterprise_value(cf, depreciation_life_months=48, ev_ebitda_multiple=10,
                                ev_ebit_multiple=15, wacc=0.12)
    # year 2 run rate: ΔEBITDA = 12,000 - 3,600; ΔEBIT subtracts 3,000 of depreciation
    assert ev.run_rate_year == 2
    assert ev.delta_ebitda_usd == pytest.approx(8_400)
    assert ev.delta_ebit_usd == pytest.approx(5_400)
    assert ev.ebitda_multiple_usd == pytest.approx(84_000)
    assert ev.ebit_multiple_usd == pytest.approx(81_000)
    # monthly ΔFCF: -12,000 at month 0; +700 a month; -500 in months 1-2 (opportunity)
    flows = np.r_[-12_000.0, np.full(24, 700.0)]
    flows[1:3] -= 500
    r_m = 1.12 ** (1 / 12) - 1
    assert ev.npv_fcf_usd == pytest.approx(npf.npv(r_m, flows), rel=1e-12)
    assert ev.delta_capex_usd == 12_000
    assert ev.misleading and "hardware" in ev.reasons[0]
    assert list(ev.table["method"]) == ["ΔEBITDA x EV/EBITDA", "ΔEBIT x EV/EBIT",
                                        "NPV of ΔFCF at WACC"]
    # excluding opportunity moves only the NPV (the run-rate year has none)
    ev2 = board.enterprise_value(cf, depreciation_life_months=48, ev_ebitda_multiple=10,
                                 ev_ebit_multiple=15, wacc=0.12, include_opportunity=False)
    assert ev2.ebitda_multiple_usd == ev.ebitda_multiple_usd
    assert ev2.npv_fcf_usd == pytest.approx(ev.npv_fcf_usd + 500 / (1 + r_m) + 500 / (1 + r_m)
                                            ** 2)


def test_enterprise_value_flags_a_negative_npv_behind_a_positive_multiple() -> None:
    # B saves $100/month of opex but spends $12,000 on hardware over 24 months
    rows = [(0, "B", "capex", 12_000.0)]
    rows += [(m, s, "opex", usd) for m in range(1, 25) for s, usd in (("A", 400.0),
                                                                      ("B", 300.0))]
    ev = board.enterprise_value(_frame(rows), depreciation_life_months=60)
    assert ev.ebitda_multiple_usd > 0 > ev.npv_fcf_usd
    assert ev.misleading and len(ev.reasons) == 2


def test_enterprise_value_not_flagged_without_a_capex_swap() -> None:
    # B rents cloud GPUs (opex) that cost less than the API: no capex, no flag
    rows = [(m, s, "opex", usd) for m in range(1, 37) for s, usd in (("A", 1_000.0),
                                                                     ("B", 600.0))]
    ev = board.enterprise_value(_frame(rows), depreciation_life_months=60, wacc=0.0)
    assert not ev.misleading and ev.reasons == ()
    assert ev.delta_ebitda_usd == pytest.approx(4_800)
    assert ev.delta_ebitda_usd == ev.delta_ebit_usd
    assert ev.npv_fcf_usd == pytest.approx(36 * 400)
    assert ev.ebitda_multiple_usd == pytest.approx(4_800 * board.DEFAULT_EV_EBITDA_MULTIPLE.value)


def test_higher_wacc_lowers_the_npv_of_savings() -> None:
    cf = _swap_case()
    values = [board.enterprise_value(cf, depreciation_life_months=48, wacc=w).npv_fcf_usd
              for w in (0.0, 0.05, 0.1, 0.2)]
    # savings come after the capex, so discounting harder lowers the value
    assert np.all(np.diff(values) < 0)
    assert values[0] == pytest.approx(-12_000 + 24 * 700 - 1_000)


def test_ev_ebit_leaves_out_the_one_off_disposal_loss() -> None:
    ev = board.enterprise_value(_swap_case(resale=3_600.0), depreciation_life_months=48,
                                ev_ebit_multiple=10)
    # year 2 carries a 2,400 loss on the sale; the multiple sees only EBITDA - depreciation
    assert ev.delta_ebit_usd == pytest.approx(8_400 - 3_000)
    assert ev.ebit_multiple_usd == pytest.approx(54_000)


def test_run_rate_year_choice() -> None:
    ev = board.enterprise_value(_swap_case(), depreciation_life_months=48, run_rate_year=1)
    assert ev.run_rate_year == 1
    # year 1 still carries the 2 late months ($1,000) as lost EBITDA in the EV view
    assert ev.delta_ebitda_usd == pytest.approx(8_400 - 1_000)


def test_defaults_carry_sources() -> None:
    for anchor in (board.DEFAULT_EV_EBITDA_MULTIPLE, board.DEFAULT_EV_EBIT_MULTIPLE,
                   board.DEFAULT_WACC):
        assert anchor.value > 0 and anchor.source and anchor.as_of[:2] == "20"


def test_finance_npv_is_the_one_used() -> None:
    # the NPV column must follow finance.npv's convention (month 0 undiscounted)
    cf = _frame([(0, "B", "capex", 100.0), (1, "A", "opex", 110.0)])
    ev = board.enterprise_value(cf, depreciation_life_months=12, wacc=0.21)
    r_m = finance.monthly_rate(0.21)
    assert ev.npv_fcf_usd == pytest.approx(-100 + 110 / (1 + r_m))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, start", [
    (lambda: board.annual_view("x", depreciation_life_months=12), "cashflows="),
    (lambda: board.annual_view(pd.DataFrame({"month": [1]}), depreciation_life_months=12),
     "cashflows="),
    (lambda: board.annual_view(_frame([(1, "A", "opx", 1.0)]), depreciation_life_months=12),
     "cashflows.category='opx'"),
    (lambda: board.annual_view(_frame([(-1, "A", "opex", 1.0)]), depreciation_life_months=12),
     "cashflows.month="),
    (lambda: board.annual_view(_frame([(1, "A", "opex", np.nan)]), depreciation_life_months=12),
     "cashflows.usd="),
    (lambda: board.annual_view(_swap_case(), depreciation_life_months=0),
     "depreciation_life_months=0"),
    (lambda: board.annual_view(_swap_case(), depreciation_life_months=48, tax_rate=1.5),
     "tax_rate=1.5"),
    (lambda: board.annual_view(_swap_case(), depreciation_life_months=48,
                               residual_value_share=-0.1), "residual_value_share=-0.1"),
    (lambda: board.annual_view(_swap_case(), depreciation_life_months=48,
                               tax_depreciation="macrs"), "tax_depreciation='macrs'"),
    (lambda: board.enterprise_value(_swap_case(), depreciation_life_months=48, wacc=-1.0),
     "wacc=-1.0"),
    (lambda: board.enterprise_value(_swap_case(), depreciation_life_months=48,
                                    ev_ebitda_multiple=0), "ev_ebitda_multiple=0"),
    (lambda: board.enterprise_value(_swap_case(), depreciation_life_months=48, base="C"),
     "base='C'"),
    (lambda: board.enterprise_value(_swap_case(), depreciation_life_months=48,
                                    run_rate_year=5), "run_rate_year=5"),
])
def test_bad_input_names_the_argument(call, start: str) -> None:
    with pytest.raises(ValueError, match="is invalid: must be") as info:
        call()
    assert str(info.value).startswith(start)


def test_unknown_category_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="did you mean 'opex'"):
        board.annual_view(_frame([(1, "A", "opx", 1.0)]), depreciation_life_months=12)


