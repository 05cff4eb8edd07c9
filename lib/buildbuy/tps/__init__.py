"""Analytical inference performance: how many tokens per second a model gives on a GPU.

A calibrated roofline: datasheet bandwidth and FLOP/s times achievable-efficiency factors,
fixed per-step and per-layer overheads, tensor-parallel all-reduces, GQA-aware KV reads,
mixtures of experts through active parameters, bf16/fp8/int4 weights. Fitted once on real
H100 measurements (:mod:`buildbuy.tps.calibration`) and checked on held-out GPUs and
models (``benchmarks/bench_accuracy.py``; ``docs/tps_model.md``).

Examples
--------
>>> from buildbuy import tps
>>> est = tps.decode("llama-3.1-8b", "H100-SXM", batch=32, context=2048)
>>> est.bound
'memory_bandwidth'
"""

from buildbuy.tps.calibration import CALIBRATION, Calibration
from buildbuy.tps.model import (
    BOUNDS,
    BYTES_PER_WEIGHT,
    ENGINES,
    KV_BYTES,
    PRECISIONS,
    Estimate,
    decode,
    kv_bytes_per_token,
    max_batch,
    prefill,
    streamed_params,
    usable_memory_gb,
    weight_bytes,
)
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
    "KV_BYTES",
    "PRECISIONS",
    "Calibration",
    "Estimate",
    "Fleet",
    "Latency",
    "ServingPoint",
    "decode",
    "kv_bytes_per_token",
    "max_batch",
    "prefill",
    "request_latency",
    "serving_point",
    "size_fleet",
    "streamed_params",
    "throughput_curve",
    "usable_memory_gb",
    "weight_bytes",
]
