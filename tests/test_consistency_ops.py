"""Cross-module audit of the operations lines, recomputed by hand for every persona.

Each test rebuilds cost lines of ``buildbuy.tco.compare`` from the raw inputs (the YAML
persona, the CSV tables, ``buildbuy.tps.size_fleet``) with a short independent
calculation: the daily profile's power transform solved with scipy, fleets sized hour
by hour and year by year with headroom and redundancy, reservations found by brute
force, colocation tiers, resale by age, maintenance, the on-call minimum, API fees with
rate-limit tiers, provisioned throughput and model refreshes, and downtime in the SLA
calculator. Companion of ``tests/test_consistency.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from buildbuy import api_limits, paths, scenarios, tco, tps, widgets

PERSONAS = ("bank_support", "hospital_notes", "retail_search")
SECONDS = 730.0 * 3600.0
SRE_MINIMUM = {"none": 0, "business_hours": 3, "24x7": 8}   # 2 on call x hours / (25% x 168)


@pytest.fixture(scope="module", params=PERSONAS)
def case(request: pytest.FixtureRequest) -> tuple:
    S = scenarios.load(request.param)
    return S, tco.compare(S)


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(paths.data_dir() / f"{name}.csv")


def _months(S) -> np.ndarray:
    return np.arange(S.horizon_months + 1)


def _volume(S, m) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    return S.monthly_tokens * (1.0 + S.annual_growth) ** ((m - 1.0) / 12.0) * (m >= 1)


def _line(C, scen: str, comp: str) -> np.ndarray:
    cf = C.cashflows
    rows = cf[(cf.scenario == scen) & (cf.component == comp)].set_index("month")["usd"]
    return rows.reindex(_months(C.scenario), fill_value=0.0).to_numpy()


def _hand_day(S) -> np.ndarray:
    """The 24 hourly loads (mean 1): the source's shares raised to the power a that makes
    the busiest hour peak_to_average times the mean (a found by root search)."""
    t = _csv("load_profiles")
    s = t[t.profile == S.load_profile].sort_values("hour").share_of_day.to_numpy()
    s = s / s.mean()
    if S.peak_to_average == 1.0:
        return np.ones(24)
    a = brentq(lambda a: np.log((s ** a).max() / (s ** a).mean()) - np.log(S.peak_to_average),
               1e-9, 500.0, xtol=1e-14)
    return s ** a / (s ** a).mean()


def _shape(S) -> tuple[int, int]:
    out = round(S.tokens_per_request * S.output_token_share)
    return S.tokens_per_request - out, out


def _replica_caps(S) -> dict[int, float]:
    """tokens/s of one replica for each tensor-parallel size size_fleet accepts."""
    prompt, out = _shape(S)
    caps = {}
    for tp in (1, 2, 4, 8):
        try:
            f = tps.size_fleet(S.self_host_model, S.gpu, peak_tokens_per_s=1.0,
                               prompt_tokens=prompt, output_tokens=out, tensor_parallel=tp,
                               max_ms_per_output_token=S.max_ms_per_output_token)
        except ValueError:
            continue
        caps[tp] = f.tokens_per_s_per_gpu * tp
    return caps


def _cloud_gpus(S, caps: dict[int, float], load: float) -> float:
    if load <= 0:
        return 0.0
    spare = 1 if S.redundancy == "n_plus_1" else 0
    copies = 2 if S.redundancy == "two_sites" else 1
    return min(tp * copies * (math.ceil(load / S.target_utilisation / cap - 1e-12) + spare)
               for tp, cap in caps.items())


def _hand_servers_by_year(S) -> list[int]:
    """Owned servers held each year: size_fleet at the year's peak / target utilisation."""
    prompt, out = _shape(S)
    held: list[int] = []
    for year in range(math.ceil(S.horizon_months / 12)):
        first, last = 12 * year + 1, min(12 * (year + 1), S.horizon_months)
        if last <= S.months_to_production:
            held.append(0)
            continue
        peak = float(max(_volume(S, first), _volume(S, last))) * S.peak_to_average / SECONDS
        f = tps.size_fleet(S.self_host_model, S.gpu,
                           peak_tokens_per_s=peak / S.target_utilisation, prompt_tokens=prompt,
                           output_tokens=out, max_ms_per_output_token=S.max_ms_per_output_token)
        site = math.ceil(f.n_gpus / S.gpus_per_server)
        site += 1 if S.redundancy == "n_plus_1" else 0
        servers = site * (2 if S.redundancy == "two_sites" else 1)
        held.append(max([servers, *held]))
    return held


