"""Analytical inference performance: how many tokens per second a model gives on a GPU.

A calibrated roofline: datasheet bandwidth and FLOP/s times achievable-efficiency factors
(per GPU architecture), fixed per-step and per-layer overheads, tensor-parallel all-reduces
over NVLink or PCIe, GQA-aware KV reads, mixtures of experts through active parameters,
bf16/fp8/int4 weights. The step is fitted on real H100 measurements
(:mod:`buildbuy.tps.calibration`); serving at saturation (:func:`max_throughput`, engine
memory and admission in :mod:`buildbuy.tps.engines`) on published benchmark runs
(:mod:`buildbuy.tps.saturation_fit`), and checked on runs held out from that fit
(:mod:`buildbuy.tps.accuracy`, ``benchmarks/bench_accuracy.py``; ``docs/tps_model.md``).

Examples
--------
>>> from buildbuy import tps
>>> est = tps.decode("llama-3.1-8b", "H100-SXM", batch=32, context=2048)
>>> est.bound
'memory_bandwidth'
"""

from buildbuy.tps.calibration import CALIBRATION, Calibration
from buildbuy.tps.engines import ENGINE_PROFILES, ServingEngine, admitted_batch, kv_pool_gb
from buildbuy.tps.model import (
    BOUNDS,
    BYTES_PER_WEIGHT,
    ENGINES,
    KV_BYTES,
    PRECISIONS,
    Estimate,
    achievable_rates,
    decode,
    kv_bytes_per_token,
    max_batch,
    prefill,
    streamed_params,
    usable_memory_gb,
    weight_bytes,
)
from buildbuy.tps.saturation import SaturatedPoint, max_throughput
from buildbuy.tps.serving import (
    Fleet,
    Latency,
    ServingPoint,
    request_latency,
    serving_point,
    size_fleet,
    throughput_curve,
)

__all__ = [
    "BOUNDS",
    "BYTES_PER_WEIGHT",
    "CALIBRATION",
    "ENGINES",
    "ENGINE_PROFILES",
    "KV_BYTES",
    "PRECISIONS",
    "Calibration",
    "Estimate",
    "Fleet",
    "Latency",
    "SaturatedPoint",
    "ServingEngine",
    "ServingPoint",
    "achievable_rates",
    "admitted_batch",
    "decode",
    "kv_bytes_per_token",
    "kv_pool_gb",
    "max_batch",
    "max_throughput",
    "prefill",
    "request_latency",
    "serving_point",
    "size_fleet",
    "streamed_params",
    "throughput_curve",
    "usable_memory_gb",
    "weight_bytes",
]
