"""Accuracy of the TPS model against measured and published numbers: the rows and the summary.

Each ``*_rows`` function returns one row per measurement with the modelled and measured value
and the error in %; :func:`summary` gives the median, p90 and max absolute % error per phase.

- :func:`calibration_rows`: the H100 SXM measurements the constants were fitted on;
- :func:`held_out_rows`: other GPUs (A100, A10G, H200), other model shapes, tensor parallelism
  and the naive ``generate()`` loop on the H200 — nothing here was fitted;
- context only: :func:`ttft_rows`, :func:`ratio_rows`, :func:`serving_load_rows`,
  :func:`throughput_rows` (saturated TensorRT-LLM serving throughput).

``benchmarks/bench_accuracy.py`` prints them (``make bench``); lesson 1 quotes
:func:`summary` of the calibration and held-out rows, so the course and the benchmark
show the same figures.
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


def err_pct(pred: float, meas: float) -> float:
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
    df["error_pct"] = [err_pct(p, m) for m, p in zip(df.iloc[:, 2], df.iloc[:, 3],
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
