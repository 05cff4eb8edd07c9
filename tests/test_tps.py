"""The TPS model: hand-computed formulas, physical properties, calibration, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from buildbuy import data, tps
from buildbuy.tps import calibration

CAL = tps.CALIBRATION
H100 = "H100-SXM"


# ---------------------------------------------------------------- hand-computed formulas

@pytest.mark.parametrize("model,kv,expected", [
    ("llama-3.1-70b", "bf16", 327_680),   # 2 * 80 layers * 8 KV heads * 128 * 2 bytes
    ("llama-3.1-8b", "bf16", 131_072),    # 2 * 32 * 8 * 128 * 2
    ("llama-3.1-405b", "bf16", 516_096),  # 2 * 126 * 8 * 128 * 2
    ("llama-3.1-70b", "fp8", 163_840),
    ("deepseek-v3", "bf16", 70_272),      # MLA: 61 layers * (512 + 64) * 2
])
def test_kv_bytes_per_token(model, kv, expected):
    assert tps.kv_bytes_per_token(model, kv) == expected


def test_weight_bytes():
    assert tps.weight_bytes("llama-3.1-70b", "bf16") == pytest.approx(141.1e9)
    assert tps.weight_bytes("llama-3.1-70b", "fp8") == pytest.approx(70.55e9)
    # int4: 4 bits + a 16-bit scale and zero per 128 weights = 4.25 bits
    assert tps.weight_bytes("llama-3.1-8b", "int4") == pytest.approx(8.03e9 * 4.25 / 8)


def test_streamed_params_skip_the_embedding_table():
    # the shared measurement counts 7.505 B weights read per 8B decode step
    assert tps.streamed_params("llama-3.1-8b") / 1e9 == pytest.approx(7.505, abs=0.001)
    assert tps.streamed_params("qwen2.5-32b") / 1e9 == pytest.approx(31.985, abs=0.005)


def test_moe_streams_only_the_routed_experts():
    m = data.get_model("mixtral-8x7b")
    emb = m.vocab_size * m.hidden_size
    one = tps.streamed_params(m, tokens=1)
    assert one == pytest.approx(m.active_params_b * 1e9 - emb, rel=1e-9)
    # many tokens touch all 8 experts: every weight but the embedding table
    many = tps.streamed_params(m, tokens=10_000)
    assert many == pytest.approx(m.total_params_b * 1e9 - emb, rel=1e-6)
    # two tokens: expected distinct experts 8 * (1 - (6/8)**2) = 3.5
    per_expert = (m.total_params_b - m.active_params_b) * 1e9 / 6
    assert tps.streamed_params(m, tokens=2) - one == pytest.approx(1.5 * per_expert)


def test_weight_streaming_floor_of_the_8b_on_an_h100():
    # 7.505e9 weights * 2 bytes over 3.35 TB/s = 4.48 ms: no step can beat it
    floor_ms = 7.505e9 * 2 / 3.35e12 * 1e3
    assert floor_ms == pytest.approx(4.481, abs=0.001)
    est = tps.decode("llama-3.1-8b", H100, batch=1, context=0)
    assert est.step_ms > floor_ms
    assert est.roofline_ms["memory_ms"] == pytest.approx(
        floor_ms / CAL.bandwidth_efficiency, rel=1e-3)


def test_decode_step_by_hand():
    """Batch 1, context 512: every term of the documented formula, computed here."""
    m = data.get_model("llama-3.1-8b")
    bw = CAL.bandwidth_efficiency * 3.35e12
    fl = CAL.decode_flops_efficiency * 989e12
    w = 7.505e9 * 2 / bw * 1e3
    lin = 2 * 7.505e9 / fl * 1e3
    kv = 512 * 131_072 / bw * 1e3
    attn = 4 * 512 * 32 * 128 * 32 / fl * 1e3
    p = CAL.roofline_sharpness
    blend = (w**p + lin**p) ** (1 / p) + (kv**p + attn**p) ** (1 / p)
    overhead = CAL.step_overhead_ms + m.n_layers * CAL.layer_overhead_ms
    est = tps.decode(m, H100, batch=1, context=512)
    assert est.step_ms == pytest.approx(blend + overhead, rel=1e-3)
    assert sum(est.breakdown_ms.values()) == pytest.approx(est.step_ms)
    assert est.tokens_per_s == pytest.approx(1000 / est.step_ms)


def test_prefill_flops_by_hand():
    # 2 * P * 2048 + 2 * 2048**2 * 32 heads * 128 * 32 layers, P = 8.03e9 - embedding
    p = 8.03e9 - 128_256 * 4096
    flops = 2 * p * 2048 + 2 * 2048**2 * 32 * 128 * 32
    est = tps.prefill("llama-3.1-8b", H100, batch=1, prompt_tokens=2048)
    assert est.roofline_ms["compute_ms"] == pytest.approx(
        flops / (CAL.prefill_flops_efficiency * 989e12) * 1e3, rel=1e-6)
    assert est.bound == "compute"
    assert est.tokens_per_s == pytest.approx(2048 / est.step_ms * 1e3)


def test_allreduce_cost_by_hand():
    """TP=2 adds 2 all-reduces per layer: alpha(2) + 2(N-1)/N * bytes / (eta(2) * link)."""
    one = tps.decode("llama-3.1-8b", H100, batch=8, context=0, tensor_parallel=2)
    msg = 8 * 4096 * 2
    alpha_ms = 0.0146 + 1 * 0.00282
    expected = 2 * 32 * (alpha_ms + 2 * 1 / 2 * msg / (0.639 * 450e9) * 1e3)
    assert one.breakdown_ms["interconnect_ms"] == pytest.approx(expected)


def test_allreduce_eight_gpus_by_hand():
    """405B at TP8, 402 tokens: 13.2 MB per all-reduce, 252 of them per step."""
    est = tps.decode("llama-3.1-405b", H100, batch=402, context=0, tensor_parallel=8,
                     precision="fp8")
    msg = 402 * 16384 * 2
    one_ms = 0.0146 + 7 * 0.00282 + 2 * 7 / 8 * msg / (0.817 * 450e9) * 1e3
    assert one_ms == pytest.approx(0.0970, abs=1e-4)
    assert est.breakdown_ms["interconnect_ms"] == pytest.approx(2 * 126 * one_ms)


def test_prompt_tokens_in_a_decode_step_run_at_the_prefill_rate():
    """Chunked prefill: c prompt tokens add 2P c / F_prefill and their attention at ctx/2,
    the attention at ``prefill_attention_share`` of the prefill rate (fitted: 0.18)."""
    kw = dict(batch=64, context=1024)
    a = tps.decode("llama-3.1-8b", H100, **kw)
    b = tps.decode("llama-3.1-8b", H100, prefill_tokens=256, **kw)
    f_dec = CAL.decode_flops_efficiency * 989e12
    f_pre = CAL.prefill_flops_efficiency * 989e12
    p = 8.03e9 - 128_256 * 4096
    attn_per_ctx_token = 4 * 32 * 128 * 32
    share = CAL.prefill_attention_share
    assert share == pytest.approx(0.178)
    extra_ms = (2 * p * 256 / f_pre + attn_per_ctx_token * 256 * 1024 / 2 / (f_pre * share)) * 1e3
    assert b.roofline_ms["compute_ms"] - a.roofline_ms["compute_ms"] == pytest.approx(extra_ms)
    # at the decode rate the same work would take 10% less time: 0.628 vs 0.699 of peak
    assert f_pre < f_dec
    # and the prompt tokens stream no extra weights of a dense model
    assert b.roofline_ms["memory_ms"] == pytest.approx(a.roofline_ms["memory_ms"])


def test_tensor_parallel_scaling_matches_databricks_within_10pct():
    """Held-out: Llama-2-70B batch 1, 8 vs 4 A100-40GB took 0.70x the time (Databricks 2023)."""
    def step(tp: int) -> float:
        return tps.decode("llama-2-70b", "A100-40GB", batch=1, context=512,
                          tensor_parallel=tp).step_ms
    assert step(8) / step(4) == pytest.approx(0.70, rel=0.10)


def test_max_batch_by_hand():
    usable = 80 * 2**30 / 1e9 * 0.9
    free = usable - 16.06
    assert tps.max_batch("llama-3.1-8b", H100, context=4096) == int(free // (4096 * 131_072
                                                                              / 1e9))


# ------------------------------------------------------------------------- properties

def test_larger_batch_more_tokens_per_gpu_fewer_per_user():
    df = tps.throughput_curve("llama-3.1-8b", H100, context=2048)
    assert df["batch"].is_monotonic_increasing
    assert np.all(np.diff(df["tokens_per_s"]) > 0)
    assert np.all(np.diff(df["tokens_per_s_per_user"]) < 0)
    assert df["tokens_per_s"].iloc[-1] > 10 * df["tokens_per_s"].iloc[0]


@pytest.mark.parametrize("batch", [1, 16, 48])
@pytest.mark.parametrize("context", [0, 2048, 8192])
def test_more_bandwidth_never_slows_decode(batch, context):
    g = data.get_gpu(H100)
    times = [tps.decode("llama-3.1-8b", dataclasses.replace(g, bandwidth_tbps=bw),
                        batch=batch, context=context).step_ms
             for bw in (1.0, 2.0, 3.35, 5.0, 8.0)]
    assert np.all(np.diff(times) <= 0)


def test_more_flops_never_slows_prefill():
    g = data.get_gpu(H100)
    times = [tps.prefill("llama-3.1-8b", dataclasses.replace(g, bf16_dense_tflops=f),
                         batch=1, prompt_tokens=1024).step_ms for f in (300, 600, 989, 2000)]
    assert np.all(np.diff(times) < 0)


def test_lower_precision_is_faster_at_small_batch():
    t = {p: tps.decode("llama-3.1-8b", H100, batch=1, context=512, precision=p).step_ms
         for p in tps.PRECISIONS}
    assert t["int4"] < t["fp8"] < t["bf16"]


def test_fp8_kv_halves_kv_time():
    a = tps.decode("llama-3.1-8b", H100, batch=32, context=8192, kv_precision="bf16")
    b = tps.decode("llama-3.1-8b", H100, batch=32, context=8192, kv_precision="fp8")
    assert b.roofline_ms["memory_ms"] < a.roofline_ms["memory_ms"]
    assert b.kv_cache_gb_per_gpu == pytest.approx(a.kv_cache_gb_per_gpu / 2)


def test_tensor_parallel_splits_a_model_that_does_not_fit():
    with pytest.raises(ValueError, match="tensor_parallel=2 fits"):
        tps.decode("llama-3.1-70b", H100, batch=1, context=1024)
    est = tps.decode("llama-3.1-70b", H100, batch=1, context=1024, tensor_parallel=2)
    assert est.n_gpus == 2 and est.breakdown_ms["interconnect_ms"] > 0
    faster = tps.decode("llama-3.1-70b", H100, batch=1, context=1024, tensor_parallel=4)
    assert faster.step_ms < est.step_ms


def test_large_batch_turns_compute_bound():
    est = tps.decode("llama-3.1-8b", H100, batch=512, context=0)
    assert est.roofline_ms["compute_ms"] > est.roofline_ms["memory_ms"]


def test_naive_engine_is_host_bound_as_measured():
    est = tps.decode("llama-3.1-8b", H100, batch=1, context=512, engine="naive")
    assert est.bound == "host_overhead"
    assert est.step_ms == pytest.approx(32 * CAL.naive_host_ms_per_layer)
    measured = data.load_table("measured_naive_generate").query("gpu == 'H100-SXM'")
    assert est.step_ms == pytest.approx(measured.decode_step_ms.mean(), rel=0.01)


def test_eager_is_between_optimized_and_naive():
    kw = dict(batch=1, context=2048)
    opt, eager, naive = (tps.decode("llama-3.1-8b", H100, engine=e, **kw).step_ms
                         for e in ("optimized", "eager", "naive"))
    assert opt < eager < naive


# ------------------------------------------------------------------------ calibration

def test_calibration_is_reproducible():
    assert calibration.fit() == CAL


def test_calibration_fits_the_h100_measurements():
    errs = []
    for r in data.load_table("measured_decode").itertuples():
        est = tps.decode(r.model, H100, batch=int(r.batch), context=int(r.context))
        errs.append(abs(est.step_ms / r.step_ms - 1))
    assert np.median(errs) < 0.02 and np.max(errs) < 0.05


def test_calibrated_bandwidth_agrees_with_the_measured_copy_ceiling():
    ceil = data.load_table("measured_ceilings").set_index("gpu")
    for gpu in ("H100-SXM", "H200"):
        modelled = CAL.bandwidth_efficiency * data.get_gpu(gpu).bandwidth_tbps
        assert modelled == pytest.approx(ceil.loc[gpu, "copy_tbps_read_plus_write"], rel=0.03)


# --------------------------------------------------------------------- serving helpers

def test_request_latency_adds_up():
    lat = tps.request_latency("llama-3.1-8b", H100, batch=16, prompt_tokens=512,
                              output_tokens=100)
    assert lat.e2e_ms == pytest.approx(lat.ttft_ms + 99 * lat.tpot_ms)
    assert lat.ttft_ms == pytest.approx(
        tps.prefill("llama-3.1-8b", H100, batch=1, prompt_tokens=512).step_ms)


def test_serving_point_balances_prompts_and_outputs():
    pt = tps.serving_point("llama-3.1-8b", H100, batch=64, prompt_tokens=1000,
                           output_tokens=250)
    assert pt.tokens_per_s == pytest.approx(pt.output_tokens_per_s * 1250 / 250)
    assert pt.output_tokens_per_s == pytest.approx(64 / pt.ms_per_output_token * 1e3)
    plain = tps.decode("llama-3.1-8b", H100, batch=64, context=1125)
    assert pt.ms_per_output_token > plain.step_ms  # prompt chunks cost compute


def test_size_fleet_meets_load_and_latency():
    f = tps.size_fleet("llama-3.1-70b", H100, peak_tokens_per_s=20_000, prompt_tokens=1000,
                       output_tokens=250, max_ms_per_output_token=30)
    assert f.ms_per_output_token <= 30
    assert f.n_gpus == f.replicas * f.tensor_parallel
    assert f.tokens_per_s_per_gpu * f.n_gpus >= 20_000
    assert 0 < f.utilisation <= 1
    looser = tps.size_fleet("llama-3.1-70b", H100, peak_tokens_per_s=20_000,
                            prompt_tokens=1000, output_tokens=250, max_ms_per_output_token=80)
    assert looser.n_gpus <= f.n_gpus


def test_size_fleet_impossible_target():
    with pytest.raises(ValueError, match=r"max_ms_per_output_token=1.0 is invalid: must be >="):
        tps.size_fleet("llama-3.1-8b", H100, peak_tokens_per_s=1000, prompt_tokens=100,
                       output_tokens=100, max_ms_per_output_token=1.0)


# ------------------------------------------------------------------------- bad input

def test_weights_that_do_not_fit_say_how_much_and_what_helps():
    with pytest.raises(ValueError) as info:
        tps.decode("llama-3.1-70b", "L4", batch=1, context=512)
    msg = str(info.value)
    assert msg.startswith("gpu='L4' is invalid")
    assert "141.1 GB per GPU" in msg and "23.2 GB usable" in msg
    assert "tensor_parallel=8 fits" in msg
    assert "lower precision (fp8 70.5 GB, int4 37.5 GB per GPU)" in msg


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(batch=0, context=512), r"batch=0 is invalid: must be a whole number >= 1"),
    (dict(batch=1.5, context=512), r"batch=1.5 is invalid"),
    (dict(batch=1, context=-1), r"context=-1 is invalid: must be a whole number >= 0"),
    (dict(batch=1, context=200_000), r"context=200000 is invalid: .*131072"),
    (dict(batch=1, context=512, precision="fp16"),
     r"precision='fp16' is invalid: must be one of 'bf16', 'fp8', 'int4'; did you mean"),
    (dict(batch=1, context=512, kv_precision="int4"), r"kv_precision='int4' is invalid"),
    (dict(batch=1, context=512, engine="vllm"), r"engine='vllm' is invalid"),
    (dict(batch=1, context=512, tensor_parallel=3),
     r"tensor_parallel=3 is invalid: must be a divisor of llama-3.1-8b's 32"),
    (dict(batch=1, context=512, tensor_parallel=0), r"tensor_parallel=0 is invalid"),
    (dict(batch=4096, context=8192), r"batch=4096 is invalid: must be <= \d+ for 8192 tokens"),
])
def test_decode_rejects_bad_input(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        tps.decode("llama-3.1-8b", H100, **kwargs)


def test_prefill_rejects_bad_input():
    with pytest.raises(ValueError, match=r"prompt_tokens=0 is invalid"):
        tps.prefill("llama-3.1-8b", H100, batch=1, prompt_tokens=0)
    with pytest.raises(ValueError, match=r"model='llama-9b' is invalid.*close matches"):
        tps.prefill("llama-9b", H100, batch=1, prompt_tokens=10)


def test_serving_rejects_bad_input():
    with pytest.raises(ValueError, match=r"output_tokens=0 is invalid"):
        tps.request_latency("llama-3.1-8b", H100, batch=1, prompt_tokens=10, output_tokens=0)
    with pytest.raises(ValueError, match=r"output_tokens=40000 is invalid"):
        tps.serving_point("qwen2.5-32b", H100, batch=1, prompt_tokens=100,
                          output_tokens=40_000)
    with pytest.raises(ValueError, match=r"peak_tokens_per_s=-5 is invalid"):
        tps.size_fleet("llama-3.1-8b", H100, peak_tokens_per_s=-5, prompt_tokens=10,
                       output_tokens=10)
    with pytest.raises(ValueError, match=r"batches=.* is invalid"):
        tps.throughput_curve("llama-3.1-8b", H100, context=10, batches=[1, 0])


def test_streamed_params_rejects_zero_tokens():
    with pytest.raises(ValueError, match=r"tokens=0 is invalid"):
        tps.streamed_params("mixtral-8x7b", tokens=0)


@pytest.mark.parametrize("bench_id", ["ft13b-decode-tp1", "ft13b-decode-tp2",
                                      "llmperf-8b-a10g-c1"])
def test_held_out_decode_steps_stay_within_ten_percent(bench_id):
    """Regression guard on data the model was not fitted on (benchmarks/bench_accuracy.py)."""
    r = data.load_table("published_benchmarks").set_index("id").loc[bench_id]
    est = tps.decode(r.model, r.gpu, batch=int(r.batch), context=int(r.context_tokens),
                     tensor_parallel=int(r.tensor_parallel), precision=r.precision)
    assert est.step_ms == pytest.approx(r.step_ms, rel=0.10)
