"""Tests for buildbuy.board (tidy views computed by buildbuy.tax) on hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from buildbuy import board

npf = pytest.importorskip("numpy_financial")


def _frame(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["month", "scenario", "category", "usd"]).assign(
        component=lambda d: d["category"] + "_item")


def _swap_case(horizon: int = 24, resale: float = 0.0) -> pd.DataFrame:
    """A pays $1,000/month of API fees; B buys a $12,000 server up front, pays $200/month
    of power and $100/month of staff."""
    rows = [(0, "B", "capex", 12_000.0)]
    for m in range(1, horizon + 1):
        rows += [(m, "A", "opex", 1_000.0), (m, "B", "opex", 200.0), (m, "B", "people", 100.0)]
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
    assert b1.net_book_value_usd == pytest.approx(9_000)
    b2 = v.loc[("B", 2)]
    assert b2.fcf_usd == pytest.approx(-3_600) and b2.ebit_usd == pytest.approx(-6_600)
    assert b2.net_book_value_usd == pytest.approx(6_000)


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


@pytest.mark.parametrize("life", [12, 48, 60, 240])
def test_total_ebit_over_a_horizon_ending_in_a_sale_does_not_depend_on_book_life(
        life: int) -> None:
    cf = _swap_case(resale=3_600.0)
    v = board.annual_view(cf, depreciation_life_months=life)
    b = v[v.scenario == "B"]
    # EBIT total = opex + (cost - proceeds), whatever the life
    assert b["ebit_usd"].sum() == pytest.approx(-(24 * 300) - (12_000 - 3_600))
    assert b["fcf_usd"].sum() == pytest.approx(-(24 * 300) - 12_000 + 3_600)


def test_one_schedule_straight_line_to_zero() -> None:
    cf = _frame([(0, "B", "capex", 1_000.0), (30, "B", "opex", 0.0)])
    m = board.monthly_view(cf, depreciation_life_months=10)
    assert m["depreciation_usd"].sum() == pytest.approx(1_000)
    assert m["net_book_value_usd"].iloc[-1] == pytest.approx(0)
    assert (m["depreciation_usd"].iloc[1:11] == 100).all()


def test_disposal_months_write_off_the_book_value_even_at_zero_proceeds() -> None:
    cf = _swap_case()
    kept = board.annual_view(cf, depreciation_life_months=48)
    sold = board.annual_view(cf, depreciation_life_months=48, disposal_months=[24])
    b_kept = kept[(kept.scenario == "B") & (kept.year == 2)].iloc[0]
    b_sold = sold[(sold.scenario == "B") & (sold.year == 2)].iloc[0]
    assert b_kept.net_book_value_usd == pytest.approx(6_000)
    assert b_sold.net_book_value_usd == 0
    assert b_sold.disposal_gain_usd == pytest.approx(-6_000)


def test_value_lines_enter_ebitda() -> None:
    cf = _swap_case(horizon=12)
    value = {"A": np.r_[0.0, np.full(12, 2_000.0)], "B": np.r_[0.0, 0.0, np.full(11, 1_500.0)]}
    v = board.annual_view(cf, depreciation_life_months=48, value_usd=value)
    a1 = v[v.scenario == "A"].iloc[0]
    b1 = v[v.scenario == "B"].iloc[0]
    assert a1.value_usd == 24_000 and a1.ebitda_usd == 24_000 - 12_000
    assert b1.value_usd == 16_500 and b1.ebitda_usd == 16_500 - 3_600


def test_tax_is_the_rate_times_ebit() -> None:
    cf = _swap_case(resale=3_600.0)
    t = 0.25
    pre = board.annual_view(cf, depreciation_life_months=48)
    book = board.annual_view(cf, depreciation_life_months=48, tax_rate=t)
    # tax = t x EBIT; FCF = EBITDA - tax - capex + proceeds
    np.testing.assert_allclose(book["tax_usd"], t * pre["ebit_usd"])
    np.testing.assert_allclose(book["fcf_usd"], pre["fcf_usd"] - t * pre["ebit_usd"])
    # EBIT itself is pre-tax and unchanged
    np.testing.assert_allclose(book["ebit_usd"], pre["ebit_usd"])


def test_delta_is_alternative_minus_base() -> None:
    v = board.annual_view(_swap_case(), depreciation_life_months=48)
    d = board.delta(v)
    y1 = d[d.year == 1].iloc[0]
    assert y1.ebitda_usd == pytest.approx(-3_600 + 12_000)
    assert y1.capex_usd == 12_000
    d_rev = board.delta(v, base="B", alternative="A")
    np.testing.assert_allclose(d_rev["fcf_usd"], -d["fcf_usd"])


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
    (lambda: board.delta(board.annual_view(_swap_case(), depreciation_life_months=48),
                         base="C"), "base='C'"),
    (lambda: board.annual_view(_swap_case(), depreciation_life_months=48,
                               value_usd={"A": [1.0, 2.0]}), "value_usd['A']="),
])
def test_bad_input_names_the_argument(call, start: str) -> None:
    with pytest.raises(ValueError, match="is invalid: must be") as info:
        call()
    assert str(info.value).startswith(start)


def test_unknown_category_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="did you mean 'opex'"):
        board.annual_view(_frame([(1, "A", "opx", 1.0)]), depreciation_life_months=12)


