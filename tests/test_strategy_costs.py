"""GPU lead time moving B's go-live, and technical debt as B's carrying cost."""

from __future__ import annotations

import numpy as np
import pytest

from buildbuy import data, gpu_supply, scenarios, tco, tech_debt
from buildbuy.scenarios import ROLES, ScenarioError


def test_lead_time_months_rounds_weeks_up() -> None:
    assert [gpu_supply.lead_time_months(w) for w in (0, 4, 5, 8.66, 39, 52)] == [
        0, 1, 2, 2, 9, 12]
    with pytest.raises(ValueError, match="weeks=-1 is invalid"):
        gpu_supply.lead_time_months(-1)


def test_lead_time_table_is_sourced_and_dated() -> None:
    t = gpu_supply.lead_times()
    assert len(t) >= 4
    assert (t["lead_time_weeks_low"] <= t["lead_time_weeks_high"]).all()
    assert t["source"].str.len().min() > 40
    assert list(t["as_of"]) == sorted(t["as_of"])
    assert set(data.load_table("gpu_lead_times").columns) >= {"source", "as_of"}


def test_go_live_is_the_later_of_build_and_delivery() -> None:
    S = scenarios.load("bank_support", months_to_production=6)
    assert gpu_supply.months_to_production_b(S.replace(gpu_lead_time_months=3)) == 6
    assert gpu_supply.months_to_production_b(S.replace(gpu_lead_time_months=9)) == 9
    # rented GPUs: only the build counts
    assert gpu_supply.months_to_production_b(
        S.replace(hosting="cloud_reserved", gpu_lead_time_months=9)) == 6


def test_a_long_lead_time_delays_b_in_the_cash_flows() -> None:
    S = scenarios.load("bank_support", months_to_production=6, gpu_lead_time_months=3)
    late = S.replace(gpu_lead_time_months=9)
    served = tco.served_tokens(late)["B"]
    assert served[9] == 0 and served[10] > 0
    cf0, cf1 = tco.cashflows(S), tco.cashflows(late)

    def line(cf, comp):
        return cf[(cf.scenario == "B") & (cf.component == comp)]["usd"].to_numpy()

    # three more months of forgone value: B's value lines of months 7-9
    from buildbuy import value

    assert value.forgone(late)["B"].sum() - value.forgone(S)["B"].sum() == pytest.approx(
        value.monthly_value(S)["B"][7:10].sum())
    assert value.live_from(late)["B"] == 10
    # power starts in month 10 instead of 7
    assert np.flatnonzero(line(cf1, "power"))[0] == 10
    assert np.flatnonzero(line(cf0, "power"))[0] == 7
    # A does not move
    a0 = cf0[cf0.scenario == "A"]["usd"].sum()
    assert cf1[cf1.scenario == "A"]["usd"].sum() == pytest.approx(a0)


def test_lead_time_field_is_validated() -> None:
    with pytest.raises(ScenarioError, match="gpu_lead_time_months"):
        scenarios.load("bank_support", gpu_lead_time_months=-2)
    with pytest.raises(ScenarioError, match="tech_debt_share_per_year"):
        scenarios.load("bank_support", tech_debt_share_per_year=1.5)


def test_tech_debt_hand_computed() -> None:
    S = scenarios.load("hospital_notes")
    staff_per_month = sum(getattr(S, f"{r}_fte_b") * getattr(S, f"{r}_usd_per_year")
                          for r in ROLES) / 12
    build = S.fine_tuning_usd + S.months_to_production * staff_per_month
    d = tech_debt.tech_debt(S)
    assert d.build_cost_usd == pytest.approx(build)
    assert d.usd_per_year == pytest.approx(S.tech_debt_share_per_year * build)
    assert d.months_paid == S.horizon_months - S.months_to_production


@pytest.mark.parametrize("persona", scenarios.persona_names())
def test_tech_debt_line_in_the_cash_flows(persona: str) -> None:
    S = scenarios.load(persona)
    cf = tco.cashflows(S)
    line = cf[(cf.scenario == "B") & (cf.component == "tech_debt")].set_index("month")["usd"]
    assert set(cf[cf.component == "tech_debt"]["category"]) == {"people"}
    live = gpu_supply.months_to_production_b(S) + 1
    assert (line.loc[:live - 1] == 0).all() and (line.loc[live:] > 0).all()
    d = tech_debt.tech_debt(S)
    assert line.sum() == pytest.approx(d.usd_over_horizon)
    # the build cost is what the cash flows pay before B serves: fine-tuning + B's staff
    roles = cf[(cf.scenario == "B") & cf.component.isin(ROLES)
               & cf.month.between(1, S.months_to_production)]["usd"].sum()
    assert d.build_cost_usd == pytest.approx(S.fine_tuning_usd + roles)


def test_no_tech_debt_at_zero_share() -> None:
    S = scenarios.load("bank_support", tech_debt_share_per_year=0.0)
    cf = tco.cashflows(S)
    assert cf[cf.component == "tech_debt"]["usd"].abs().sum() == 0


def test_api_latency_table_and_rule() -> None:
    from buildbuy import api_latency

    S = scenarios.load("retail_search")            # 20 ms per output token
    t = api_latency.provider_table(S)
    bedrock = t.set_index("provider").loc["bedrock"]
    assert bedrock["ms_per_output_token"] == pytest.approx(1000 / 21)
    assert not bedrock["meets_target"]
    assert t["ms_per_output_token"].is_monotonic_increasing
    # a measured 47.6 ms (Bedrock's median) rules A out; at the target it does not
    slow = S.replace(api_ms_per_output_token=47.6)
    assert api_latency.api_latency_rule(slow, None)["A"][0].startswith(
        "the API takes 47.6 ms per output token")
    assert api_latency.api_latency_rule(S.replace(api_ms_per_output_token=20.0), None) == {}
    assert api_latency.api_latency_rule(S, None) == {}
    with pytest.raises(ScenarioError, match="api_ms_per_output_token"):
        scenarios.load("retail_search", api_ms_per_output_token=0)
