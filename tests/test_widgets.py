"""Headless tests of the lesson panels: set a control's value, check result and figure.

No kernel and no browser: ipywidgets fires ``observe`` handlers synchronously
when ``.value`` is set, so a panel recomputes and redraws inside the test.
Expected numbers are recomputed here from the library (or by hand) and
compared with what the panel shows.
"""

from __future__ import annotations

import base64
import importlib.util

import ipywidgets as w
import numpy as np
import pytest

from buildbuy.widgets._panel import Chart, Panel, figure_png, new_figure


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _png(panel: Panel) -> bytes:
    return figure_png(panel.figure)


def _toy() -> Panel:
    def draw(fig, v, r):
        fig.axes[0].plot([0, 1], [0, r["y"]])

    return Panel("toy", {"x": w.IntSlider(value=2, min=0, max=10)},
                 compute=lambda v: _toy_compute(v["x"]), draw=draw,
                 describe=lambda r: f"y = {r['y']}")


def _toy_compute(x: int) -> dict[str, int]:
    if x == 7:
        raise ValueError("x=7 is invalid: must be anything but 7")
    return {"y": 3 * x}


# --------------------------------------------------------------------------- the panel base


def test_panel_recomputes_and_redraws_when_a_value_is_set() -> None:
    p = _toy()
    assert p.result == {"y": 6} and p.text == "y = 6"
    before = _png(p)
    p.controls["x"].value = 5
    assert p.result == {"y": 15} and p.text == "y = 15"
    assert _png(p) != before
    assert p.n_updates == 2


def test_panel_shows_library_error_and_recovers() -> None:
    p = _toy()
    p.controls["x"].value = 7
    assert p.result is None
    assert p.error == "x=7 is invalid: must be anything but 7"
    assert p.text.startswith("Not computed: x=7 is invalid")
    p.controls["x"].value = 4
    assert p.error is None and p.result == {"y": 12}


def test_mimebundle_holds_widget_view_and_static_fallback() -> None:
    p = _toy()
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG") and png == p._image.value
    assert bundle["text/plain"] == "toy\ny = 6"


def test_png_is_deterministic_and_unstamped() -> None:
    a, b = figure_png(_toy().figure), figure_png(_toy().figure)
    assert a == b
    assert b"matplotlib version" not in a and b"Software" not in a


def test_chart_bundle_is_static_only() -> None:
    chart = Chart(new_figure(), "caption")
    bundle = chart._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"} and bundle["text/plain"] == "caption"


def test_widgets_package_lists_only_real_entry_points() -> None:
    import buildbuy.widgets as bw

    with pytest.raises(AttributeError):
        bw.no_such_panel  # noqa: B018


# --------------------------------------------------------------------------- lesson panels

needs_tps = pytest.mark.skipif(not (_has("buildbuy.tps") and _has("buildbuy.costs")),
                               reason="buildbuy.tps / buildbuy.costs not written yet")
needs_tco = pytest.mark.skipif(not _has("buildbuy.tco"), reason="buildbuy.tco not written yet")


@pytest.fixture(scope="module")
def bank():
    from buildbuy import scenarios

    return scenarios.load("bank_support")


@needs_tps
def test_decode_panel_matches_tps_and_reacts_to_batch(bank) -> None:
    from buildbuy import tps
    from buildbuy.widgets import decode_panel

    p = decode_panel(bank, batch=1)
    assert p.error is None
    before_png, before = _png(p), p.result["tokens_per_s"]
    p.controls["batch"].value = 8
    est = tps.decode(bank.self_host_model, bank.gpu, batch=8, context=2048)
    assert p.result["tokens_per_s"] == pytest.approx(est.tokens_per_s)
    assert p.result["tokens_per_s_per_user"] == pytest.approx(est.tokens_per_s_per_user)
    assert p.result["tokens_per_s"] > before
    assert _png(p) != before_png
    assert f"{est.tokens_per_s:,.0f} tokens/s in total" in p.text


