"""Saturated throughput: engine memory and admission, waves, PCIe, architectures, accuracy."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from buildbuy import data, tps
from buildbuy.tps import accuracy, engines, saturation, saturation_fit
from buildbuy.tps.comm import allreduce_ms

CAL = tps.CALIBRATION
BOARD_80 = 80 * 2**30 / 1e9          # an "80 GB" board holds 80 GiB


# ------------------------------------------------------------ engine memory and admission

def test_kv_pool_by_hand():
    """70B bf16 over 2 A100s: 70.55 GB of weights per GPU leave little for the KV cache."""
    trt = 0.90 * (0.99 * BOARD_80 - 141.1 / 2 - 3.5)          # 0.9 of what is free
    vllm = 0.90 * BOARD_80 - 141.1 / 2 - 3.5                   # 0.9 of the board, all in
    kw = dict(tensor_parallel=2)
    assert tps.kv_pool_gb("llama-3.1-70b", "A100-80GB", **kw) == pytest.approx(trt)
    assert tps.kv_pool_gb("llama-3.1-70b", "A100-80GB", serving_engine="vllm", **kw) == \
        pytest.approx(vllm)
    assert trt == pytest.approx(9.891, abs=1e-3) and vllm == pytest.approx(3.259, abs=1e-3)


def test_admission_reserves_the_full_sequence_or_pages_what_is_held():
    kw = dict(prompt_tokens=128, output_tokens=2048, tensor_parallel=2)
    per_token = 327_680 / 2                                    # bf16 KV, 4 of 8 heads per GPU
    trt = tps.admitted_batch("llama-3.1-70b", "A100-80GB", **kw)
    assert trt.batch == int(9.891317e9 / per_token // (128 + 2048)) == 27
    assert trt.limited_by == "kv_cache"
    vllm = tps.admitted_batch("llama-3.1-70b", "A100-80GB", serving_engine="vllm", **kw)
    assert vllm.held_tokens_per_sequence == 128 + 1024
    assert vllm.batch == int(3.259317e9 / per_token // 1152) == 17


def test_trtllm_bench_caps_by_hand():
    assert engines.trtllm_bench_caps(5000, 128, 128) == (4096, 8192)      # capped at 4,096
    assert engines.trtllm_bench_caps(40, 20000, 2000) == (64, 2048)       # floors 64 / 2,048
    # 300 requests: rounded up to a multiple of 128 = 384; 600 tokens < 4,096: at least 2,048
    assert engines.trtllm_bench_caps(300, 1000, 1000) == (384, 2048)
    # 1,500 requests of 128/2048: 1,536; 1,593.75 tokens -> 2,048
    assert engines.trtllm_bench_caps(1500, 128, 2048) == (1536, 2048)
    # 5,000 requests of 1000/1000 (capped at 4,096): 8,192 tokens -> 1,024 x 8
    assert engines.trtllm_bench_caps(5000, 1000, 1000) == (4096, 8192)


def test_engine_caps_and_requests_can_bind():
    small = tps.admitted_batch("llama-3.1-8b", "H200", prompt_tokens=128, output_tokens=128,
                               precision="fp8")
    assert small.limited_by == "max_batch" and small.batch == 4096
    few = tps.admitted_batch("llama-3.1-8b", "H200", prompt_tokens=128, output_tokens=128,
                             precision="fp8", num_requests=100)
    assert (few.batch, few.limited_by) == (100, "requests")


def test_admission_errors_name_the_field():
    with pytest.raises(ValueError, match=r"gpu='L40S' is invalid: must be a GPU group with "
                                         r"room for llama-3.1-70b's KV cache"):
        tps.kv_pool_gb("llama-3.1-70b", "L40S", precision="fp8")
    with pytest.raises(ValueError, match=r"serving_engine='tgi' is invalid"):
        tps.max_throughput("llama-3.1-8b", "H100-SXM", prompt_tokens=10, output_tokens=10,
                           serving_engine="tgi")
    with pytest.raises(ValueError, match=r"prompt_tokens=120000 is invalid: must be short "
                                         r"enough that one sequence"):
        tps.admitted_batch("llama-3.1-70b", "A100-80GB", prompt_tokens=120_000,
                           output_tokens=1000, tensor_parallel=2)


# ------------------------------------------------------------------- the saturated point

def test_wave_efficiency_by_hand():
    assert saturation.wave_efficiency(3000, 1000, 10.0, 5.0) == 1.0           # whole waves
    # 2 full waves of 10 ms steps and one of 500 requests at 6 ms: 2500 x 10 / (1000 x 26)
    assert saturation.wave_efficiency(2500, 1000, 10.0, 6.0) == pytest.approx(25 / 26)
    assert saturation.wave_efficiency(None, 7, 1.0, 1.0) == 1.0


def test_max_throughput_by_hand():
    """Steady state: batch / (decode step with the prompts riding along + engine time)."""
    kw = dict(prompt_tokens=1000, output_tokens=1000, precision="fp8")
    p = tps.max_throughput("llama-3.1-8b", "H100-SXM", **kw)
    adm = tps.admitted_batch("llama-3.1-8b", "H100-SXM", **kw)
    est = tps.decode("llama-3.1-8b", "H100-SXM", batch=adm.batch, context=1500,
                     prefill_tokens=adm.batch, precision="fp8", check_memory=False)
    engine = 32 * (CAL.engine_layer_ms + adm.batch * CAL.engine_sequence_layer_ms)
    assert p.batch == adm.batch
    assert p.step_ms == pytest.approx(est.step_ms + engine)
    assert p.output_tokens_per_s == pytest.approx(adm.batch / (est.step_ms + engine) * 1e3)
    assert p.tokens_per_s == pytest.approx(2 * p.output_tokens_per_s)
    assert p.margin_share == 0.0 and p.planning_output_tokens_per_s == p.output_tokens_per_s


def test_fleet_sizing_and_max_throughput_share_one_model():
    """At the batch the engine admits, serving_point (what size_fleet uses) and
    max_throughput give the same step and the same throughput."""
    kw = dict(prompt_tokens=500, output_tokens=2000, tensor_parallel=4)
    p = tps.max_throughput("llama-3.1-70b", "H100-SXM", **kw)
    sp = tps.serving_point("llama-3.1-70b", "H100-SXM", batch=p.batch,
                           serving_engine="trtllm", **kw)
    assert sp.ms_per_output_token == pytest.approx(p.step_ms)
    assert sp.output_tokens_per_s == pytest.approx(p.output_tokens_per_s)
    with pytest.raises(ValueError, match=r"batch=.* is invalid: must be <= "):
        tps.serving_point("llama-3.1-70b", "H100-SXM", batch=p.batch + 1,
                          serving_engine="trtllm", **kw)


def test_a_finite_run_ends_with_a_part_full_wave():
    kw = dict(prompt_tokens=128, output_tokens=2048, precision="fp8")
    steady = tps.max_throughput("llama-3.1-8b", "H100-SXM", **kw)
    run = tps.max_throughput("llama-3.1-8b", "H100-SXM", num_requests=3000, **kw)
    assert run.output_tokens_per_s < steady.output_tokens_per_s
    k, r = divmod(3000, steady.batch)
    tail = tps.max_throughput("llama-3.1-8b", "H100-SXM", num_requests=r, **kw).step_ms
    eff = 3000 * steady.step_ms / (steady.batch * (k * steady.step_ms + tail))
    assert run.output_tokens_per_s == pytest.approx(steady.output_tokens_per_s * eff)


def test_paged_admission_pays_for_preemption_only_when_it_overcommits():
    roomy = tps.max_throughput("llama-3.1-8b", "MI300X", prompt_tokens=128,
                               output_tokens=128, precision="fp8", serving_engine="vllm")
    assert roomy.batch_limited_by == "max_batch"            # 1,024 sequences, plenty of KV
    tight = tps.max_throughput("llama-3.1-70b", "A100-80GB", prompt_tokens=128,
                               output_tokens=2048, tensor_parallel=2, serving_engine="vllm")
    # 17 sequences admitted at 1,152 held tokens outgrow the 19,892-token pool at 2,176:
    # 1 - 19,892 / (17 x 2,176) = 46% are preempted once and recompute 1,152 / 2,176 of a run
    over = 1 - 19_892 / (17 * 2176)
    sp = tps.serving_point("llama-3.1-70b", "A100-80GB", batch=17, prompt_tokens=128,
                           output_tokens=2048, tensor_parallel=2, serving_engine="vllm")
    expected = sp.output_tokens_per_s / (1 + over * 1152 / 2176)
    assert tight.output_tokens_per_s == pytest.approx(expected, rel=2e-3)


# --------------------------------------------------------- interconnect and architectures

def test_pcie_all_reduce_by_hand():
    l40s = data.get_gpu("L40S")
    assert l40s.interconnect_kind == "pcie"
    msg = 1_000_000
    alpha = np.interp(4, (2, 8), (CAL.pcie_latency_ms, CAL.pcie_latency_8_ms))
    expected = alpha + 2 * 3 / 4 * msg / (CAL.pcie_bus_efficiency * 32e9) * 1e3
    assert allreduce_ms(l40s, 4, msg) == pytest.approx(expected)
    # the same message over NVLink (H100) is an order of magnitude cheaper
    assert allreduce_ms(data.get_gpu("H100-SXM"), 4, msg) < expected / 5


def test_served_replicas_run_at_their_architectures_efficiency():
    """Bare steps keep the H100-fitted shares on every GPU; served by an engine, the shares
    are scaled per architecture (Hopper and the unmeasured Blackwell stay at 1)."""
    a100 = tps.achievable_rates("A100-80GB")
    assert a100["bandwidth"] == pytest.approx(CAL.bandwidth_efficiency * 2.039e12)
    bw, fl = CAL.scale_for("ampere")
    served = saturation.serving_calibration("A100-80GB")
    assert served.bandwidth_efficiency == pytest.approx(CAL.bandwidth_efficiency * bw)
    assert served.prefill_flops_efficiency == pytest.approx(CAL.prefill_flops_efficiency * fl)
    assert saturation.serving_calibration("H100-SXM") is CAL
    assert CAL.scale_for("blackwell") == (1.0, 1.0)
    fp8 = tps.achievable_rates("L40S", "fp8", saturation.serving_calibration("L40S"))
    bw, fl = CAL.scale_for("ada")
    assert fp8["decode_flops"] == pytest.approx(
        CAL.decode_flops_efficiency * fl * 733e12 * CAL.fp8_flops_share)
    # a served step on an A100 is the bare step under the scaled calibration, plus the engine
    sp = tps.serving_point("llama-3.1-8b", "A100-80GB", batch=32, prompt_tokens=500,
                           output_tokens=500, serving_engine="trtllm")
    bare = tps.decode("llama-3.1-8b", "A100-80GB", batch=32, context=750, prefill_tokens=32,
                      calibration=served, check_memory=False)
    assert sp.ms_per_output_token == pytest.approx(
        bare.step_ms + saturation.engine_step_ms(32, 32))


def test_bad_architecture_is_rejected():
    g = data.get_gpu("H100-SXM")
    with pytest.raises(ValueError, match=r"architecture='volta' is invalid"):
        dataclasses.replace(g, architecture="volta")


# ------------------------------------------------------------- margins and fleet sizing

def test_size_fleet_plans_on_the_family_margin():
    kw = dict(peak_tokens_per_s=50_000, prompt_tokens=1000, output_tokens=250)
    margin = CAL.margin_for("ampere")
    assert margin == accuracy.family_accuracy("A100-80GB").margin_share > 0
    planned = tps.size_fleet("llama-3.1-8b", "A100-80GB", **kw)
    raw = tps.size_fleet("llama-3.1-8b", "A100-80GB", apply_margin=False, **kw)
    assert planned.margin_share == margin and raw.margin_share == 0.0
    assert planned.tokens_per_s_per_gpu == pytest.approx(raw.tokens_per_s_per_gpu / (1 + margin))
    assert planned.n_gpus == math.ceil(50_000 / (planned.tokens_per_s_per_gpu
                                                 * planned.tensor_parallel)) \
        * planned.tensor_parallel
    assert planned.n_gpus >= raw.n_gpus


def test_size_fleet_bisects_to_the_largest_batch_within_the_target():
    f = tps.size_fleet("llama-3.1-8b", "H100-SXM", peak_tokens_per_s=10_000,
                       prompt_tokens=360, output_tokens=40, max_ms_per_output_token=20.0)
    kw = dict(prompt_tokens=360, output_tokens=40, serving_engine="trtllm")
    at = tps.serving_point("llama-3.1-8b", "H100-SXM", batch=f.batch, **kw)
    above = tps.serving_point("llama-3.1-8b", "H100-SXM", batch=f.batch + 1, **kw)
    assert at.ms_per_output_token <= 20.0 < above.ms_per_output_token
    assert f.batch & (f.batch - 1) != 0                        # not a power of two


# ----------------------------------------------------------------------- accuracy

def test_held_out_saturated_throughput_meets_the_target():
    """Issue 17's bar: median |error| <= 10% and p90 <= 20% on runs not fitted to."""
    s = accuracy.family_summary("held_out").set_index("family")
    assert s.loc["all", "n"] == 223
    assert s.loc["all", "median_abs_pct"] <= accuracy.TARGET_MEDIAN_PCT
    assert s.loc["all", "p90_abs_pct"] <= accuracy.TARGET_P90_PCT
    assert {"hopper", "ampere", "ada", "cdna3"} <= set(s.index)
    assert accuracy.family_accuracy("H200").meets_target


