"""Serving views built on the step model: throughput curve, request latency, fleet size.

Convention
----------
A replica is one tensor-parallel group serving requests of ``prompt_tokens`` in and
``output_tokens`` out with continuous batching and chunked prefill (vLLM, TensorRT-LLM):
``batch`` sequences generate, and each step also processes the prompt tokens of arriving
requests, ``batch * prompt_tokens / output_tokens`` of them on average, so that prompts
arrive as fast as outputs leave. Prompt tokens thus ride along with the weight streaming
of the decode step and cost compute only. While a request generates, its KV cache holds on
average ``prompt_tokens + output_tokens / 2`` tokens; the step is timed at that context::

    step_ms              = decode(batch, context=prompt + output/2,
                                  prefill_tokens=batch * prompt / output).step_ms
    output_tokens_per_s  = batch / step_ms * 1000
    ms_per_output_token  = step_ms            (what one user sees)

Time to first token is the request's own prefill pass on an idle replica (a lower bound:
under load it waits for a slot).

With ``serving_engine`` (``"trtllm"`` or ``"vllm"``, :mod:`buildbuy.tps.engines`) the
replica is the one :func:`~buildbuy.tps.max_throughput` models at saturation: each step
also pays the engine's per-step and per-sequence time
(:func:`~buildbuy.tps.saturation.engine_step_ms`), runs at its architecture's efficiency
(:func:`~buildbuy.tps.saturation.serving_calibration`), and the largest batch is the one the
engine admits into its KV cache. :func:`size_fleet` uses it, so fleet sizing and the
saturated-throughput benchmark share one model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from buildbuy._validate import bad, finite_array, integer, positive
from buildbuy.data import GPU, Model, get_gpu, get_model
from buildbuy.tps.calibration import CALIBRATION, Calibration
from buildbuy.tps.engines import ServingEngine, admitted_batch
from buildbuy.tps.model import decode, max_batch, prefill, usable_memory_gb, weight_bytes
from buildbuy.tps.saturation import engine_step_ms, serving_calibration

__all__ = [
    "Fleet",
    "Latency",
    "ServingPoint",
    "request_latency",
    "serving_point",
    "size_fleet",
    "throughput_curve",
]


@dataclass(frozen=True)
class Latency:
    """Latency of one request: time to first token, time per output token, end to end."""

    ttft_ms: float
    tpot_ms: float
    e2e_ms: float


@dataclass(frozen=True)
class ServingPoint:
    """Steady-state throughput of one replica at one batch size (see module docstring)."""

    batch: int
    tensor_parallel: int
    requests_per_s: float
    output_tokens_per_s: float
    tokens_per_s: float
    ms_per_output_token: float
    ttft_ms: float
    decode_step_ms: float
    prefill_ms: float

    @property
    def tokens_per_s_per_gpu(self) -> float:
        """Prompt plus output tokens per second per GPU."""
        return self.tokens_per_s / self.tensor_parallel

    @property
    def output_tokens_per_s_per_gpu(self) -> float:
        """Output tokens per second per GPU."""
        return self.output_tokens_per_s / self.tensor_parallel


@dataclass(frozen=True)
class Fleet:
    """The cheapest fleet that meets a peak load under a per-user latency target.

    ``tokens_per_s_per_gpu`` and ``output_tokens_per_s_per_gpu`` are the capacity the fleet
    is planned on: the model's estimate divided by ``1 + margin_share``, the measured
    margin of the GPU's family (:func:`buildbuy.tps.accuracy.family_accuracy`; 0 where the
    model meets its accuracy target).
    """

    n_gpus: int
    tensor_parallel: int
    replicas: int
    batch: int
    tokens_per_s_per_gpu: float
    output_tokens_per_s_per_gpu: float
    ms_per_output_token: float
    ttft_ms: float
    utilisation: float
    margin_share: float = 0.0


def throughput_curve(model: str | Model, gpu: str | GPU, *, context: int,
                     batches: list[int] | None = None, precision: str = "bf16",
                     kv_precision: str | None = None, tensor_parallel: int = 1,
                     engine: str = "optimized",
                     calibration: Calibration | None = None) -> pd.DataFrame:
    """Decode throughput per GPU against throughput per user, over batch sizes.

    Parameters
    ----------
    context : int
        Tokens in each sequence's KV cache.
    batches : list of int, optional
        Batch sizes; default powers of two up to :func:`~buildbuy.tps.max_batch`, plus
        that maximum.

    Returns
    -------
    pandas.DataFrame
        Columns ``batch``, ``tokens_per_s`` (whole group), ``tokens_per_s_per_gpu``,
        ``tokens_per_s_per_user``, ``step_ms``, ``bound``.

    Examples
    --------
    >>> df = throughput_curve("llama-3.1-8b", "H100-SXM", context=2048, batches=[1, 64])
    >>> df["tokens_per_s"].is_monotonic_increasing
    True
    """
    kw = dict(precision=precision, kv_precision=kv_precision,
              tensor_parallel=tensor_parallel, calibration=calibration)
    if batches is None:
        top = max_batch(model, gpu, context=max(context, 1), **kw)
        if top < 1:
            raise bad("context", context, "short enough that one sequence's KV cache fits")
        sizes = [2**i for i in range(int(math.log2(top)) + 1)]
        batches = sorted(set([*sizes, top]))
    else:
        arr = finite_array("batches", batches, ndim=1)
        batches = [integer("batches", float(b), minimum=1) for b in arr]
    rows = []
    for b in batches:
        est = decode(model, gpu, batch=b, context=context, engine=engine, **kw)
        rows.append({"batch": b, "tokens_per_s": est.tokens_per_s,
                     "tokens_per_s_per_gpu": est.tokens_per_s_per_gpu,
                     "tokens_per_s_per_user": est.tokens_per_s_per_user,
                     "step_ms": est.step_ms, "bound": est.bound})
    return pd.DataFrame(rows)


def serving_point(model: str | Model, gpu: str | GPU, *, batch: int, prompt_tokens: int,
                  output_tokens: int, precision: str = "bf16", kv_precision: str | None = None,
                  tensor_parallel: int = 1, engine: str = "optimized",
                  calibration: Calibration | None = None,
                  serving_engine: str | ServingEngine | None = None) -> ServingPoint:
    """Steady-state throughput and latency of one replica (convention in the module doc).

    ``serving_engine=None`` (default) times the bare GPU step and checks memory at 90% of
    the board; ``"trtllm"`` / ``"vllm"`` adds the engine's per-step time and checks the
    batch against what that engine admits.

    Examples
    --------
    >>> p = serving_point("llama-3.1-8b", "H100-SXM", batch=64, prompt_tokens=1000,
    ...                   output_tokens=200)
    >>> round(p.ms_per_output_token, 1), round(p.output_tokens_per_s)
    (14.7, 4364)
    """
    m = get_model(model)
    out = integer("output_tokens", output_tokens, minimum=1)
    prm = integer("prompt_tokens", prompt_tokens, minimum=1)
    b = integer("batch", batch, minimum=1)
    if prm + out > m.max_context:
        raise bad("output_tokens", output_tokens,
                  f"<= {m.max_context - prm} so that prompt + output fit {m.name}'s "
                  f"{m.max_context}-token context")
    kw = dict(precision=precision, kv_precision=kv_precision,
              tensor_parallel=tensor_parallel, engine=engine, calibration=calibration)
    host_ms = 0.0
    if serving_engine is None:
        # the KV cache must hold every sequence at full length; the step is timed at the mean
        decode(model, gpu, batch=b, context=prm + out, **kw)
    else:
        top = admitted_batch(m, gpu, prompt_tokens=prm, output_tokens=out, precision=precision,
                             kv_precision=kv_precision, tensor_parallel=tensor_parallel,
                             serving_engine=serving_engine).batch
        if b > top:
            raise bad("batch", batch, f"<= {top}, the sequences of {prm} + {out} tokens the "
                      f"serving engine admits on {get_gpu(gpu).name} at "
                      f"tensor_parallel={tensor_parallel}")
        host_ms = engine_step_ms(b, m.n_layers, calibration)
        kw["calibration"] = serving_calibration(gpu, calibration)
    chunk = round(b * prm / out)
    d = decode(model, gpu, batch=b, context=prm + out // 2, prefill_tokens=chunk,
               check_memory=serving_engine is None, **kw)
    p = prefill(model, gpu, batch=1, prompt_tokens=prm, **kw)
    step = d.step_ms + host_ms
    out_rate = b / step * 1e3
    return ServingPoint(
        batch=b, tensor_parallel=d.tensor_parallel, requests_per_s=out_rate / out,
        output_tokens_per_s=out_rate, tokens_per_s=out_rate * (out + prm) / out,
        ms_per_output_token=step, ttft_ms=p.step_ms + host_ms,
        decode_step_ms=step, prefill_ms=p.step_ms)


def request_latency(model: str | Model, gpu: str | GPU, *, batch: int, prompt_tokens: int,
                    output_tokens: int, precision: str = "bf16",
                    kv_precision: str | None = None, tensor_parallel: int = 1,
                    engine: str = "optimized",
                    calibration: Calibration | None = None,
                    serving_engine: str | ServingEngine | None = None) -> Latency:
    """Time to first token, time per output token and end-to-end latency of a request.

    ``ttft_ms`` is the request's own prefill pass (server side: no network, queueing or
    tokenisation); ``tpot_ms`` the per-user time per output token at ``batch`` concurrent
    sequences (:func:`serving_point`); ``e2e_ms = ttft_ms + (output_tokens - 1) * tpot_ms``.

    Examples
    --------
    >>> lat = request_latency("llama-3.1-8b", "H100-SXM", batch=1, prompt_tokens=512,
    ...                       output_tokens=128)
    >>> round(lat.ttft_ms, 1), round(lat.tpot_ms, 2), round(lat.e2e_ms)
    (14.6, 6.69, 864)
    """
    pt = serving_point(model, gpu, batch=batch, prompt_tokens=prompt_tokens,
                       output_tokens=output_tokens, precision=precision,
                       kv_precision=kv_precision, tensor_parallel=tensor_parallel,
                       engine=engine, calibration=calibration, serving_engine=serving_engine)
    tpot = pt.ms_per_output_token
    return Latency(ttft_ms=pt.ttft_ms, tpot_ms=tpot,
                   e2e_ms=pt.ttft_ms + (int(output_tokens) - 1) * tpot)


def size_fleet(model: str | Model, gpu: str | GPU, *, peak_tokens_per_s: float,
               prompt_tokens: int, output_tokens: int, max_ms_per_output_token: float = 30.0,
               precision: str = "bf16", kv_precision: str | None = None,
               tensor_parallel: int | None = None, engine: str = "optimized",
               calibration: Calibration | None = None,
               serving_engine: str | ServingEngine | None = "trtllm",
               apply_margin: bool = True) -> Fleet:
    """Fewest GPUs that serve ``peak_tokens_per_s`` within a per-user latency target.

    Parameters
    ----------
    peak_tokens_per_s : float
        Prompt plus output tokens per second the fleet must process at peak.
    prompt_tokens, output_tokens : int
        Mean tokens in and out per request.
    max_ms_per_output_token : float
        Per-user time per output token not to exceed (30 ms is about 33 tokens/s, faster
        than people read).
    tensor_parallel : int, optional
        Fix the group size; default tries 1, 2, 4 and 8 and keeps the cheapest.
    serving_engine : {"trtllm", "vllm"}, ServingEngine or None
        The engine whose memory policy, admission and per-step time the replica has (the
        machinery of :func:`~buildbuy.tps.max_throughput`); ``None``: the bare GPU step,
        memory at 90% of the board.
    apply_margin : bool
        Divide each replica's modelled capacity by ``1 + margin_share``, the measured
        margin of the GPU's family where the model misses its accuracy target (default).

    Returns
    -------
    Fleet
        For each group size, the batch with the highest throughput per GPU that meets the
        target (powers of two and the largest batch that fits, then bisection between the
        last power of two that meets the target and the first that misses it); then
        ``replicas = ceil(peak / planned per-replica throughput)``. Ties go to the smaller
        group.

    Examples
    --------
    >>> f = size_fleet("llama-3.1-70b", "H100-SXM", peak_tokens_per_s=20000,
    ...                prompt_tokens=1000, output_tokens=250)
    >>> f.n_gpus, f.tensor_parallel, f.batch, f.margin_share
    (16, 4, 32, 0.0)
    """
    cal = calibration or CALIBRATION
    peak = positive("peak_tokens_per_s", peak_tokens_per_s)
    target = positive("max_ms_per_output_token", max_ms_per_output_token)
    m, g = get_model(model), get_gpu(gpu)
    prm = integer("prompt_tokens", prompt_tokens, minimum=1)
    out = integer("output_tokens", output_tokens, minimum=1)
    if tensor_parallel is None:
        groups = [d for d in (1, 2, 4, 8) if m.n_heads % d == 0]
    else:
        groups = [integer("tensor_parallel", tensor_parallel, minimum=1, maximum=64)]
    margin = cal.margin_for(g.architecture) if apply_margin else 0.0
    kw = dict(precision=precision, kv_precision=kv_precision, engine=engine, calibration=cal,
              serving_engine=serving_engine)
    best: Fleet | None = None
    fastest = math.inf
    for tp in groups:
        if tensor_parallel is None and \
                weight_bytes(m, precision) / tp / 1e9 > usable_memory_gb(g, cal):
            continue
        top = _largest_batch(m, g, prm, out, precision, kv_precision, tp, cal, serving_engine)
        if top < 1:
            continue
        sizes = sorted({*[2**i for i in range(int(math.log2(top)) + 1)], top})
        chosen, over = None, None
        for b in sizes:
            pt = serving_point(m, g, batch=b, prompt_tokens=prm, output_tokens=out,
                               tensor_parallel=tp, **kw)
            fastest = min(fastest, pt.ms_per_output_token)
            if pt.ms_per_output_token <= target:
                if chosen is None or pt.tokens_per_s > chosen.tokens_per_s:
                    chosen = pt
            elif over is None and chosen is not None and b > chosen.batch:
                over = b
        if chosen is None:
            continue
        # the step time grows with the batch: bisect between the largest power of two that
        # meets the target and the first that misses it
        lo, hi = chosen.batch, over
        while hi is not None and hi - lo > 1:
            mid = (lo + hi) // 2
            pt = serving_point(m, g, batch=mid, prompt_tokens=prm, output_tokens=out,
                               tensor_parallel=tp, **kw)
            if pt.ms_per_output_token <= target:
                lo = mid
                if pt.tokens_per_s > chosen.tokens_per_s:
                    chosen = pt
            else:
                hi = mid
        capacity = chosen.tokens_per_s / (1.0 + margin)
        replicas = math.ceil(peak / capacity - 1e-12)
        fleet = Fleet(
            n_gpus=replicas * tp, tensor_parallel=tp, replicas=replicas, batch=chosen.batch,
            tokens_per_s_per_gpu=capacity / tp,
            output_tokens_per_s_per_gpu=chosen.output_tokens_per_s_per_gpu / (1.0 + margin),
            ms_per_output_token=chosen.ms_per_output_token, ttft_ms=chosen.ttft_ms,
            utilisation=peak / (replicas * capacity), margin_share=margin)
        if best is None or fleet.n_gpus < best.n_gpus:
            best = fleet
    if best is None:
        if math.isinf(fastest):
            raise bad("gpu", g.name, f"a GPU on which {m.name} in {precision} fits with "
                      f"tensor_parallel in {groups}")
        raise bad("max_ms_per_output_token", max_ms_per_output_token,
                  f">= {fastest:.1f} ms, the fastest {m.name} achieves on {g.name} "
                  f"with tensor_parallel in {groups}")
    return best


def _largest_batch(m: Model, g: GPU, prm: int, out: int, precision: str,
                   kv_precision: str | None, tp: int, cal: Calibration,
                   serving_engine: str | ServingEngine | None) -> int:
    """The largest batch to search: what the engine admits, or what fits at 90% of the board."""
    if serving_engine is None:
        return max_batch(m, g, context=prm + out, tensor_parallel=tp, precision=precision,
                         kv_precision=kv_precision, calibration=cal)
    try:
        return admitted_batch(m, g, prompt_tokens=prm, output_tokens=out, precision=precision,
                              kv_precision=kv_precision, tensor_parallel=tp,
                              serving_engine=serving_engine).batch
    except ValueError:  # the weights or one sequence do not fit this group size
        return 0
