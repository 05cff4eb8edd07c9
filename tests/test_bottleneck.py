"""The five-way bottleneck audit."""

from __future__ import annotations

import math

import pytest

from buildbuy import bottleneck, data, tps


def test_audit_names_binding_and_headroom():
    a = bottleneck.audit({"compute": 9000, "memory_bandwidth": 4500, "network_io": 1e6,
                          "cpu_overhead": 20000, "api_rate_limit": math.inf})
    assert a.binding == "memory_bandwidth"
    assert a.ceiling_tokens_per_s == 4500
    assert a.next_binding == "compute"
    assert a.headroom == pytest.approx(2.0)
    assert list(a.table.kind) == ["memory_bandwidth", "compute", "cpu_overhead",
                                  "network_io", "api_rate_limit"]
    assert list(a.table.times_binding)[:3] == pytest.approx([1.0, 2.0, 20000 / 4500])
    assert "memory_bandwidth at 4,500 tokens/s" in str(a)


def test_single_ceiling_has_infinite_headroom():
    a = bottleneck.audit({"api_rate_limit": 1000})
    assert a.next_binding is None and math.isinf(a.headroom)


@pytest.mark.parametrize("ceilings,pattern", [
    ({}, r"ceilings_tokens_per_s=\{\} is invalid"),
    ({"gpu": 10}, r"ceilings_tokens_per_s key='gpu' is invalid: must be one of"),
    ({"memory": 10}, r"did you mean 'memory_bandwidth'"),
    ({"compute": 0}, r"ceilings_tokens_per_s\['compute'\]=0 is invalid"),
    ({"compute": -5}, r"ceilings_tokens_per_s\['compute'\]=-5 is invalid"),
    ({"compute": math.inf}, r"at least one finite ceiling"),
])
def test_audit_bad_input(ceilings, pattern):
    with pytest.raises(ValueError, match=pattern):
        bottleneck.audit(ceilings)


def test_naive_generate_is_cpu_bound_as_measured():
    c = bottleneck.pipeline_ceilings("llama-3.1-8b", "H100-SXM", batch=1, prompt_tokens=512,
                                     output_tokens=128, engine="naive")
    a = bottleneck.audit(c)
    assert a.binding == "cpu_overhead"
    measured = data.load_table("measured_naive_generate").query(
        "gpu == 'H100-SXM' and batch == 1").tokens_per_s.iloc[0]
    assert a.ceiling_tokens_per_s == pytest.approx(measured, rel=0.05)
    assert a.next_binding == "memory_bandwidth" and a.headroom > 5


def test_optimized_engine_large_batch_is_memory_or_compute_bound():
    c = bottleneck.pipeline_ceilings("llama-3.1-8b", "H100-SXM", batch=256, prompt_tokens=512,
                                     output_tokens=128)
    assert bottleneck.audit(c).binding in ("memory_bandwidth", "compute")
    est = tps.decode("llama-3.1-8b", "H100-SXM", batch=256, context=512 + 64)
    assert c["memory_bandwidth"] == pytest.approx(256 / est.roofline_ms["memory_ms"] * 1e3)
    assert c["compute"] == pytest.approx(256 / est.roofline_ms["compute_ms"] * 1e3)


def test_network_cpu_and_rate_limit_ceilings_by_hand():
    c = bottleneck.pipeline_ceilings(
        "llama-3.1-8b", "H100-SXM", batch=64, prompt_tokens=600, output_tokens=200,
        cpu_ms_per_request=40, cpu_workers=4, network_mbps=10, network_ms_per_request=100,
        api_tokens_per_minute=1.2e6)
    # network: 10 Mb/s = 1.25 MB/s over (800 tokens * 4 bytes) = 390.6 req/s * 200 tokens;
    # 64 connections * 10 req/s each * 200 = 128,000: the bandwidth limit binds
    assert c["network_io"] == pytest.approx(1.25e6 / 3200 * 200)
    # rate limit: 1.2M tokens/min = 20,000 tokens/s, a quarter of them output
    assert c["api_rate_limit"] == pytest.approx(20_000 * 200 / 800)
    est = tps.decode("llama-3.1-8b", "H100-SXM", batch=64, context=700)
    per_token_ms = est.breakdown_ms["overhead_ms"] / 64 + 40 / 200 / 4
    assert c["cpu_overhead"] == pytest.approx(1e3 / per_token_ms)
    assert bottleneck.audit(c).binding == "api_rate_limit"  # 5,000 output tokens/s


def test_pipeline_bad_input():
    with pytest.raises(ValueError, match=r"cpu_ms_per_request=-1 is invalid"):
        bottleneck.pipeline_ceilings("llama-3.1-8b", "H100-SXM", batch=1, prompt_tokens=10,
                                     output_tokens=10, cpu_ms_per_request=-1)
    with pytest.raises(ValueError, match=r"network_mbps=0 is invalid"):
        bottleneck.pipeline_ceilings("llama-3.1-8b", "H100-SXM", batch=1, prompt_tokens=10,
                                     output_tokens=10, network_mbps=0)
    with pytest.raises(ValueError, match=r"engine='hf' is invalid"):
        bottleneck.pipeline_ceilings("llama-3.1-8b", "H100-SXM", batch=1, prompt_tokens=10,
                                     output_tokens=10, engine="hf")
