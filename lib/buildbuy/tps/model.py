"""One decode step and one prefill pass, timed from datasheet figures (a calibrated roofline).

Convention
----------
A *decode step* produces one new token for each of ``batch`` sequences, each of which
already holds ``context`` tokens in its KV cache. A *prefill pass* reads ``prompt_tokens``
tokens for each of ``batch`` sequences and fills their KV caches. Both run on one
tensor-parallel group of ``tensor_parallel`` GPUs; ``tokens_per_s`` is for the whole group.

Time of a decode step (per GPU of the group)::

    step = overhead + blend(weight_bytes / BW, linear_flops / F)
                    + blend(kv_bytes / BW,     attention_flops / F) + all_reduce

with ``BW = bandwidth_efficiency * datasheet bandwidth``, ``F = flops_efficiency * dense
peak`` at the precision's rate, ``blend(m, c) = (m**p + c**p)**(1/p)`` (a softened
``max``: the roofline), ``overhead = step_overhead_ms + n_layers * layer_overhead_ms`` and
two ring all-reduces per layer under tensor parallelism. Weight bytes count what one step
streams: the embedding table is only indexed, a mixture of experts streams its shared
weights plus the experts that the batch's tokens actually route to. The constants are in
:mod:`buildbuy.tps.calibration`.

Precision: ``bf16`` weights are 2 bytes, ``fp8`` 1 byte (math at the FP8 rate where the
GPU has FP8 tensor cores, else at the bf16 rate), ``int4`` 0.53125 bytes (4 bits plus a
16-bit scale and zero point per group of 128, AWQ/GPTQ style; math at the bf16 rate).
The KV cache is ``bf16`` (2 bytes) or ``fp8`` (1 byte).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from buildbuy._validate import bad, choice, integer
from buildbuy.data import GPU, Model, get_gpu, get_model
from buildbuy.tps.calibration import CALIBRATION, Calibration
from buildbuy.tps.comm import allreduce_ms

__all__ = [
    "BOUNDS",
    "BYTES_PER_WEIGHT",
    "ENGINES",
    "KV_BYTES",
    "PRECISIONS",
    "Estimate",
    "achievable_rates",
    "decode",
    "kv_bytes_per_token",
    "max_batch",
    "prefill",
    "streamed_params",
    "weight_bytes",
]

#: Bytes per weight for each weight precision.
BYTES_PER_WEIGHT: dict[str, float] = {"bf16": 2.0, "fp8": 1.0, "int4": 0.5 + 4.0 / 128}
PRECISIONS: tuple[str, ...] = tuple(BYTES_PER_WEIGHT)
#: Bytes per KV-cache element.
KV_BYTES: dict[str, float] = {"bf16": 2.0, "fp8": 1.0}
ENGINES: tuple[str, ...] = ("optimized", "eager", "naive")
BOUNDS: tuple[str, ...] = ("memory_bandwidth", "compute", "host_overhead", "interconnect")
_ACT_BYTES = 2.0  # activations travel between GPUs in bf16


@dataclass(frozen=True)
class Estimate:
    """The modelled time of one decode step or prefill pass.

    Attributes
    ----------
    step_ms : float
        Wall time of the step.
    tokens_per_s : float
        Tokens per second of the whole tensor-parallel group (decode: new tokens; prefill:
        prompt tokens processed).
    tokens_per_s_per_user : float
        Tokens per second one sequence sees (decode: ``1000 / step_ms``).
    bound : str
        The largest share of the step: ``"memory_bandwidth"`` (weights + KV reads),
        ``"compute"``, ``"host_overhead"`` (fixed per-step costs, launches, Python) or
        ``"interconnect"`` (tensor-parallel all-reduces).
    breakdown_ms : dict
        ``weights_ms``, ``kv_cache_ms``, ``compute_ms``, ``overhead_ms``,
        ``interconnect_ms``, ``host_wait_ms``; they add up to ``step_ms``. Where memory
        and compute overlap, the blended time is shared between them in proportion.
    roofline_ms : dict
        The two roofline legs before blending: ``memory_ms`` (weights + KV at the
        achievable bandwidth) and ``compute_ms`` (all FLOPs at the achievable FLOP/s).
    """

    phase: str
    model: str
    gpu: str
    batch: int
    tokens: int
    tensor_parallel: int
    precision: str
    kv_precision: str
    engine: str
    step_ms: float
    tokens_per_s: float
    tokens_per_s_per_user: float
    bound: str
    breakdown_ms: dict[str, float] = field(default_factory=dict)
    roofline_ms: dict[str, float] = field(default_factory=dict)
    weight_gb_per_gpu: float = 0.0
    kv_cache_gb_per_gpu: float = 0.0
    usable_memory_gb_per_gpu: float = 0.0

    @property
    def n_gpus(self) -> int:
        """GPUs in the tensor-parallel group."""
        return self.tensor_parallel

    @property
    def tokens_per_s_per_gpu(self) -> float:
        """``tokens_per_s`` divided by the GPUs of the group."""
        return self.tokens_per_s / self.tensor_parallel


def kv_bytes_per_token(model: str | Model, kv_precision: str = "bf16") -> int:
    """KV-cache bytes one token occupies, over all layers (grouped-query aware).

    ``2 * n_layers * n_kv_heads * head_dim * bytes`` (a key and a value per KV head); for
    multi-head latent attention ``n_layers * mla_kv_dim * bytes``.

    Examples
    --------
    >>> kv_bytes_per_token("llama-3.1-70b")
    327680
    >>> kv_bytes_per_token("llama-3.1-8b", "fp8")
    65536
    """
    m = get_model(model)
    b = KV_BYTES[choice("kv_precision", kv_precision, tuple(KV_BYTES))]
    if m.mla_kv_dim:
        return int(m.n_layers * m.mla_kv_dim * b)
    return int(2 * m.n_layers * m.n_kv_heads * m.head_dim * b)


def weight_bytes(model: str | Model, precision: str = "bf16") -> float:
    """Bytes of all weights (every expert of a mixture) at ``precision``.

    Examples
    --------
    >>> weight_bytes("llama-3.1-8b") / 1e9
    16.06
    """
    m = get_model(model)
    return m.total_params_b * 1e9 * BYTES_PER_WEIGHT[choice("precision", precision, PRECISIONS)]


def _embedding_params(m: Model) -> float:
    """Parameters of the input embedding that a step only indexes (0 if tied to the head)."""
    return 0.0 if m.tied_embeddings else float(m.vocab_size * m.hidden_size)


def streamed_params(model: str | Model, tokens: int = 1) -> float:
    """Parameters one forward pass over ``tokens`` tokens reads from memory.

    Dense model: every parameter except the input embedding table. Mixture of experts:
    the shared part plus ``n_experts * (1 - (1 - k/n_experts)**tokens)`` experts, the
    expected number of distinct experts that ``tokens`` tokens routed uniformly to ``k``
    each will touch.

    Examples
    --------
    >>> round(streamed_params("llama-3.1-8b") / 1e9, 3)
    7.505
    """
    m = get_model(model)
    tokens = integer("tokens", tokens, minimum=1)
    if not m.is_moe:
        return m.active_params_b * 1e9 - _embedding_params(m)
    e, k = m.n_experts, m.experts_per_token
    per_expert = (m.total_params_b - m.active_params_b) * 1e9 / (e - k)
    shared = m.active_params_b * 1e9 - k * per_expert
    touched = e * (1.0 - (1.0 - k / e) ** tokens)
    return shared - _embedding_params(m) + per_expert * touched


def _linear_flops_per_token(m: Model) -> float:
    return 2.0 * (m.active_params_b * 1e9 - _embedding_params(m))


def _kv_share_per_gpu(m: Model, tp: int) -> float:
    """Share of the KV cache one GPU holds: KV heads are split, never below one head."""
    if m.mla_kv_dim:
        return 1.0
    return max(1.0 / tp, 1.0 / m.n_kv_heads)


def _peak_flops(gpu: GPU, precision: str, cal: Calibration) -> float:
    """Dense peak FLOP/s the matrix products run at, times the FP8 share where it applies."""
    if precision == "fp8" and gpu.fp8_dense_tflops is not None:
        return gpu.fp8_dense_tflops * 1e12 * cal.fp8_flops_share
    return gpu.bf16_dense_tflops * 1e12


def achievable_rates(gpu: str | GPU, precision: str = "bf16",
                     calibration: Calibration | None = None) -> dict[str, float]:
    """Achievable bandwidth (bytes/s) and FLOP/s of one GPU under ``calibration``.

    ``bandwidth = bandwidth_efficiency x datasheet``; ``decode_flops`` / ``prefill_flops``
    = the FLOP/s shares x the precision's dense peak (FP8 times ``fp8_flops_share``). A
    bare step uses the shares fitted on H100 steps for every GPU; served by an engine,
    :func:`buildbuy.tps.saturation.serving_calibration` scales them per architecture.

    >>> r = achievable_rates("H100-SXM")
    >>> round(r["bandwidth"] / 1e12, 2)
    3.01
    """
    cal = calibration or CALIBRATION
    g = get_gpu(gpu)
    peak = _peak_flops(g, choice("precision", precision, PRECISIONS), cal)
    return {"bandwidth": cal.bandwidth_efficiency * g.bandwidth_tbps * 1e12,
            "decode_flops": cal.decode_flops_efficiency * peak,
            "prefill_flops": cal.prefill_flops_efficiency * peak}


def _blend(mem_ms: float, comp_ms: float, p: float) -> tuple[float, float]:
    """Softened max of memory and compute time, split back into the two shares."""
    if mem_ms <= 0 and comp_ms <= 0:
        return 0.0, 0.0
    a, b = mem_ms**p, comp_ms**p
    total = (a + b) ** (1.0 / p)
    return total * a / (a + b), total * b / (a + b)


def _check_common(model: Any, gpu: Any, precision: str, kv_precision: str | None,
                  tensor_parallel: Any, engine: str) -> tuple[Model, GPU, str, str, int]:
    m, g = get_model(model), get_gpu(gpu)
    precision = choice("precision", precision, PRECISIONS)
    if kv_precision is None:
        kv_precision = "fp8" if precision == "fp8" else "bf16"
    kv_precision = choice("kv_precision", kv_precision, tuple(KV_BYTES))
    choice("engine", engine, ENGINES)
    tp = integer("tensor_parallel", tensor_parallel, minimum=1, maximum=64)
    if m.n_heads % tp:
        divisors = [d for d in range(1, 65) if m.n_heads % d == 0]
        raise bad("tensor_parallel", tensor_parallel,
                  f"a divisor of {m.name}'s {m.n_heads} attention heads: {divisors}")
    return m, g, precision, kv_precision, tp


def usable_memory_gb(gpu: str | GPU, calibration: Calibration | None = None) -> float:
    """GPU memory (10^9 bytes) a serving engine may fill: 90% of the board (vLLM's default).

    Datasheet memory sizes are binary: an "80 GB" H100 holds 80 GiB = 85.9 GB (79.2 GiB
    are visible to CUDA, measured). So usable = ``memory_gb * 2**30 / 1e9 * 0.9``.

    >>> round(usable_memory_gb("H100-SXM"), 1)
    77.3
    """
    cal = calibration or CALIBRATION
    return get_gpu(gpu).memory_gb * 2**30 / 1e9 * cal.memory_utilisation


def _check_weights_fit(m: Model, g: GPU, precision: str, tp: int, cal: Calibration) -> float:
    need = weight_bytes(m, precision) / tp / 1e9
    have = usable_memory_gb(g, cal)
    if need <= have:
        return need
    tps = [d for d in (2, 4, 8, 16, 32, 64)
           if d > tp and m.n_heads % d == 0 and weight_bytes(m, precision) / d / 1e9 <= have]
    split = (f"a larger tensor_parallel (tensor_parallel={tps[0]} fits)" if tps
             else "a larger tensor_parallel")
    lower = [p for p in PRECISIONS if BYTES_PER_WEIGHT[p] < BYTES_PER_WEIGHT[precision]]
    sizes = ", ".join(f"{p} {weight_bytes(m, p) / tp / 1e9:.1f} GB" for p in lower)
    lower_text = f" or a lower precision ({sizes} per GPU)" if lower else ""
    raise bad("gpu", g.name,
              f"a GPU group with room for the weights: {m.name} in {precision} needs "
              f"{need:.1f} GB per GPU at tensor_parallel={tp}, {g.name} has {have:.1f} GB "
              f"usable ({cal.memory_utilisation:.0%} of {g.memory_gb:g} GiB); use "
              f"{split}{lower_text}")


def _kv_gb(m: Model, kv_precision: str, tp: int, sequences: int, tokens: int) -> float:
    per_token = kv_bytes_per_token(m, kv_precision) * _kv_share_per_gpu(m, tp)
    return sequences * tokens * per_token / 1e9


def max_batch(model: str | Model, gpu: str | GPU, *, context: int, precision: str = "bf16",
              kv_precision: str | None = None, tensor_parallel: int = 1,
              calibration: Calibration | None = None) -> int:
    """Largest number of sequences of ``context`` tokens whose KV cache fits beside the weights.

    ``floor((usable memory - weights per GPU) / (context * KV bytes per token per GPU))``,
    usable memory from :func:`usable_memory_gb` (90% of the board). Raises ``ValueError`` when the
    weights alone do not fit.

    Examples
    --------
    >>> max_batch("llama-3.1-8b", "H100-SXM", context=4096)
    114
    """
    cal = calibration or CALIBRATION
    m, g, precision, kv_precision, tp = _check_common(
        model, gpu, precision, kv_precision, tensor_parallel, "optimized")
    ctx = _check_context(m, "context", context, minimum=1)
    weights = _check_weights_fit(m, g, precision, tp, cal)
    per_seq = _kv_gb(m, kv_precision, tp, 1, ctx)
    return int((usable_memory_gb(g, cal) - weights) // per_seq)


def _check_context(m: Model, name: str, value: Any, *, minimum: int) -> int:
    n = integer(name, value, minimum=minimum)
    if n > m.max_context:
        raise bad(name, value, f"a whole number from {minimum} to {m.max_context} "
                  f"({m.name}'s maximum context)")
    return n


def _check_kv_fits(m: Model, g: GPU, kv_precision: str, tp: int, batch: int, tokens: int,
                   weights_gb: float, cal: Calibration, precision: str) -> float:
    kv = _kv_gb(m, kv_precision, tp, batch, tokens)
    free = usable_memory_gb(g, cal) - weights_gb
    if kv > free:
        per_seq = _kv_gb(m, kv_precision, tp, 1, tokens)
        limit = int(free // per_seq)
        raise bad("batch", batch,
                  f"<= {limit} for {tokens} tokens per sequence on {g.name} "
                  f"(tensor_parallel={tp}, {precision} weights, {kv_precision} KV): the KV "
                  f"cache needs {kv:.1f} GB per GPU, {free:.1f} GB are free; use a larger "
                  "tensor_parallel, kv_precision='fp8' or a shorter context")
    return kv


def _finish(phase: str, m: Model, g: GPU, *, batch: int, tokens: int, tp: int, precision: str,
            kv_precision: str, engine: str, parts: dict[str, float], new_tokens: float,
            per_user_tokens: float, weights_gb: float, kv_gb: float,
            roofline: dict[str, float], cal: Calibration) -> Estimate:
    gpu_ms = sum(parts.values())
    host_ms = 0.0
    if engine == "eager":
        host_ms = m.n_layers * cal.eager_host_ms_per_layer
    elif engine == "naive":
        host_ms = m.n_layers * cal.naive_host_ms_per_layer
    parts["host_wait_ms"] = max(0.0, host_ms - gpu_ms)
    step = gpu_ms + parts["host_wait_ms"]
    groups = {
        "memory_bandwidth": parts["weights_ms"] + parts["kv_cache_ms"],
        "compute": parts["compute_ms"],
        "host_overhead": parts["overhead_ms"] + parts["host_wait_ms"],
        "interconnect": parts["interconnect_ms"],
    }
    bound = max(groups, key=lambda k: groups[k])
    return Estimate(
        phase=phase, model=m.name, gpu=g.name, batch=batch, tokens=tokens, tensor_parallel=tp,
        precision=precision, kv_precision=kv_precision, engine=engine, step_ms=step,
        tokens_per_s=new_tokens / step * 1e3, tokens_per_s_per_user=per_user_tokens / step * 1e3,
        bound=bound, breakdown_ms={k: float(v) for k, v in parts.items()},
        roofline_ms={k: float(v) for k, v in roofline.items()},
        weight_gb_per_gpu=weights_gb, kv_cache_gb_per_gpu=kv_gb,
        usable_memory_gb_per_gpu=usable_memory_gb(g, cal),
    )


def decode(model: str | Model, gpu: str | GPU, *, batch: int, context: int,
           precision: str = "bf16", kv_precision: str | None = None, tensor_parallel: int = 1,
           engine: str = "optimized", prefill_tokens: int = 0,
           calibration: Calibration | None = None, check_memory: bool = True) -> Estimate:
    """Time one decode step: ``batch`` sequences, each with ``context`` tokens cached.

    Parameters
    ----------
    model, gpu : str or Model/GPU
        A name from ``data/models.csv`` / ``data/gpus.csv`` or an object.
    batch : int
        Concurrent sequences (>= 1).
    context : int
        Tokens already in each sequence's KV cache (0 to the model's maximum context).
    precision : {"bf16", "fp8", "int4"}
        Weight precision.
    kv_precision : {"bf16", "fp8"} or None
        KV-cache precision; ``None`` means fp8 for fp8 weights, else bf16.
    tensor_parallel : int
        GPUs the model is split over (a divisor of the attention heads).
    engine : {"optimized", "eager", "naive"}
        ``optimized``: CUDA graphs and continuous batching (vLLM, TensorRT-LLM);
        ``eager``: the same kernels issued one by one from Python; ``naive``: Hugging Face
        ``generate()`` in eager mode (~2 ms of host time per layer, measured).
    prefill_tokens : int
        Prompt tokens of other requests processed in the same step (chunked prefill, as
        vLLM and TensorRT-LLM schedule it): they add compute at the prefill share of peak
        FLOP/s (their attention counted at ``context / 2`` tokens back) but stream no
        extra weights. Default 0.
    check_memory : bool
        Raise when the ``batch`` KV caches do not fit beside the weights in 90% of the
        board (default). A serving engine with its own memory policy
        (:mod:`buildbuy.tps.engines`) checks memory itself and passes ``False``.

    Returns
    -------
    Estimate
        ``tokens_per_s`` counts the ``batch`` new tokens only.

    Examples
    --------
    >>> est = decode("llama-3.1-8b", "H100-SXM", batch=1, context=512)
    >>> round(est.step_ms, 1), est.bound
    (6.7, 'memory_bandwidth')
    """
    cal = calibration or CALIBRATION
    m, g, precision, kv_precision, tp = _check_common(
        model, gpu, precision, kv_precision, tensor_parallel, engine)
    b = integer("batch", batch, minimum=1)
    ctx = _check_context(m, "context", context, minimum=0)
    if check_memory:
        weights_gb = _check_weights_fit(m, g, precision, tp, cal)
        kv_gb = _check_kv_fits(m, g, kv_precision, tp, b, max(ctx, 1), weights_gb, cal,
                               precision)
    else:
        weights_gb = weight_bytes(m, precision) / tp / 1e9
        kv_gb = _kv_gb(m, kv_precision, tp, b, max(ctx, 1))

    rates = achievable_rates(g, precision, cal)
    bw, flops = rates["bandwidth"], rates["decode_flops"]
    # prompt tokens riding along run the long matrix products of a prefill pass
    flops_pre = rates["prefill_flops"]
    c = integer("prefill_tokens", prefill_tokens, minimum=0)
    moe = cal.moe_efficiency if m.is_moe else 1.0
    w_ms = streamed_params(m, b + c) * BYTES_PER_WEIGHT[precision] / tp / bw * 1e3 / moe
    lin_ms = _linear_flops_per_token(m) * (b / flops + c / flops_pre) / tp * 1e3 / moe
    kv_read = b * ctx * kv_bytes_per_token(m, kv_precision) * _kv_share_per_gpu(m, tp)
    kv_ms = kv_read / bw * 1e3
    per_token_ctx = 4.0 * m.n_heads * m.head_dim * m.n_layers / tp
    attn_ms = per_token_ctx * (b * ctx / flops
                               + c * ctx / 2 / (flops_pre * cal.prefill_attention_share)) * 1e3
    p = cal.roofline_sharpness
    w_part, lin_part = _blend(w_ms, lin_ms, p)
    kv_part, attn_part = _blend(kv_ms, attn_ms, p)
    comm = 2 * m.n_layers * allreduce_ms(g, tp, (b + c) * m.hidden_size * _ACT_BYTES, cal)
    parts = {
        "weights_ms": w_part, "kv_cache_ms": kv_part, "compute_ms": lin_part + attn_part,
        "overhead_ms": cal.step_overhead_ms + m.n_layers * cal.layer_overhead_ms,
        "interconnect_ms": comm,
    }
    return _finish("decode", m, g, batch=b, tokens=ctx, tp=tp, precision=precision,
                   kv_precision=kv_precision, engine=engine, parts=parts, new_tokens=b,
                   per_user_tokens=1.0, weights_gb=weights_gb, kv_gb=kv_gb,
                   roofline={"memory_ms": w_ms + kv_ms, "compute_ms": lin_ms + attn_ms},
                   cal=cal)


def prefill(model: str | Model, gpu: str | GPU, *, batch: int, prompt_tokens: int,
            precision: str = "bf16", kv_precision: str | None = None,
            tensor_parallel: int = 1, engine: str = "optimized",
            calibration: Calibration | None = None) -> Estimate:
    """Time one prefill pass over ``batch`` prompts of ``prompt_tokens`` tokens each.

    FLOPs are ``2 * P * batch * prompt_tokens`` for the matrix products (``P`` = the
    parameters a token touches, the LM head applied at every position) plus
    ``2 * batch * prompt_tokens**2 * n_heads * head_dim * n_layers`` for causal attention.
    Parameters as in :func:`decode`.

    Examples
    --------
    >>> est = prefill("llama-3.1-8b", "H100-SXM", batch=1, prompt_tokens=2048)
    >>> round(est.step_ms), est.bound
    (53, 'compute')
    """
    cal = calibration or CALIBRATION
    m, g, precision, kv_precision, tp = _check_common(
        model, gpu, precision, kv_precision, tensor_parallel, engine)
    b = integer("batch", batch, minimum=1)
    s = _check_context(m, "prompt_tokens", prompt_tokens, minimum=1)
    weights_gb = _check_weights_fit(m, g, precision, tp, cal)
    kv_gb = _check_kv_fits(m, g, kv_precision, tp, b, s, weights_gb, cal, precision)

    rates = achievable_rates(g, precision, cal)
    bw, flops = rates["bandwidth"], rates["prefill_flops"]
    tokens = b * s
    moe = cal.moe_efficiency if m.is_moe else 1.0
    w_ms = streamed_params(m, tokens) * BYTES_PER_WEIGHT[precision] / tp / bw * 1e3 / moe
    comp_ms = (_linear_flops_per_token(m) * tokens / moe
               + 2.0 * b * s * s * m.n_heads * m.head_dim * m.n_layers) / tp / flops * 1e3
    w_part, c_part = _blend(w_ms, comp_ms, cal.roofline_sharpness)
    comm = 2 * m.n_layers * allreduce_ms(g, tp, tokens * m.hidden_size * _ACT_BYTES, cal)
    parts = {
        "weights_ms": w_part, "kv_cache_ms": 0.0, "compute_ms": c_part,
        "overhead_ms": cal.step_overhead_ms + m.n_layers * cal.layer_overhead_ms,
        "interconnect_ms": comm,
    }
    return _finish("prefill", m, g, batch=b, tokens=s, tp=tp, precision=precision,
                   kv_precision=kv_precision, engine=engine, parts=parts, new_tokens=tokens,
                   per_user_tokens=float(s), weights_gb=weights_gb, kv_gb=kv_gb,
                   roofline={"memory_ms": w_ms, "compute_ms": comp_ms}, cal=cal)

