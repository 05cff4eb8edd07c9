"""Unit economics against hand-computed values and numpy-financial."""

from __future__ import annotations

import dataclasses

import numpy_financial as npf
import pytest

from buildbuy import costs, data


def test_self_hosted_cost_per_1k_by_hand():
    # $2.50/h, 700 tokens/s: 2.5 / (700 * 3600) * 1000 = $0.000992 per 1k
    assert costs.self_hosted_usd_per_1k_tokens(
        usd_per_gpu_hour=2.5, n_gpus=1, tokens_per_s=700) == pytest.approx(0.00099206, rel=1e-5)
    # 8 GPUs serving 8x the tokens: same unit cost; 10% utilisation: ten times it
    assert costs.self_hosted_usd_per_1k_tokens(
        usd_per_gpu_hour=2.5, n_gpus=8, tokens_per_s=5600) == pytest.approx(0.00099206, rel=1e-5)
    assert costs.self_hosted_usd_per_1k_tokens(
        usd_per_gpu_hour=2.5, n_gpus=1, tokens_per_s=700, utilisation=0.1) == pytest.approx(
        0.0099206, rel=1e-5)


def test_api_cost_per_1k_by_hand():
    # gpt-4o: 0.8 * 2.50 + 0.2 * 10.00 = $4.00 per million
    assert costs.api_usd_per_1k_tokens("gpt-4o", output_token_share=0.2) == pytest.approx(0.004)
    # gpt-5, 25% output, half the input cached at $0.125:
    # 0.75 * (0.5 * 1.25 + 0.5 * 0.125) + 0.25 * 10 = 3.015625 per million
    assert costs.api_usd_per_1k_tokens("gpt-5", output_token_share=0.25,
                                       cached_input_share=0.5) == pytest.approx(0.003015625)


def test_unpublished_cached_price_bills_input_price():
    # together-llama-3.1-8b publishes no cached-input price: cached tokens pay full input.
    plain = costs.api_usd_per_1k_tokens("together-llama-3.1-8b", output_token_share=0.3)
    cached = costs.api_usd_per_1k_tokens("together-llama-3.1-8b", output_token_share=0.3,
                                         cached_input_share=1.0)
    assert cached == plain


def test_published_cached_price_is_used():
    # gpt-4o: cached input $1.25 per M (litellm 1.110.2 cache_read_input_token_cost).
    # 70% input all cached, 30% output: 0.7 * 1.25 + 0.3 * 10 = 3.875 per M.
    assert costs.api_usd_per_1k_tokens("gpt-4o", output_token_share=0.3,
                                       cached_input_share=1.0) == pytest.approx(0.003875)


def test_monthly_api_cost():
    assert costs.monthly_api_cost_usd("claude-haiku-4-5", monthly_tokens=2e9,
                                      output_token_share=0.1) == pytest.approx(
        2000 * (0.9 * 1.0 + 0.1 * 5.0))


def test_gpu_prices_and_hours():
    assert costs.gpu_usd_per_hour("L40S", "cloud_on_demand") == 1.40
    assert costs.gpu_usd_per_hour("H100-SXM", "cloud_reserved") == 2.35
    assert costs.gpu_hours_cost_usd("L4", 730, hosting="cloud_on_demand") == pytest.approx(
        730 * 0.78)


def test_owned_cost_uses_capital_recovery_like_numpy_financial():
    a = costs.OWNED_DEFAULTS
    crf = -npf.pmt(a.rate, a.life_years, 1.0)
    capital = 30_000 * (1 + a.server_share) * crf / 8760
    kw = 700 * a.server_power_factor / 1000
    power = kw * 0.75 * a.pue * a.usd_per_kwh  # average draw 75% of the maximum
    space = kw * a.colo_usd_per_kw_month / 730   # colocation on the provisioned kW
    parts = costs.owned_usd_per_hour_breakdown("H100-SXM")
    assert parts["capital"] == pytest.approx(capital)
    assert parts["power"] == pytest.approx(power)
    assert parts["space"] == pytest.approx(space)
    assert costs.gpu_usd_per_hour("H100-SXM", "owned") == pytest.approx(capital + power + space)
    # by hand: power 10.2 kW x PUE 1.3 x $0.0806/kWh / 8 GPUs = 0.13 at full draw
    # (x 0.75 = 0.10); colocation 10.2 kW x $184.06 / 730 h / 8 GPUs = 0.32
    assert power == pytest.approx(0.13 * 0.75, abs=0.01)
    assert space == pytest.approx(0.32, abs=0.01)


def test_owned_is_cheaper_than_on_demand_for_an_h100():
    assert costs.gpu_usd_per_hour("H100-SXM", "owned") < costs.gpu_usd_per_hour(
        "H100-SXM", "cloud_reserved") < costs.gpu_usd_per_hour("H100-SXM")


def test_break_even_volume_by_hand():
    # one $2/h GPU: 2 * 730 = $1,460 a month; gpt-4o at 20% output is $4/M -> 365 M tokens
    v = costs.break_even_monthly_tokens("gpt-4o", output_token_share=0.2, usd_per_gpu_hour=2.0,
                                        n_gpus=1, tokens_per_s=1000)
    assert v == pytest.approx(365e6)
    at_v = costs.monthly_api_cost_usd("gpt-4o", monthly_tokens=v, output_token_share=0.2)
    assert at_v == pytest.approx(costs.monthly_self_hosted_cost_usd(usd_per_gpu_hour=2.0,
                                                                    n_gpus=1))


