"""Accuracy of the TPS model against measured and published numbers: the rows and the summary.

Each ``*_rows`` function returns one row per measurement with the modelled and measured value
and the error in %; :func:`summary` gives the median, p90 and max absolute % error per phase.

- :func:`calibration_rows`: the H100 SXM measurements the constants were fitted on;
- :func:`held_out_rows`: other GPUs (A100, A10G, H200), other model shapes, tensor parallelism
  and the naive ``generate()`` loop on the H200 — nothing here was fitted;
- context only: :func:`ttft_rows`, :func:`ratio_rows`, :func:`serving_load_rows`;
- saturated throughput (:func:`buildbuy.tps.max_throughput`) against the published runs of
  ``data/saturated_throughput.csv``: :func:`saturation_rows` (``fit`` or ``held_out``),
  :func:`family_summary` per GPU family, :func:`family_accuracy` for one GPU's family (its
  held-out error and the planning margin fleet sizing applies), :func:`measured_margins`.

``benchmarks/bench_accuracy.py`` prints them (``make bench``); lesson 1 quotes
:func:`summary` of the calibration and held-out rows and
:func:`family_accuracy` for the learner's GPU, so the course and the benchmark show the same
figures.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import data, tps
from buildbuy._validate import choice
from buildbuy.tps.calibration import CALIBRATION, Calibration
from buildbuy.tps.engines import ServingEngine, get_engine
from buildbuy.tps.saturation import SaturatedPoint, max_throughput

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


# --- saturated throughput: the fit and held-out runs of data/saturated_throughput.csv ----

#: TensorRT-LLM's perf overview: "In majority of cases, we also use a higher KV cache
#: percentage by setting --kv_cache_free_gpu_mem_fraction 0.95" (NVIDIA/TensorRT-LLM
#: docs/source/performance/perf-overview.md, 0.15 to 1.0).
BENCHMARK_KV_FRACTION = 0.95
FAMILIES: tuple[str, ...] = data.ARCHITECTURES


def benchmark_engine(name: str) -> ServingEngine:
    """The engine profile a published run used: TensorRT-LLM at 0.95 of free memory, vLLM
    at its defaults (the AMD runs raise ``max_num_seqs`` to the number of prompts)."""
    eng = get_engine(name)
    if eng.name == "trtllm":
        return dataclasses.replace(eng, kv_memory_fraction=BENCHMARK_KV_FRACTION)
    return dataclasses.replace(eng, max_batch=10**6, max_tokens_per_step=16384)


def predict_saturated_run(run: Any, cal: Calibration = CALIBRATION) -> SaturatedPoint:
    """Model one row of ``data/saturated_throughput.csv`` with the conditions it ran under."""
    return max_throughput(
        run.model, run.gpu, prompt_tokens=int(run.prompt_tokens),
        output_tokens=int(run.output_tokens), precision=run.precision,
        kv_precision=run.kv_precision, tensor_parallel=int(run.tensor_parallel),
        serving_engine=benchmark_engine(run.engine), num_requests=int(run.num_requests),
        calibration=cal)


def saturation_rows(split: str | None = None, cal: Calibration = CALIBRATION) -> pd.DataFrame:
    """Modelled against measured saturated output tokens/s, one row per published run.

    ``split`` is ``"fit"``, ``"held_out"`` or ``None`` (both). Columns: ``id``, ``split``,
    ``family`` (GPU architecture), ``gpu``, ``model``, ``precision``, ``tensor_parallel``,
    ``prompt_tokens``, ``output_tokens``, ``measured_output_tokens_per_s``,
    ``model_output_tokens_per_s``, ``error_pct`` (positive = the model is optimistic),
    ``batch``, ``batch_limited_by``, ``bound``.
    """
    runs = data.load_table("saturated_throughput")
    if split is not None:
        runs = runs[runs.split == choice("split", split, ("fit", "held_out"))]
    rows = []
    for r in runs.itertuples():
        p = predict_saturated_run(r, cal)
        rows.append({
            "id": r.id, "split": r.split, "family": data.get_gpu(r.gpu).architecture,
            "gpu": r.gpu, "model": r.model, "precision": r.precision,
            "tensor_parallel": int(r.tensor_parallel), "prompt_tokens": int(r.prompt_tokens),
            "output_tokens": int(r.output_tokens),
            "measured_output_tokens_per_s": float(r.output_tokens_per_s),
            "model_output_tokens_per_s": p.output_tokens_per_s,
            "error_pct": err_pct(p.output_tokens_per_s, r.output_tokens_per_s),
            "batch": p.batch, "batch_limited_by": p.batch_limited_by, "bound": p.bound})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FamilyAccuracy:
    """How far saturated throughput is off for one GPU family, on runs it was not fitted to.

    ``median_error_pct`` is signed (positive = optimistic); ``meets_target`` is median
    absolute error <= 10% and p90 <= 20%. ``margin_share`` is what fleet sizing divides
    capacity by (``1 + margin_share``): 0 where the target is met, else the 90th
    percentile of the signed held-out error (never below 0); a family with no held-out
    run gets the p90 absolute error of all held-out runs. ``note`` says which case applies.
    """

    family: str
    n_held_out: int
    median_error_pct: float
    median_abs_pct: float
    p90_abs_pct: float
    meets_target: bool
    margin_share: float
    note: str


def _family_accuracy(df: pd.DataFrame, family: str) -> FamilyAccuracy:
    part = df[df.family == family]
    if part.empty:
        margin = float(np.percentile(df.error_pct.abs(), 90)) / 100.0
        return FamilyAccuracy(family, 0, float("nan"), float("nan"), float("nan"), False,
                              round(margin, 3),
                              f"no held-out run on {family}: the model uses Hopper's factors "
                              f"and plans with the all-family p90 error, {margin:.0%}")
    err = part.error_pct.to_numpy()
    med_abs, p90 = float(np.median(np.abs(err))), float(np.percentile(np.abs(err), 90))
    ok = med_abs <= TARGET_MEDIAN_PCT and p90 <= TARGET_P90_PCT
    margin = 0.0 if ok else max(0.0, float(np.percentile(err, 90)) / 100.0)
    note = (f"within target on {len(err)} held-out runs" if ok else
            f"misses the target on {len(err)} held-out runs (median {med_abs:.1f}%, p90 "
            f"{p90:.1f}%): plans with a {margin:.0%} margin")
    return FamilyAccuracy(family, len(err), float(np.median(err)), med_abs, p90, ok,
                          round(margin, 3), note)


@functools.cache
def _held_out_default() -> pd.DataFrame:
    return saturation_rows("held_out")


def family_accuracy(gpu: str | data.GPU, cal: Calibration | None = None) -> FamilyAccuracy:
    """Held-out accuracy of saturated throughput for ``gpu``'s family (its architecture).

    Examples
    --------
    >>> fa = family_accuracy("H100-SXM")
    >>> fa.family, fa.meets_target
    ('hopper', True)
    """
    family = data.get_gpu(gpu).architecture
    df = _held_out_default() if cal is None else saturation_rows("held_out", cal)
    return _family_accuracy(df, family)


def family_summary(split: str = "held_out", cal: Calibration = CALIBRATION) -> pd.DataFrame:
    """Median and p90 absolute % error per GPU family (and ``all``) on ``split``'s runs."""
    df = saturation_rows(split, cal).rename(columns={"family": "phase"})
    out = summary(df)
    out.insert(2, "median_signed_pct", [
        float(df.error_pct.median()) if ph == "all" else
        float(df[df.phase == ph].error_pct.median()) for ph in out.phase])
    return out.rename(columns={"phase": "family"})


def measured_margins(cal: Calibration = CALIBRATION) -> dict[str, float]:
    """``margin_share`` of every family, as stored in ``CALIBRATION.family_margin``."""
    df = saturation_rows("held_out", cal)
    return {f: _family_accuracy(df, f).margin_share for f in FAMILIES}