def test_h100_step_time_accuracy_is_unchanged():
    s = accuracy.summary(accuracy.calibration_rows()).set_index("phase")
    assert s.loc["all", "median_abs_pct"] <= 3.0


def test_family_without_held_out_runs_plans_with_the_overall_p90():
    fa = accuracy.family_accuracy("B200")
    held = accuracy.saturation_rows("held_out")
    assert fa.n_held_out == 0 and not fa.meets_target
    assert fa.margin_share == pytest.approx(np.percentile(held.error_pct.abs(), 90) / 100,
                                            abs=5e-4)
    assert "no held-out run on blackwell" in fa.note


def test_stored_margins_are_the_measured_ones():
    assert accuracy.measured_margins() == dict(CAL.family_margin)


def test_serving_constants_are_reproducible():
    """Re-fit on the fit runs (about 20 s) and compare with the stored CALIBRATION."""
    fitted = saturation_fit.fit_serving()
    stored = {"engine_layer_ms": CAL.engine_layer_ms,
              "engine_sequence_layer_ms": CAL.engine_sequence_layer_ms,
              "fp8_flops_share": CAL.fp8_flops_share, "moe_efficiency": CAL.moe_efficiency,
              "prefill_attention_share": CAL.prefill_attention_share,
              "ampere_bandwidth": CAL.scale_for("ampere")[0],
              "ampere_flops": CAL.scale_for("ampere")[1],
              "ada_bandwidth": CAL.scale_for("ada")[0], "ada_flops": CAL.scale_for("ada")[1],
              "cdna3": CAL.scale_for("cdna3")[0],
              "pcie_bus_efficiency": CAL.pcie_bus_efficiency,
              "pcie_latency_ms": CAL.pcie_latency_ms,
              "pcie_latency_8_ms": CAL.pcie_latency_8_ms}
    assert fitted == pytest.approx(stored, rel=2e-3)