@needs_tps
def test_decode_panel_reports_a_batch_that_does_not_fit(bank) -> None:
    from buildbuy import tps
    from buildbuy.widgets import decode_panel

    p = decode_panel(bank, batch=1)
    p.controls["context"].value = 32768
    cap = tps.max_batch(bank.self_host_model, bank.gpu, context=32768)
    assert p.result is None or p.result["max_batch"] == cap
    p.controls["batch"].value = 512
    assert cap < 512
    assert p.result is None and "batch" in p.error


@needs_tco
def test_every_panel_starts_computed_for_every_persona() -> None:
    """A panel must never open in an error state (the browser tests check this too)."""
    from buildbuy import scenarios, widgets

    makers = (widgets.api_bill_panel, widgets.decode_panel, widgets.unit_cost_panel,
              widgets.tco_panel, widgets.board_panel, widgets.sla_panel)
    for name in scenarios.persona_names():
        s = scenarios.load(name)
        for make in makers:
            p = make(s)
            assert p.error is None and p.result is not None, (name, make.__name__, p.error)
            assert not p.text.startswith("Not computed")


@needs_tps
def test_unit_cost_panel_cost_scales_as_one_over_utilisation(bank) -> None:
    from buildbuy.widgets import unit_cost_panel

    p = unit_cost_panel(bank, utilisation=0.5)
    half = p.result["self_usd_per_1k_tokens"]
    p.controls["utilisation"].value = 0.25
    assert p.result["self_usd_per_1k_tokens"] == pytest.approx(2 * half, rel=1e-9)
    r = p.result
    even = r["break_even_utilisation"]
    if even is not None:
        assert r["self_full_load_usd_per_1k_tokens"] / even == pytest.approx(
            r["api_usd_per_1k_tokens"])


@needs_tps
def test_api_bill_panel_is_linear_in_volume(bank) -> None:
    from buildbuy import costs
    from buildbuy.widgets import api_bill_panel

    p = api_bill_panel(bank)
    p.controls["monthly_tokens"].value = 1e9
    one = p.result["monthly_usd"]
    p.controls["monthly_tokens"].value = 1e10
    assert p.result["monthly_usd"] == pytest.approx(10 * one, rel=1e-6)
    expected = costs.monthly_api_cost_usd(bank.api_model, monthly_tokens=1e10,
                                          output_token_share=bank.output_token_share)
    assert p.result["monthly_usd"] == pytest.approx(expected)


@needs_tps
def test_batching_chart_and_roofline_render() -> None:
    from buildbuy.widgets import batching_chart, roofline_chart

    for chart in (roofline_chart(), batching_chart("retail_search")):
        assert figure_png(chart.figure).startswith(b"\x89PNG") and chart.text


@needs_tco
def test_tco_panel_volume_moves_a_and_b(bank) -> None:
    from buildbuy import tco
    from buildbuy.widgets import tco_panel

    p = tco_panel(bank)
    before_png, before = _png(p), dict(p.result["tco_usd"])
    p.controls["monthly_tokens"].value = 1e11  # the slider's top: above every persona
    expected = tco.compare(bank.replace(monthly_tokens=p.controls["monthly_tokens"].value))
    assert p.result["tco_usd"]["A"] == pytest.approx(expected.tco_usd["A"])
    assert p.result["tco_usd"]["B"] == pytest.approx(expected.tco_usd["B"])
    assert p.result["npv_usd"]["A"] == pytest.approx(expected.npv_cost_usd["A"])
    assert p.result["npv_usd"]["B"] == pytest.approx(expected.npv_cost_usd["B"])
    assert p.result["crossover_month"] == (
        None if expected.crossover_month is None else pytest.approx(expected.crossover_month))
    assert p.result["tco_usd"]["A"] > before["A"]
    assert _png(p) != before_png
    p.controls["hosting"].value = "cloud_on_demand"
    p.controls["annual_growth"].value = 0.0
    expected = tco.compare(bank.replace(monthly_tokens=1e11, hosting="cloud_on_demand",
                                        annual_growth=0.0))
    assert p.result["tco_usd"]["B"] == pytest.approx(expected.tco_usd["B"])
    assert np.allclose(p.result["cumulative"]["B"], expected.cumulative["B"])


