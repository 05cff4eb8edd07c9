"""Accuracy of the TPS model against measured and published numbers.

Prints the median and 90th-percentile absolute % error of the modelled decode-step and
prefill times, separately for

- the calibration set: the H100 SXM measurements the constants were fitted on;
- the held-out set: other GPUs (A100, H200), other model shapes (13B GPT), tensor
  parallelism and the naive ``generate()`` loop on the H200 — nothing here was fitted.

Then, for context and outside the target: time to first token (client-measured, includes
server overhead the model leaves out), tensor-parallel latency ratios, the inter-token latency
of a loaded vLLM server, and saturated serving throughput (TensorRT-LLM ``trtllm-bench``, 60
runs over ten prompt/output lengths), which test the serving view in :mod:`buildbuy.tps.serving`.

Every multi-GPU check is printed twice, side by side: ``model`` with the current constants
and ``previous`` with the all-reduce of the first version (a flat 16 us plus the full NVLink
line rate, :data:`PREVIOUS_COMM`), so the effect of the NCCL-based all-reduce is visible in
one run.

Run: ``.venv/bin/python benchmarks/run_all.py accuracy``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from buildbuy import data, tps
from buildbuy.tps.calibration import CALIBRATION, Calibration

TARGET_MEDIAN_PCT = 10.0
TARGET_P90_PCT = 20.0
#: The first version's all-reduce: 16 us per all-reduce and the full line rate.
PREVIOUS_COMM = dataclasses.replace(CALIBRATION, allreduce_latency_ms=0.016,
                                    allreduce_latency_per_peer_ms=0.0,
                                    allreduce_bus_efficiency=((2, 1.0), (8, 1.0)))


def _err_pct(pred: float, meas: float) -> float:
    return 100.0 * (pred / meas - 1.0)


def calibration_rows() -> pd.DataFrame:
    """Modelled against measured step times on the H100 (the fitted set)."""
    rows = []
    for r in data.load_table("measured_decode").itertuples():
        est = tps.decode(r.model, r.gpu, batch=int(r.batch), context=int(r.context))
        rows.append(("decode", f"{r.model} b={r.batch} ctx={r.context}", r.step_ms,
                     est.step_ms))
    for r in data.load_table("measured_prefill").itertuples():
        est = tps.prefill(r.model, r.gpu, batch=int(r.batch), prompt_tokens=int(r.prompt_tokens))
        rows.append(("prefill", f"{r.model} b={r.batch} prompt={r.prompt_tokens}", r.step_ms,
                     est.step_ms))
    for r in data.load_table("measured_naive_generate").itertuples():
        if r.gpu != "H100-SXM":
            continue
        est = tps.decode(r.model, r.gpu, batch=int(r.batch), context=int(r.prompt_tokens),
                         engine="naive")
        rows.append(("decode", f"{r.model} generate() b={r.batch}", r.decode_step_ms,
                     est.step_ms))
    return _frame(rows)


def held_out_rows(cal: Calibration = CALIBRATION) -> pd.DataFrame:
    """Step times nothing was fitted on: other GPUs, shapes, TP, the H200 host loop."""
    rows = []
    bench = data.load_table("published_benchmarks")
    for r in bench[bench.kind.isin(["decode_step", "prefill"])].itertuples():
        kw = dict(batch=int(r.batch), tensor_parallel=int(r.tensor_parallel),
                  precision=r.precision, kv_precision=r.kv_precision, calibration=cal)
        if r.kind == "decode_step":
            est = tps.decode(r.model, r.gpu, context=int(r.context_tokens), **kw)
            phase = "decode"
        else:
            est = tps.prefill(r.model, r.gpu, prompt_tokens=int(r.prompt_tokens), **kw)
            phase = "prefill"
        rows.append((phase, f"{r.id} ({r.gpu}, tp={int(r.tensor_parallel)})", r.step_ms,
                     est.step_ms))
    for r in data.load_table("measured_naive_generate").itertuples():
        if r.gpu == "H100-SXM":
            continue
        est = tps.decode(r.model, r.gpu, batch=int(r.batch), context=int(r.prompt_tokens),
                         engine="naive", calibration=cal)
        rows.append(("host_loop", f"{r.model} generate() b={r.batch} ({r.gpu})",
                     r.decode_step_ms, est.step_ms))
    return _frame(rows)


def ttft_rows(cal: Calibration = CALIBRATION) -> pd.DataFrame:
    """Client-measured time to first token against the modelled prefill pass."""
    rows = []
    bench = data.load_table("published_benchmarks")
    for r in bench[bench.kind == "ttft"].itertuples():
        est = tps.prefill(r.model, r.gpu, batch=int(r.batch), prompt_tokens=int(r.prompt_tokens),
                          tensor_parallel=int(r.tensor_parallel), precision=r.precision,
                          calibration=cal)
        rows.append(("ttft", f"{r.id}", r.step_ms, est.step_ms))
    return _frame(rows)


def serving_load_rows(cal: Calibration = CALIBRATION) -> pd.DataFrame:
    """Mean inter-token latency of a loaded server against :func:`tps.serving_point`."""
    rows = []
    bench = data.load_table("published_benchmarks")
    for r in bench[bench.kind == "serving_load"].itertuples():
        pt = tps.serving_point(r.model, r.gpu, batch=int(r.batch),
                               prompt_tokens=int(r.prompt_tokens),
                               output_tokens=int(r.output_tokens), precision=r.precision,
                               kv_precision=r.kv_precision,
                               tensor_parallel=int(r.tensor_parallel), calibration=cal)
        rows.append(("serving_load", f"{r.id} (batch {int(r.batch)})", r.step_ms,
                     pt.ms_per_output_token))
    return _frame(rows)


#: TensorRT-LLM LLM-API defaults (``tensorrt_llm/llmapi/llm_args.py``: ``max_batch_size=2048``,
#: ``max_num_tokens=8192``), which ``trtllm-bench`` runs under unless told otherwise.
ENGINE_MAX_BATCH = 2048
ENGINE_MAX_TOKENS_PER_STEP = 8192


def engine_batch(memory_batch: int, prompt_tokens: int, output_tokens: int) -> int:
    """Sequences a TensorRT-LLM replica runs at once: memory, batch and token-budget limits.

    A step carries one token per running sequence plus, on average, ``prompt / output``
    prompt tokens per sequence, and the engine caps the tokens of a step at 8,192.

    >>> engine_batch(4129, 128, 128), engine_batch(485, 128, 2048), engine_batch(900, 2048, 128)
    (2048, 485, 481)
    """
    budget = int(ENGINE_MAX_TOKENS_PER_STEP // (1 + prompt_tokens / output_tokens))
    return min(memory_batch, ENGINE_MAX_BATCH, budget)


def throughput_rows(cal: Calibration = CALIBRATION) -> pd.DataFrame:
    """Saturated output tokens/s (trtllm-bench) against :func:`tps.serving_point`.

    The batch is the largest whose KV cache fits at full sequence length, within the
    engine's default limits (:func:`engine_batch`). ``phase`` is ``tp1``, ``tp2`` or
    ``tp8``, so the summary splits single- and multi-GPU runs.
    """
    rows = []
    bench = data.load_table("published_benchmarks")
    sat = bench[(bench.kind == "saturated_throughput") & bench.prompt_tokens.notna()
                & bench.output_tokens.notna() & bench.precision.isin(tps.PRECISIONS)]
    for r in sat.itertuples():
        tp = int(r.tensor_parallel)
        prm, out = int(r.prompt_tokens), int(r.output_tokens)
        kw = dict(precision=r.precision, kv_precision=r.kv_precision, tensor_parallel=tp,
                  calibration=cal)
        b = engine_batch(tps.max_batch(r.model, r.gpu, context=prm + out, **kw), prm, out)
        pt = tps.serving_point(r.model, r.gpu, batch=b, prompt_tokens=prm, output_tokens=out,
                               **kw)
        per_group = r.output_tokens_per_s * tp / r.n_gpus
        rows.append((f"tp{tp}", f"{r.id} (batch {b})", per_group, pt.output_tokens_per_s))
    return _frame(rows, value="output_tokens_per_s")


def ratio_rows(cal: Calibration = CALIBRATION) -> pd.DataFrame:
    """Databricks (Oct 2023, TensorRT-LLM) ratios of batch-1 decode latency, Llama-2-70B."""
    def step(gpu: str, tp: int, batch: int = 1) -> float:
        return tps.decode("llama-2-70b", gpu, batch=batch, context=512,
                          tensor_parallel=tp, calibration=cal).step_ms

    rows = [
        ("ratio", "8xA100-40GB / 4xA100-40GB, batch 1 (measured 0.7)", 0.7,
         step("A100-40GB", 8) / step("A100-40GB", 4)),
        ("ratio", "4xH100 / 4xA100-40GB, batch 1 (36% lower)", 0.64,
         step("H100-SXM", 4) / step("A100-40GB", 4)),
        ("ratio", "4xH100 / 4xA100-40GB, batch 16 (52% lower)", 0.48,
         step("H100-SXM", 4, 16) / step("A100-40GB", 4, 16)),
    ]
    return _frame(rows, value="ratio")


def _frame(rows: list[tuple], value: str = "ms") -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["phase", "case", f"measured_{value}",
                                     f"model_{value}"])
    df["error_pct"] = [_err_pct(p, m) for m, p in zip(df.iloc[:, 2], df.iloc[:, 3],
                                                      strict=True)]
    return df


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Median and p90 absolute % error per phase and overall."""
    out = []
    for phase, part in [*df.groupby("phase", sort=False), ("all", df)]:
        err = part["error_pct"].abs().to_numpy()
        out.append({"phase": phase, "n": len(err),
                    "median_abs_pct": float(np.median(err)),
                    "p90_abs_pct": float(np.percentile(err, 90)),
                    "max_abs_pct": float(err.max())})
    return pd.DataFrame(out)