def test_break_even_beyond_capacity_is_none():
    # 10 tokens/s carries 26 M tokens a month, far below the 365 M break-even
    assert costs.break_even_monthly_tokens("gpt-4o", output_token_share=0.2,
                                           usd_per_gpu_hour=2.0, n_gpus=1,
                                           tokens_per_s=10) is None


def test_break_even_utilisation_equates_unit_costs():
    u = costs.break_even_utilisation("gpt-4o-mini", output_token_share=0.2,
                                     usd_per_gpu_hour=3.99, tokens_per_s_per_gpu=2000)
    self_hosted = costs.self_hosted_usd_per_1k_tokens(usd_per_gpu_hour=3.99, n_gpus=1,
                                                      tokens_per_s=2000, utilisation=min(u, 1))
    if u <= 1:
        assert self_hosted == pytest.approx(costs.api_usd_per_1k_tokens(
            "gpt-4o-mini", output_token_share=0.2))
    # by hand: (3.99 / 7.2e6 * 1e3) / ((0.8 * 0.15 + 0.2 * 0.6) / 1e3)
    assert u == pytest.approx((3.99 / 7.2e6 * 1e3) / 0.00024)


@pytest.mark.parametrize("call,pattern", [
    (lambda: costs.gpu_usd_per_hour("H100-SXM", "spot"),
     r"hosting='spot' is invalid: must be one of 'cloud_on_demand'"),
    (lambda: costs.gpu_usd_per_hour("A100-40GB", "cloud_on_demand"),
     r"hosting='cloud_on_demand' is invalid: .*no cloud_on_demand price"),
    (lambda: costs.gpu_usd_per_hour("A100-40GB", "owned"),
     r"gpu='A100-40GB' is invalid: must be a GPU with a purchase price"),
    (lambda: costs.self_hosted_usd_per_1k_tokens(usd_per_gpu_hour=2, n_gpus=1,
                                                 tokens_per_s=100, utilisation=0),
     r"utilisation=0 is invalid"),
    (lambda: costs.self_hosted_usd_per_1k_tokens(usd_per_gpu_hour=2, n_gpus=1,
                                                 tokens_per_s=100, utilisation=1.2),
     r"utilisation=1.2 is invalid: must be a share between 0 and 1"),
    (lambda: costs.self_hosted_usd_per_1k_tokens(usd_per_gpu_hour=2, n_gpus=0,
                                                 tokens_per_s=100),
     r"n_gpus=0 is invalid"),
    (lambda: costs.api_usd_per_1k_tokens("gpt-4o", output_token_share=1.5),
     r"output_token_share=1.5 is invalid"),
    (lambda: costs.api_usd_per_1k_tokens("gpt-4o", output_token_share=0.2,
                                         cached_input_share=-0.1),
     r"cached_input_share=-0.1 is invalid"),
    (lambda: costs.monthly_api_cost_usd("gpt-4o", monthly_tokens=-1, output_token_share=0.2),
     r"monthly_tokens=-1 is invalid"),
    (lambda: costs.gpu_hours_cost_usd("L4", -3), r"hours=-3 is invalid"),
    (lambda: costs.api_usd_per_1k_tokens("gpt-40", output_token_share=0.2),
     r"api='gpt-40' is invalid.*'gpt-4o'"),
    (lambda: costs.owned_usd_per_hour_breakdown(
        "H100-SXM", dataclasses.replace(costs.OWNED_DEFAULTS, pue=0.9)),
     r"assumptions.pue=0.9 is invalid"),
])
def test_bad_input(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_every_gpu_with_prices_has_all_three_hostings():
    for name in data.gpu_names():
        g = data.get_gpu(name)
        if g.cloud_on_demand_usd_per_hour is None:
            continue
        values = [costs.gpu_usd_per_hour(g, h) for h in costs.HOSTINGS]
        assert all(v > 0 for v in values)


def test_scenario_prices_use_the_scenarios_own_fields() -> None:
    """One convention for every view: override, owned-hardware fields, cache mix, discount."""
    from buildbuy import scenarios

    bank = scenarios.load("bank_support")   # owned hardware in colocation
    assert costs.scenario_gpu_usd_per_hour(bank) == pytest.approx(costs.gpu_usd_per_hour(
        bank.gpu, "owned", assumptions=costs.owned_assumptions(bank)))
    assert costs.scenario_gpu_usd_per_hour(bank, "cloud_reserved") == \
        costs.gpu_usd_per_hour(bank.gpu, "cloud_reserved")
    retail = scenarios.load("retail_search")
    rented = retail.replace(gpu_usd_per_hour=2.0)
    assert costs.scenario_gpu_usd_per_hour(rented) == 2.0
    # the override prices the scenario's own hosting mode, not the others
    assert costs.scenario_gpu_usd_per_hour(rented, "cloud_reserved") == \
        costs.gpu_usd_per_hour(retail.gpu, "cloud_reserved")
    cached = retail.replace(cached_input_share=0.5, api_discount=0.1)
    by_hand = costs.api_usd_per_1k_tokens(retail.api_model,
                                          output_token_share=retail.output_token_share,
                                          cached_input_share=0.5) * 0.9
    assert costs.scenario_api_usd_per_1k_tokens(cached) == pytest.approx(by_hand, rel=1e-12)
    with pytest.raises(ValueError, match="hosting='rented' is invalid"):
        costs.scenario_gpu_usd_per_hour(retail, "rented")