@needs_tco
@pytest.mark.parametrize("persona", ["bank_support", "retail_search"])
def test_board_panel_shows_the_records_valuation_and_moves_with_the_rates(persona) -> None:
    from buildbuy import scenarios
    from buildbuy.decision import decide
    from buildbuy.widgets import board_panel

    S = scenarios.load(persona)
    p = board_panel(S)
    table = decide(S).valuation.table
    assert p.result["values_usd"] == pytest.approx(dict(zip(table.method, table.value_usd,
                                                            strict=True)))
    before, before_png = dict(p.result["values_usd"]), _png(p)
    p.controls["terminal_growth"].value = 0.0
    assert p.result["values_usd"]["dcf_horizon"] == pytest.approx(before["dcf_horizon"])
    assert p.result["values_usd"]["dcf_terminal"] < before["dcf_terminal"]
    assert _png(p) != before_png
    p.controls["discount_rate"].value = 0.15
    from buildbuy import tco, valuation

    moved = valuation.value_path(tco.compare(S.replace(terminal_growth=0.0, discount_rate=0.15)),
                                 p.result["path"], "0")  # the panel keeps the record's path
    assert p.result["values_usd"]["dcf_terminal"] == pytest.approx(moved.dcf_terminal_usd)
    assert p.result["values_usd"]["dcf_horizon"] == pytest.approx(moved.dcf_horizon_usd)


@needs_tco
def test_sla_panel_credit_follows_the_schedule(bank) -> None:
    from buildbuy import costs, sla
    from buildbuy.widgets import sla_panel

    p = sla_panel(bank)
    bill = costs.monthly_api_cost_usd(bank.api_model, monthly_tokens=bank.monthly_tokens,
                                      output_token_share=bank.output_token_share)
    bill *= 1 - bank.api_discount          # the bank's negotiated discount
    api = p.result["table"].iloc[0]
    expected = sla.evaluate(sla.beta_availability(0.999, 0.002),
                            usd_per_downtime_hour=bank.downtime_usd_per_hour,
                            schedule=sla.AWS_BEDROCK, monthly_bill_usd=bill)
    assert api["credit_usd"] == pytest.approx(expected.credit_usd)
    assert api["downtime_cost_usd"] == pytest.approx(expected.downtime_cost_usd)
    p.controls["schedule"].value = sla.VERTEX_GEMINI.name
    assert p.result["table"].iloc[0]["credit_usd"] != pytest.approx(expected.credit_usd)


@needs_tco
def test_scenario_memo_passes_its_own_check_for_every_persona() -> None:
    from buildbuy import memo, scenarios
    from buildbuy.widgets import scenario_memo

    for name in scenarios.persona_names():
        m = scenario_memo(name)
        assert m.strategy in ("build", "buy", "hybrid", "neither")
        assert [h for h, _ in m.sections] == list(memo.REQUIRED_SECTIONS)


# --------------------------------------------------------------------------- lesson tables


@needs_tps
def test_decode_and_kv_tables_match_tps_and_hand_values() -> None:
    from buildbuy import tps
    from buildbuy.widgets import decode_table, kv_table

    t = decode_table("retail_search", context=2048).frame
    est = tps.decode("llama-3.1-8b", "H100-SXM", batch=8, context=2048)
    assert t.loc[8, "tokens_per_s"] == round(est.tokens_per_s)
    kv = kv_table("retail_search").frame
    # Llama-3.1-8B: 2 (K, V) x 32 layers x 8 KV heads x 128 head dim x 2 bytes = 131,072
    assert (kv["kv_bytes_per_token"] == 131_072).all()
    assert kv.loc[8192, "kv_gb_per_sequence"] == round(131_072 * 8192 / 1e9, 3)
    assert kv.loc[2048, "max_batch"] == tps.max_batch("llama-3.1-8b", "H100-SXM", context=2048)


@needs_tps
def test_saturation_accuracy_puts_the_learners_family_first() -> None:
    from buildbuy.tps import accuracy
    from buildbuy.widgets import saturation_accuracy

    t = saturation_accuracy("retail_search").frame
    fa = accuracy.family_accuracy("H100-SXM")
    assert t.index[0] == "hopper" and t.index.name.startswith("H100-SXM is hopper: ")
    assert t.loc["hopper", "held_out_runs"] == fa.n_held_out
    assert t.loc["hopper", "median_error_pct"] == round(fa.median_error_pct, 1)
    assert t.loc["ampere", "planning_margin_pct"] == round(
        100 * accuracy.family_accuracy("A100-80GB").margin_share, 1)
    assert set(t.index) == set(accuracy.FAMILIES)