def _print(title: str, df: pd.DataFrame, detail: bool,
           previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Print the rows (with the previous model's error beside them) and the summary."""
    print(f"\n-- {title} --")
    if previous is not None:
        df = df.assign(previous_error_pct=previous["error_pct"].to_numpy())
    if detail:
        print(df.round(2).to_string(index=False))
    s = summary(df)
    if previous is not None:
        before = summary(previous)
        s = s.assign(previous_median=before["median_abs_pct"].to_numpy(),
                     previous_p90=before["p90_abs_pct"].to_numpy(),
                     previous_max=before["max_abs_pct"].to_numpy())
    print(s.round(1).to_string(index=False))
    return s


def main() -> None:
    pd.set_option("display.width", 140)
    print("Calibration constants:", CALIBRATION)
    cal = _print("calibration set: H100 SXM measurements (fitted)", calibration_rows(),
                 detail=False)
    held = _print("held-out set: A100 FasterTransformer 13B (TP1, TP2), A10G vLLM 8B, "
                  "H200 generate() host loop",
                  held_out_rows(), detail=True, previous=held_out_rows(PREVIOUS_COMM))
    ceil = data.load_table("measured_ceilings").set_index("gpu")
    for gpu in ceil.index:
        bw = CALIBRATION.bandwidth_efficiency * data.get_gpu(gpu).bandwidth_tbps
        print(f"   {gpu}: modelled achievable bandwidth {bw:.3f} TB/s vs measured copy "
              f"{ceil.loc[gpu, 'copy_tbps_read_plus_write']:.3f} TB/s "
              f"({_err_pct(bw, ceil.loc[gpu, 'copy_tbps_read_plus_write']):+.1f}%)")
    _print("context only: client-measured TTFT (Databricks) vs modelled prefill; "
           "TTFT adds server/HTTP overhead the model leaves out", ttft_rows(), detail=True,
           previous=ttft_rows(PREVIOUS_COMM))
    _print("context only: Databricks latency ratios (tensor-parallel scaling, GPU swap)",
           ratio_rows(), detail=True, previous=ratio_rows(PREVIOUS_COMM))
    _print("context only: inter-token latency of a loaded server (llmperf, vLLM, A10G)",
           serving_load_rows(), detail=True)
    _print("context only: saturated serving throughput (trtllm-bench, fp8), output tokens/s "
           "per TP group", throughput_rows(), detail=True,
           previous=throughput_rows(PREVIOUS_COMM))
    c_all = cal[cal.phase == "all"].iloc[0]
    print(f"\nSUMMARY step-time abs % error (target median <= {TARGET_MEDIAN_PCT:.0f}, "
          f"p90 <= {TARGET_P90_PCT:.0f} on held-out):")
    print(f"  calibration (H100, fitted): median {c_all.median_abs_pct:.1f}, "
          f"p90 {c_all.p90_abs_pct:.1f} (n={c_all.n})")
    gpu_only = summary(held_out_rows().query("phase != 'host_loop'"))
    for label, s in (("held-out, all rows", held),
                     ("held-out, GPU steps only (no generate() host loop)", gpu_only)):
        row = s[s.phase == "all"].iloc[0]
        ok = row.median_abs_pct <= TARGET_MEDIAN_PCT and row.p90_abs_pct <= TARGET_P90_PCT
        print(f"  {label}: median {row.median_abs_pct:.1f}, p90 {row.p90_abs_pct:.1f} "
              f"(n={row.n}): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
