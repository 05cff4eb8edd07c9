"""Tests of buildbuy.tco (cash costs, the fleet) and buildbuy.tco_compare (cost view, verdict)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy_financial as npf
import pytest

from buildbuy import finance, scenarios, tco, tps
from buildbuy.scenarios import ROLES
from buildbuy.tco import compare

PERSONAS = ("bank_support", "hospital_notes", "retail_search")

NO_DRIFT = dict(drift_events_per_year=0.0, retrain_policy="never", monitoring_usd_per_month=0.0,
                api_migration_engineer_days=0.0, api_silent_changes_per_year=0.0)


def _simple(**changes: object) -> object:
    """A small scenario whose costs are easy to compute by hand."""
    base = dict(
        horizon_months=24, monthly_tokens=1e9, output_token_share=0.25, cached_input_share=0.0,
        annual_growth=0.0, api_model="claude-sonnet-4-5", api_price_decline=0.0,
        api_discount=0.0, api_integration_usd=10_000.0, months_to_production_a=0,
        self_host_model="llama-3.1-8b", gpu="H100-SXM", hosting="cloud_on_demand",
        gpu_usd_per_hour=2.0, licence_usd_per_gpu_year=1_200.0, fine_tuning_usd=5_000.0,
        months_to_production=3, tokens_per_request=1000,
        peak_to_average=2.0, max_ms_per_output_token=30.0, discount_rate=0.10,
        ml_engineer_usd_per_year=120_000.0, target_utilisation=1.0, redundancy="none",
        on_call_coverage="none", **NO_DRIFT)
    for role in ROLES:
        base[f"{role}_fte_a"] = 0.0
        base[f"{role}_fte_b"] = 0.0
    base["ml_engineer_fte_a"] = 1.0
    base["ml_engineer_fte_b"] = 2.0
    base.update(changes)
    return scenarios.from_dict(base)


def _totals(cf, scen: str, exclude: tuple[str, ...] = ("drift",)) -> np.ndarray:
    rows = cf[(cf.scenario == scen) & ~cf.category.isin(exclude)]
    return rows.groupby("month")["usd"].sum().to_numpy()


def test_tidy_frame_shape_and_categories() -> None:
    S = scenarios.load("hospital_notes")
    cf = tco.cashflows(S)
    assert list(cf.columns) == ["month", "scenario", "component", "category", "usd"]
    assert set(cf.category) <= set(tco.CATEGORIES)
    assert set(cf.scenario) == {"A", "B"}
    assert (cf.groupby(["scenario", "component"]).size() == S.horizon_months + 1).all()
    assert np.isfinite(cf.usd).all()


def test_hand_computed_cloud_case() -> None:
    S = _simple()
    cf = tco.cashflows(S)
    # A: 1e9 tokens x (0.75 x $3 + 0.25 x $15)/1M = $6,000 a month, 24 months; $10k
    # integration in month 1; one ML engineer at $120k/yr = $10k a month.
    assert _totals(cf, "A").sum() == pytest.approx(24 * 6_000 + 10_000 + 24 * 10_000)
    # B: peak = 1e9 x 2 / 2,628,000 s = 761 tokens/s; one H100 carries it.
    peak = 1e9 * 2.0 / (730 * 3600)
    n = tps.size_fleet("llama-3.1-8b", "H100-SXM", peak_tokens_per_s=peak, prompt_tokens=750,
                       output_tokens=250).n_gpus
    assert n == 1
    # live months 4..24 = 21: rent 730 h x $2, licence $100/month; fine-tune $5k;
    # two ML engineers $20k/month x 24. The three months of delay are not a cash cost.
    # Technical debt: 20% a year of the build cost (fine-tune $5k + 3 months x $20k = $65k)
    # from go-live: $1,083.33 a month for 21 months.
    expected_b = 21 * (730 * 2.0 + 100.0) * n + 5_000 + 24 * 20_000 + 21 * 0.2 * 65_000 / 12
    assert _totals(cf, "B").sum() == pytest.approx(expected_b)
    b = cf[cf.scenario == "B"].set_index(["component", "month"])["usd"]
    assert b[("gpu_rental", 3)] == 0.0 and b[("gpu_rental", 4)] == pytest.approx(1460.0)
    assert "opportunity" not in set(cf.category)


def test_api_price_decline_and_growth_compound_monthly() -> None:
    S = _simple(api_price_decline=0.5, annual_growth=1.0, api_discount=0.1)
    cf = tco.cashflows(S)
    fees = cf[(cf.component == "api_fees")].set_index("month")["usd"]
    for m in (1, 7, 13, 24):
        hand = 1e9 * 2.0 ** ((m - 1) / 12) * 6e-6 * 0.9 * 0.5 ** ((m - 1) / 12)
        assert fees[m] == pytest.approx(hand)
    assert fees[0] == 0.0


def test_cached_input_share_uses_the_cached_price() -> None:
    # Sonnet 4.5: input $3, cached $0.30, output $15 per M; 50% of input cached.
    S = _simple(cached_input_share=0.5)
    fees = tco.cashflows(S).query("component == 'api_fees' and month == 1")["usd"].iloc[0]
    per_m = 0.75 * (0.5 * 3.0 + 0.5 * 0.30) + 0.25 * 15.0
    assert fees == pytest.approx(1e9 / 1e6 * per_m)


def test_hand_computed_owned_case_with_top_up() -> None:
    S = _simple(hosting="owned", gpu_usd_per_hour=None, gpus_per_server=2,
                monthly_tokens=2e10, annual_growth=1.0, peak_to_average=3.0,
                server_usd=100_000.0, networking_uplift=0.1, resale_decline_per_year=0.2,
                server_power_kw=2.0, power_draw_share=0.5, pue=1.5,
                electricity_usd_per_kwh=0.1, colo_retail_usd_per_kw_month=150.0,
                maintenance_share_per_year=0.12, months_to_production=2,
                gpu_lead_time_months=2)  # servers arrive within the build
    cf = tco.cashflows(S)
    comp = cf[cf.scenario == "B"].pivot_table(index="month", columns="component", values="usd")
    servers = []
    for year in (1, 2):
        peak = 2e10 * 2.0 ** ((12 * year - 1) / 12) * 3.0 / (730 * 3600)
        n = tps.size_fleet("llama-3.1-8b", "H100-SXM", peak_tokens_per_s=peak,
                           prompt_tokens=750, output_tokens=250).n_gpus
        servers.append(math.ceil(n / 2))
    assert servers[1] > servers[0]
    assert comp.loc[0, "gpu_servers"] == pytest.approx(servers[0] * 100_000)
    assert comp.loc[13, "gpu_servers"] == pytest.approx((servers[1] - servers[0]) * 100_000)
    assert comp["gpu_servers"].drop([0, 13]).abs().sum() == 0
    assert comp.loc[0, "networking"] == pytest.approx(servers[0] * 10_000)
    # resale at the used-market value of each purchase's age: 24 and 12 months, -20%/yr
    value = servers[0] * 110_000 * 0.8 ** 2 + (servers[1] - servers[0]) * 110_000 * 0.8
    assert comp.loc[24, "resale"] == pytest.approx(-value)
    # month 3 (first live month, year 1) and month 20 (year 2)
    for m, k in ((3, servers[0]), (20, servers[1])):
        assert comp.loc[m, "power"] == pytest.approx(k * 2.0 * 0.5 * 1.5 * 730 * 0.1)
        assert comp.loc[m, "colocation"] == pytest.approx(k * 2.0 * 150.0)
        assert comp.loc[m, "licences"] == pytest.approx(k * 2 * 100.0)
    assert comp.loc[3, "maintenance"] == pytest.approx(servers[0] * 110_000 * 0.01)
    assert comp.loc[2, "power"] == 0.0  # not live yet


@pytest.mark.parametrize("name", PERSONAS)
def test_vectorised_sizing_matches_size_fleet(name: str) -> None:
    S = scenarios.load(name)
    size = tco.sizing(S)
    prompt, output = tco._split(S)
    for peak in (50.0, 3e3, 4e4, 2.5e5, 1.3e6):
        ref = tps.size_fleet(S.self_host_model, S.gpu, peak_tokens_per_s=peak,
                             prompt_tokens=prompt, output_tokens=output,
                             max_ms_per_output_token=S.max_ms_per_output_token).n_gpus
        assert int(size.n_gpus(peak)) == ref, peak


def test_monthly_totals_broadcast_equals_one_by_one() -> None:
    S = scenarios.load("bank_support")
    varied = {"server_usd": np.array([250e3, 400e3]), "monthly_tokens": np.array([1e10, 5e10]),
              "pue": np.array([1.1, 1.5]), "ml_engineer_fte_b": np.array([1.0, 3.0])}
    a, b = tco.monthly_totals(S, varied)
    for i in range(2):
        T = S.replace(**{k: float(v[i]) for k, v in varied.items()})
        cf = tco.cashflows(T)
        assert a[i] == pytest.approx(_totals(cf, "A", ()), rel=1e-12)
        assert b[i] == pytest.approx(_totals(cf, "B", ()), rel=1e-12)


def test_monthly_totals_rejects_bad_varied_fields() -> None:
    S = scenarios.load("bank_support")
    with pytest.raises(ValueError, match="varied='no_such'"):
        tco.monthly_totals(S, {"no_such": [1.0]})
    with pytest.raises(ValueError, match="varied='horizon_months'"):
        tco.monthly_totals(S, {"horizon_months": [12]})
    with pytest.raises(ValueError, match="varied='output_token_share'"):
        tco.monthly_totals(S, {"output_token_share": [0.3]})


def test_drift_lines_are_those_of_the_drift_module() -> None:
    from buildbuy import drift
    S = scenarios.load("hospital_notes")
    cf = tco.cashflows(S)
    ref = drift.cost_lines(S)
    for scen in ("A", "B"):
        got = cf[(cf.scenario == scen) & (cf.category == "drift")]["usd"].sum()
        assert got == pytest.approx(ref[ref.scenario == scen]["usd"].sum())


# --------------------------------------------------------------------------- compare

def test_compare_hand_case_npv_tco_crossover() -> None:
    S = _simple()
    C = compare(S)
    a = C.monthly["A"].to_numpy()
    b = C.monthly["B"].to_numpy()
    r = (1.10) ** (1 / 12) - 1
    assert C.tco_usd["A"] == pytest.approx(a.sum())
    assert C.npv_cost_usd["A"] == pytest.approx(npf.npv(r, a))  # reference library
    assert C.npv_cost_usd["B"] == pytest.approx(npf.npv(r, b))
    assert C.npv_cost_usd["A"] == pytest.approx(sum(x / (1 + r) ** m for m, x in enumerate(a)))
    assert C.cumulative["B"].iloc[-1] == pytest.approx(C.tco_usd["B"])
    assert C.crossover_month == finance.payback_period(a - b)
    assert C.discounted_crossover_month == finance.paybacks(a - b, r)[1]
    # payback is the same question of the after-tax FCF gap, value included
    gap = C.paths["B"].fcf - C.paths["A"].fcf
    assert C.payback_months["simple"] == finance.payback_period(gap)
    # A in a steady month: ($6,000 fees + $10,000 staff) / 1e9 tokens x 1,000 (no drift)
    assert C.usd_per_1k_tokens.loc[12, "A"] == pytest.approx(16_000 / 1e6, rel=0.02)
    assert C.recommendation == "buy"  # two engineers on 1e9 tokens a month: the API wins


def test_crossover_month_is_where_cumulative_curves_cross() -> None:
    C = compare(scenarios.load("bank_support"))
    k = C.crossover_month
    assert k is not None
    cum = C.cumulative
    after = cum.index[cum.index >= math.ceil(k)]
    before = math.floor(k)
    assert (cum.loc[after, "B"] <= cum.loc[after, "A"] + 1e-6).all()
    assert cum.loc[before, "B"] > cum.loc[before, "A"]


def test_break_even_volume_is_where_npvs_meet() -> None:
    S = scenarios.load("retail_search")
    C = compare(S)
    be = C.break_even_monthly_tokens
    assert be is not None and be > 0
    hi = compare(S.replace(monthly_tokens=be * (1 + 1e-6)))
    lo = compare(S.replace(monthly_tokens=be * (1 - 1e-6)))
    assert hi.npv_cost_usd["B"] <= hi.npv_cost_usd["A"]
    assert lo.npv_cost_usd["B"] > lo.npv_cost_usd["A"]


@pytest.mark.parametrize("name", PERSONAS)
def test_compare_outputs_for_each_persona(name: str) -> None:
    S = scenarios.load(name)
    C = compare(S)
    assert C.recommendation in ("build", "buy", "hybrid", "neither")
    assert C.reasons and all(isinstance(r, str) for r in C.reasons)
    assert set(C.annual.path) == {"A", "B", "H", "0"}
    for p in ("A", "B", "H"):
        r = C.paths[p]
        np.testing.assert_allclose(r.fcf, r.ebitda - r.tax - r.capex + r.proceeds, atol=1e-6)
        rows = C.annual[C.annual.path == p]
        assert rows["fcf_usd"].sum() == pytest.approx(r.fcf.sum(), rel=1e-12, abs=1e-6)
    assert len(C.fleet_by_year) == 3 and C.fleet_by_year["gpus"].max() >= 1
    assert C is compare(scenarios.load(name))  # cached: every view gets the same object


def test_personas_cover_all_three_recommendations() -> None:
    """The bank builds (its data may not leave its own facilities), the hospital buys and
    the retailer is hybrid (the API bridges until its fine-tuned model is live); the numbers
    are in docs/tco.md."""
    recs = {n: compare(scenarios.load(n)).recommendation for n in PERSONAS}
    assert recs == {"bank_support": "build", "hospital_notes": "buy",
                    "retail_search": "hybrid"}


@pytest.mark.parametrize("name", PERSONAS)
def test_recommendation_is_the_best_possible_path(name: str) -> None:
    C = compare(scenarios.load(name))
    possible = [p for p in ("A", "B", "H") if not C.feasibility[p]]
    best = max(possible, key=lambda p: C.npv_vs_status_quo_usd[p])
    assert C.npv_vs_status_quo_usd[best] > 0
    assert C.recommendation == {"A": "buy", "B": "build", "H": "hybrid"}[best]


# --------------------------------------------------------------------------- invariants

@pytest.mark.parametrize("name", PERSONAS)
def test_more_volume_never_raises_api_cost_per_token(name: str) -> None:
    # within a quota that never binds; above the top tier, provisioned capacity for the
    # peak makes each token dearer (tests/test_consistency_ops.py prices it)
    S = scenarios.load(name, api_tokens_per_minute=1e10)
    prev = None
    for v in (1e8, 1e9, 1e10, 1e11):
        unit = compare(S.replace(monthly_tokens=v)).usd_per_1k_tokens["A"].dropna()
        if prev is not None:
            assert (unit.to_numpy() <= prev + 1e-15).all()
        prev = unit.to_numpy()


@pytest.mark.parametrize("name", PERSONAS)
def test_fewer_staff_never_raise_b(name: str) -> None:
    S = scenarios.load(name)
    _, b = tco.monthly_totals(S)
    fewer = {f"{r}_fte_b": getattr(S, f"{r}_fte_b") * 0.5 for r in ROLES}
    _, b2 = tco.monthly_totals(S.replace(**fewer))
    assert (b2 <= b + 1e-9).all() and b2.sum() < b.sum()


@pytest.mark.parametrize("name", PERSONAS)
def test_higher_discount_rate_never_raises_cost_npv(name: str) -> None:
    S = scenarios.load(name)
    npvs = [compare(S.replace(discount_rate=r)).npv_cost_usd for r in (0.0, 0.05, 0.10, 0.2)]
    for k in ("A", "B"):
        values = [n[k] for n in npvs]
        assert all(x >= y for x, y in itertools.pairwise(values)), values


def test_open_model_api_npv_prices_path_a_with_the_hosted_open_model():
    """Hand check: the hosted-open-model path is path A with only the API price changed."""
    from buildbuy.tco_compare import open_model_api_npv

    S = scenarios.load("retail_search")
    alts = open_model_api_npv(S, model=tco)
    assert set(alts) == {"together-llama-3.1-8b", "deepinfra-llama-3.1-8b"}
    S2 = S.replace(api_model="deepinfra-llama-3.1-8b")
    a = tco.compare(S2).monthly["A"].to_numpy()
    expected = npf.npv(finance.monthly_rate(S.discount_rate), a)
    assert alts["deepinfra-llama-3.1-8b"] == pytest.approx(expected, rel=1e-9)
    # a cheaper price sheet can only lower A's cost
    assert alts["deepinfra-llama-3.1-8b"] < alts["together-llama-3.1-8b"]
    assert open_model_api_npv(scenarios.load("bank_support"), model=tco) == {}


def test_simplification_effects_measure_what_they_say():
    """Throughput row = every replica slowed by the GPU family's median held-out error;
    always-at-peak row = the cloud fleet run at its yearly peak size all month (zero for
    owned servers)."""
    from buildbuy.decision import simplification_effects
    from buildbuy.tps import accuracy

    S = scenarios.load("retail_search")            # rented on demand
    table = simplification_effects(S)
    fam = accuracy.family_accuracy(S.gpu)
    opt = fam.median_error_pct / 100.0
    assert fam.family == "hopper" and abs(opt) < 0.5
    # the same B with every replica (1 + opt) times slower: a utilisation target of
    # target / (1 + opt) sizes exactly the same fleets (peak / (cap / (1 + opt) x u))
    slower = compare(S.replace(target_utilisation=S.target_utilisation / (1 + opt)))
    base = compare(S)
    row = table.iloc[0]
    assert row.name.startswith(f"throughput {abs(opt):.1%} ")
    assert row["effect_on_b_usd"] == pytest.approx(slower.tco_usd["B"] - base.tco_usd["B"])
    # more throughput than modelled can only mean fewer GPUs, less can only mean more
    assert row["effect_on_b_usd"] * opt >= 0
    # on an Ampere GPU the family misses its target and the effect follows its median
    A = S.replace(gpu="A100-80GB")
    amp = accuracy.family_accuracy("A100-80GB")
    assert simplification_effects(A).index[0].endswith("(ampere median)")
    assert not amp.meets_target and amp.margin_share > 0
    _, b = tco.monthly_totals(S, context=tco.context(S, elastic=False))
    assert table.iloc[1]["effect_on_b_usd"] == pytest.approx(b.sum() - base.tco_usd["B"])
    assert table.iloc[1]["effect_on_b_usd"] > 0       # the retailer's fleet follows its day
    owned = simplification_effects(scenarios.load("bank_support"))
    assert owned.iloc[1]["effect_on_b_usd"] == pytest.approx(0.0, abs=1e-6)