@needs_tps
def test_unit_cost_table_scales_with_utilisation_and_break_even(bank) -> None:
    from buildbuy.widgets import unit_cost_table

    t = unit_cost_table(bank).frame
    for _, row in t.iterrows():
        assert row["usd_per_1k_at_10%"] == pytest.approx(10 * row["usd_per_1k_at_100%"],
                                                         rel=0.05)
        assert row["break_even_utilisation"] == pytest.approx(
            row["usd_per_1k_at_100%"] / row["api_usd_per_1k"], rel=0.06)


@needs_tps
def test_psi_table_is_seeded_and_sees_the_drift() -> None:
    from buildbuy.widgets import psi_table

    a, b = psi_table(seed=3).frame, psi_table(seed=3).frame
    assert a.equals(b)
    assert not a.loc[2:4, "alarm (> threshold)"].all()
    assert a.loc[10:12, "major (> 0.25)"].all()


@needs_tco
def test_tco_tables_add_up_to_compare(bank) -> None:
    from buildbuy import tco
    from buildbuy.decision import decide
    from buildbuy.widgets import cost_by_category, headline

    c = tco.compare(bank)
    d = decide(bank)
    t = cost_by_category(bank).frame
    cash = t.index[:-2]
    assert t.loc["total (TCO, cash)", "A: API, $k"] == pytest.approx(c.tco_usd["A"] / 1e3,
                                                                     abs=0.5)
    assert t.loc[cash, "B: self-host, $k"].sum() == pytest.approx(c.tco_usd["B"] / 1e3, abs=2)
    h = headline(d).frame
    assert h[d.figures["npv_cost_b_usd"].label] == d.figures["npv_cost_b_usd"].text
    assert h["Recommendation"] == c.recommendation
    assert h[d.figures["gpus_year_1"].label] == str(int(c.fleet_by_year.gpus.iloc[0]))


@needs_tps
def test_static_batching_slot_use_follows_the_harmonic_rule() -> None:
    from buildbuy.widgets import static_batching_table

    t = static_batching_table("retail_search", seed=1).frame
    assert t.loc[1, "slot_use_static"] == 1.0
    assert t["slot_use_static"].is_monotonic_decreasing
    # E[longest of B exponential lengths] = mean x H_B; the simulated share sits near 1/H_B
    h = {b: sum(1 / k for k in range(1, b + 1)) for b in t.index}
    for b in t.index:
        assert t.loc[b, "1/H_B"] == round(1 / h[b], 3)
        assert t.loc[b, "slot_use_static"] == pytest.approx(1 / h[b], abs=0.05)
    assert (t["tokens_per_s_static"] <= t["tokens_per_s_continuous"]).all()


@needs_tco
def test_scenario_values_outside_the_usual_range_widen_the_sliders(bank) -> None:
    from buildbuy.widgets import board_panel, tco_panel

    big = bank.replace(monthly_tokens=5e11, annual_growth=4.0, discount_rate=0.3)
    p = tco_panel(big)
    assert p.controls["monthly_tokens"].value == pytest.approx(5e11)  # not clamped to 1e11
    assert p.controls["annual_growth"].value == 4.0
    assert board_panel(big).controls["discount_rate"].value == 0.3


@needs_tps
def test_panel_arguments_are_checked_not_snapped(bank) -> None:
    from buildbuy.widgets import decode_panel, unit_cost_panel

    with pytest.raises(ValueError, match=r"^batch=3 is invalid: must be one of 1, 2, 4"):
        decode_panel(bank, batch=3)
    with pytest.raises(ValueError, match=r"^context=3000 is invalid"):
        decode_panel(bank, context=3000)
    with pytest.raises(ValueError, match=r"^utilisation=1.5 is invalid"):
        unit_cost_panel(bank, utilisation=1.5)
    p = decode_panel(bank, batch=512)  # explicit and too large: shown as an error, kept
    assert p.controls["batch"].value == 512 and p.error is not None