# ------------------------------------------------------------------ fleet and headroom


def test_fleet_keeps_headroom_and_redundancy(case) -> None:
    S, C = case
    assert C.fleet.utilisation <= S.target_utilisation + 1e-12
    assert C.fleet.target_utilisation == S.target_utilisation
    if S.hosting == "owned":
        servers = _hand_servers_by_year(S)
        assert C.gpus_by_year == [s * S.gpus_per_server for s in servers]
        per_gpu = max(cap / tp for tp, cap in _replica_caps(S).items())
        for y, year in enumerate(C.fleet.years):
            peak = float(_volume(S, min(12 * (y + 1), S.horizon_months))) \
                * S.peak_to_average / SECONDS
            assert year.utilisation_at_peak == pytest.approx(
                peak / (servers[y] * S.gpus_per_server * per_gpu), rel=1e-9)


@pytest.mark.parametrize("redundancy", ["none", "n_plus_1", "two_sites"])
@pytest.mark.parametrize("persona", ["bank_support", "retail_search"])
def test_utilisation_never_exceeds_the_target(persona: str, redundancy: str) -> None:
    for u in (0.5, 0.85):
        S = scenarios.load(persona, redundancy=redundancy, target_utilisation=u)
        plan = tco.fleet_by_year(S)
        assert 0 < plan.utilisation <= u + 1e-12
        if S.hosting == "owned":
            assert plan.gpus_by_year == [s * S.gpus_per_server for s in _hand_servers_by_year(S)]


def test_two_sites_double_the_single_site_fleet() -> None:
    one = tco.fleet_by_year(scenarios.load("bank_support", redundancy="none"))
    two = tco.fleet_by_year(scenarios.load("bank_support", redundancy="two_sites"))
    assert two.gpus_by_year == [2 * g for g in one.gpus_by_year]


# ------------------------------------------------------------- owned hardware lines


def test_owned_capex_resale_by_age_colocation_tier_maintenance_and_power() -> None:
    for changes in ({}, {"redundancy": "two_sites"}, {"monthly_tokens": 4e11}):
        S = scenarios.load("bank_support", **changes)
        C = tco.compare(S)
        m = _months(S)
        held = _hand_servers_by_year(S)
        bought = np.diff(held, prepend=0)
        buy_month = [0] + [12 * y + 1 for y in range(1, len(held))]
        capex = np.zeros(len(m))
        for k, b in zip(buy_month, bought, strict=True):
            capex[k] = b * S.server_usd
        np.testing.assert_allclose(_line(C, "B", "gpu_servers"), capex)
        np.testing.assert_allclose(_line(C, "B", "networking"), capex * S.networking_uplift)
        # resale: each purchase at (1 - decline) ** (months held / 12) of its price
        per_server = S.server_usd * (1 + S.networking_uplift)
        value = sum(b * per_server * (1 - S.resale_decline_per_year)
                    ** ((S.horizon_months - max(k, 1) + 1) / 12)
                    for k, b in zip(buy_month, bought, strict=True))
        resale = _line(C, "B", "resale")
        assert resale[-1] == pytest.approx(-value, rel=1e-12)
        assert np.count_nonzero(resale) == 1
        live = m > S.months_to_production
        servers_m = np.array(held)[(np.maximum(m, 1) - 1) // 12] * live
        kw = servers_m * S.server_power_kw
        site_kw = kw / (2 if S.redundancy == "two_sites" else 1)
        rate = np.where(site_kw >= S.colo_wholesale_min_kw, S.colo_wholesale_usd_per_kw_month,
                        S.colo_retail_usd_per_kw_month)
        np.testing.assert_allclose(_line(C, "B", "colocation"), kw * rate, rtol=1e-12)
        np.testing.assert_allclose(_line(C, "B", "power"), kw * S.power_draw_share * S.pue
                                   * 730 * S.electricity_usd_per_kwh, rtol=1e-12)
        held_capex = np.cumsum(capex) * (1 + S.networking_uplift)
        np.testing.assert_allclose(_line(C, "B", "maintenance"),
                                   held_capex * live * S.maintenance_share_per_year / 12,
                                   rtol=1e-12)
        if changes.get("monthly_tokens"):       # big enough for a wholesale-priced site
            assert rate[-1] == S.colo_wholesale_usd_per_kw_month


def test_bank_pays_retail_colocation_and_maintenance() -> None:
    S = scenarios.load("bank_support")
    C = tco.compare(S)
    col = _line(C, "B", "colocation")
    kw = np.array(_hand_servers_by_year(S))[0] * 10.2
    assert kw < 250 and col[S.months_to_production + 1] == pytest.approx(kw * 275.0)
    assert _line(C, "B", "maintenance").sum() > 0


# ---------------------------------------------------------- cloud: hour by hour


def _hand_cloud(S) -> tuple[np.ndarray, np.ndarray]:
    """(rent, licences) month by month, fleet sized for each of the 24 hours."""
    m = _months(S)
    day = _hand_day(S)
    caps = _replica_caps(S)
    t = _csv("gpus").set_index("name").loc[S.gpu]
    od = S.gpu_usd_per_hour if S.hosting == "cloud_on_demand" and S.gpu_usd_per_hour \
        else t.cloud_on_demand_usd_per_hour
    rv = S.gpu_usd_per_hour if S.gpu_usd_per_hour else t.cloud_reserved_usd_per_hour
    live = m > S.months_to_production
    need = np.zeros((len(m), 24))
    for k in np.flatnonzero(live):
        avg = float(_volume(S, k)) / SECONDS
        need[k] = [_cloud_gpus(S, caps, avg * x) for x in day]
    hour = 730 / 24
    reserved = np.zeros(len(m))
    if S.hosting == "cloud_reserved":
        for y in range(math.ceil(S.horizon_months / 12)):
            sel = live & ((np.maximum(m, 1) - 1) // 12 == y) & (m >= 1)
            if not sel.any():
                continue
            g = need[sel]
            costs = [r * rv * hour * g.size + od * hour * np.maximum(g - r, 0).sum()
                     for r in range(int(g.max()) + 1)]
            reserved[sel] = int(np.argmin(costs))
    burst = np.maximum(need - reserved[:, None], 0).sum(1) * hour
    rent = reserved * 730 * rv + burst * (od if S.hosting == "cloud_reserved" else rv)
    if S.hosting == "cloud_on_demand":
        rent = need.sum(1) * hour * od
    gpus = np.maximum(need.mean(1), reserved)
    return rent, gpus * S.licence_usd_per_gpu_year / 12


@pytest.mark.parametrize("persona,changes", [
    ("hospital_notes", {}), ("retail_search", {}),
    ("hospital_notes", {"redundancy": "two_sites", "peak_to_average": 3.0}),
    ("retail_search", {"hosting": "cloud_reserved", "redundancy": "n_plus_1"}),
])
def test_cloud_fleet_follows_the_load_hour_by_hour(persona: str, changes: dict) -> None:
    S = scenarios.load(persona, **changes)
    C = tco.compare(S)
    rent, licences = _hand_cloud(S)
    np.testing.assert_allclose(_line(C, "B", "gpu_rental"), rent, rtol=1e-9)
    np.testing.assert_allclose(_line(C, "B", "licences"), licences, rtol=1e-9)


def test_always_on_fleet_overstated_cloud_rent(case) -> None:
    S, C = case
    from buildbuy.decision import simplification_effects

    row = simplification_effects(S).loc["cloud fleet always at peak size"]
    if S.hosting == "owned":
        assert row.effect_on_b_usd == pytest.approx(0.0, abs=1e-6)
        return
    # the old model: each year's peak-hour fleet, 730 h a month at the hosting's price
    m = _months(S)
    day = _hand_day(S)
    caps = _replica_caps(S)
    t = _csv("gpus").set_index("name").loc[S.gpu]
    price = S.gpu_usd_per_hour or t[f"{S.hosting}_usd_per_hour"]
    live = m > S.months_to_production
    peak_fleet = np.zeros(len(m))
    for y in range(math.ceil(S.horizon_months / 12)):
        sel = live & ((np.maximum(m, 1) - 1) // 12 == y) & (m >= 1)
        if sel.any():
            peak_fleet[sel] = max(_cloud_gpus(S, caps, float(_volume(S, k)) / SECONDS
                                              * day.max()) for k in np.flatnonzero(sel))
    always = peak_fleet * 730 * price + peak_fleet * S.licence_usd_per_gpu_year / 12
    now = _line(C, "B", "gpu_rental") + _line(C, "B", "licences")
    assert row.effect_on_b_usd == pytest.approx(always.sum() - now.sum(), rel=1e-9, abs=1e-6)
    # the hospital's two reserved GPUs (one replica and its spare) are busy every hour, so
    # following the load saves nothing there; the retailer's fleet breathes with the day
    assert row.effect_on_b_usd > 0 if S.name == "retail_search" else row.effect_on_b_usd >= 0


# --------------------------------------------------------------------- people


def test_on_call_minimum_from_the_sre_rotation(case) -> None:
    S, C = case
    m = _months(S)
    short = max(0.0, SRE_MINIMUM[S.on_call_coverage] - S.ml_engineer_fte_b - S.mlops_fte_b)
    want = short * S.mlops_usd_per_year / 12 * (m > S.months_to_production)
    np.testing.assert_allclose(_line(C, "B", "on_call_staff"), want, rtol=1e-12)


def test_bank_24x7_rotation_adds_four_and_a_half_mlops() -> None:
    S = scenarios.load("bank_support")
    C = tco.compare(S)
    assert S.on_call_coverage == "24x7"
    month = S.months_to_production + 1
    assert _line(C, "B", "on_call_staff")[month] == pytest.approx(4.5 * S.mlops_usd_per_year
                                                                  / 12)


# --------------------------------------------------------- Scenario A: the API bill


def _hand_api(S) -> dict[str, np.ndarray]:
    """API fees, provisioned throughput and refresh migrations, month by month."""
    m = _months(S).astype(float)
    p = _csv("api_prices").set_index("name").loc[S.api_model]
    cached = p.input_usd_per_mtok if pd.isna(p.cached_input_usd_per_mtok) \
        else p.cached_input_usd_per_mtok
    o, c = S.output_token_share, S.cached_input_share
    usd_per_token = ((1 - o) * ((1 - c) * p.input_usd_per_mtok + c * cached)
                     + o * p.output_usd_per_mtok) / 1e6
    go_live = S.months_to_production_a + 1
    n_ref = np.zeros(len(m))
    if S.api_refresh_months > 0:
        n_ref = np.where(m >= go_live, np.floor((m - go_live) / S.api_refresh_months), 0)
    index = (1 - S.api_price_decline) ** ((np.maximum(m, 1) - 1) / 12) \
        * S.api_refresh_price_share ** n_ref
    live = m >= go_live
    volume = _volume(S, m)
    avg = volume / SECONDS
    peak = avg * S.peak_to_average
    # the top tier: the table's largest, or the negotiated quota
    t = _csv("api_rate_limits")
    rows = t[t.api_model == S.api_model]
    if S.api_tokens_per_minute is not None:
        top = {"input_tokens_per_minute": S.api_tokens_per_minute}
    elif rows.empty:
        top = {}
    else:
        r = rows.sort_values(["input_tokens_per_minute", "total_tokens_per_minute"]).iloc[-1]
        top = {k: r[k] for k in ("input_tokens_per_minute", "output_tokens_per_minute",
                                 "total_tokens_per_minute") if not pd.isna(r[k])}
    demand = {"input_tokens_per_minute": peak * 60 * (1 - o) * (1 - c),
              "output_tokens_per_minute": peak * 60 * o, "total_tokens_per_minute": peak * 60}
    over = np.zeros(len(m))
    for k, lim in top.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            over = np.maximum(over, np.where(demand[k] > 0, 1 - lim / demand[k], 0))
    offers = _csv("api_provisioned").set_index("api_model")
    units = np.zeros(len(m))
    share = np.zeros(len(m))
    pt = np.zeros(len(m))
    if S.api_model in offers.index and top:
        off = offers.loc[S.api_model]
        burn = (1 - o) * (1 - c) + (1 - o) * c * off.cached_input_weight \
            + o * off.output_token_weight
        day = _hand_day(S)
        for k in np.flatnonzero((over > 0) & live):
            units[k] = max(off.min_units,
                           math.ceil(over[k] * peak[k] * burn / off.tokens_per_s_per_unit - 1e-9))
            cap = units[k] * off.tokens_per_s_per_unit / burn
            share[k] = np.minimum(avg[k] * day, cap).mean() / avg[k]
            pt[k] = units[k] * off.usd_per_unit_month
    fees = volume * usd_per_token * (1 - S.api_discount) * index * (1 - share) * live
    refresh = np.diff(n_ref, prepend=0.0) > 0
    day_usd = S.ml_engineer_usd_per_year / S.engineer_working_days_per_year
    return {"api_fees": fees, "api_provisioned": pt,
            "model_refresh": refresh * S.api_migration_engineer_days * day_usd,
            "units": units}


def test_api_fees_provisioned_capacity_and_refreshes(case) -> None:
    S, C = case
    hand = _hand_api(S)
    for comp in ("api_fees", "api_provisioned", "model_refresh"):
        np.testing.assert_allclose(_line(C, "A", comp), hand[comp], rtol=1e-9, atol=1e-6,
                                   err_msg=comp)


@pytest.mark.parametrize("changes", [
    dict(api_discount=0.2, cached_input_share=0.5, api_price_decline=0.05),
    dict(api_model="gpt-4o", cached_input_share=0.8, annual_growth=1.0),
    dict(api_model="together-llama-3.1-8b", cached_input_share=1.0),  # no tiers, no cache
    dict(api_tokens_per_minute=1e5, api_model="claude-haiku-4-5"),
    dict(api_refresh_months=7, api_refresh_price_share=0.5, months_to_production_a=3),
])
def test_api_lines_under_other_terms(changes: dict) -> None:
    S = scenarios.load("hospital_notes", **changes)
    C = tco.compare(S)
    hand = _hand_api(S)
    for comp in ("api_fees", "api_provisioned", "model_refresh"):
        np.testing.assert_allclose(_line(C, "A", comp), hand[comp], rtol=1e-9, atol=1e-6,
                                   err_msg=comp)


def test_bank_quota_far_below_the_peak_raises_the_api_cost() -> None:
    S = scenarios.load("bank_support")
    C = tco.compare(S)
    hand = _hand_api(S)
    assert hand["units"].max() > 0 and _line(C, "A", "api_provisioned").sum() > 0
    assert any("provisioned throughput" in r for r in C.reasons)
    # with no published provisioned offer, the same excess blocks path A instead
    G = scenarios.load("bank_support", api_model="gpt-4o", api_tokens_per_minute=1e6)
    assert any("not feasible at published terms" in r for r in tco.compare(G).reasons)


def test_retail_refreshes_its_model_every_year() -> None:
    S = scenarios.load("retail_search")
    C = tco.compare(S)
    months = np.flatnonzero(_line(C, "A", "model_refresh"))
    go_live = S.months_to_production_a + 1
    assert months.tolist() == list(range(go_live + 12, S.horizon_months + 1, 12))


# ------------------------------------------------------------------- downtime


def test_sla_prices_downtime_with_the_persona_figure(case) -> None:
    S, _ = case
    t = widgets.sla_table(S)
    api, own = t.iloc[0], t.iloc[1]
    assert api.downtime_cost_usd == pytest.approx(round(0.001 * 730 * S.downtime_usd_per_hour),
                                                  abs=1)
    one_site = 0.005 if S.redundancy != "two_sites" else 0.005 ** 2
    assert own.downtime_cost_usd == pytest.approx(round(one_site * 730
                                                        * S.downtime_usd_per_hour), abs=1)


def test_a_cheaper_api_that_cannot_carry_the_peak_is_not_bought() -> None:
    # gpt-4o with a negotiated quota far below the hospital's peak and no provisioned offer:
    # the quota rule of buildbuy.constraints blocks A (and the hybrid, which bridges on the
    # API), so the decision record does not buy although A is the cheaper path
    from buildbuy.decision import decide

    S = scenarios.load("hospital_notes", api_model="gpt-4o", api_tokens_per_minute=1e3)
    D = decide(S)
    C = D.comparison
    assert C.npv_cost_usd["A"] < C.npv_cost_usd["B"]
    assert D.npv_vs_status_quo_usd["A"] > D.npv_vs_status_quo_usd["B"]
    assert D.feasibility["A"] and "not feasible at published terms" in D.feasibility["A"][0]
    assert D.feasibility["H"]                  # the hybrid sends its first months to the API
    assert D.recommendation != "buy"
    assert D.recommendation == ("build" if D.npv_vs_status_quo_usd["B"] > 0 else "neither")
    assert any("not feasible at published terms" in r for r in D.reasons)
    # a quota that only the grown traffic outgrows, after B is live, blocks A but not H
    peak = api_limits.quota_plan(S).input_tokens_per_minute
    late = scenarios.load("hospital_notes", api_model="gpt-4o",
                          api_tokens_per_minute=float(peak[S.months_to_production + 2]))
    f = decide(late).feasibility
    assert f["A"] and not f["H"]
