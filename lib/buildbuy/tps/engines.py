"""Serving engines: how much KV cache they allocate, how many requests they admit, batch caps.

Convention
----------
A serving engine turns GPU memory into a KV-cache pool and admits requests into it. Two
policies cover the engines the course compares (each default from the engine's source):

``trtllm`` (TensorRT-LLM, ``trtllm-bench throughput``)
    Pool = ``kv_memory_fraction`` (0.90, ``KvCacheConfig.free_gpu_memory_fraction``) of the
    memory left once the weights and runtime buffers are loaded. Admission
    ``reserve_full``: the default ``guaranteed_no_evict`` scheduler admits a request only
    when its whole sequence (prompt + output) fits, so nothing is ever evicted. Batch and
    per-step token caps follow ``trtllm-bench``'s tuning rule
    (``tensorrt_llm/bench/build/tuning.py``, :func:`trtllm_bench_caps`): the requests the
    KV cache holds, at most 4,096, rounded up; tokens per step ``batch x (1 + prompt /
    output)``, at most 32,768, rounded up.
``vllm`` (vLLM offline ``LLM`` class, ``benchmark_throughput``)
    Pool = ``gpu_memory_utilization`` (0.90) of the board, less weights and runtime
    buffers. Admission ``paged``: PagedAttention admits a request when the KV blocks it
    holds *now* fit, so on average a running sequence holds ``prompt + output / 2``
    tokens; when the pool runs out the newest request is preempted and its tokens are
    recomputed later. Caps from ``vllm/engine/arg_utils.py`` ``get_batch_defaults``:
    1,024 sequences and 16,384 tokens per step on boards of 70 GiB or more (not A100),
    else 256 and 8,192.

Runtime buffers (activations, CUDA context, NCCL buffers) are ``runtime_reserve_gb`` = 3.5
GB per GPU, the ``other_mem`` figure of NVIDIA's aiconfigurator system files
(``ai-dynamo/aiconfigurator`` ``systems/*.yaml``). A CUDA process sees 99% of the board's
memory (79.2 of 80 GiB on the H100, 139.8 of 141 on the H200, measured:
``data/measurements/ceilings.csv``).

Examples
--------
>>> round(kv_pool_gb("llama-3.1-8b", "H100-SXM", precision="fp8"), 1)
66.2
>>> trtllm_bench_caps(490.4, 128, 2048)
(512, 2048)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from buildbuy._validate import bad, choice, integer, share
from buildbuy.data import GPU, Model, get_gpu, get_model
from buildbuy.tps.model import kv_bytes_per_token, weight_bytes

__all__ = [
    "ADMISSIONS",
    "ENGINE_PROFILES",
    "VISIBLE_MEMORY_SHARE",
    "ServingEngine",
    "admitted_batch",
    "get_engine",
    "kv_pool_gb",
    "kv_tokens_per_gpu",
    "trtllm_bench_caps",
]

ADMISSIONS: tuple[str, ...] = ("reserve_full", "paged")
#: Share of the board a CUDA process sees: 79.2 / 80 GiB (H100) and 139.8 / 141 (H200).
VISIBLE_MEMORY_SHARE = 0.99


@dataclass(frozen=True)
class ServingEngine:
    """How one serving engine sizes its KV cache and batch (see module docstring).

    Attributes
    ----------
    kv_memory_basis : {"free_after_weights", "board"}
        ``free_after_weights``: the pool is ``kv_memory_fraction`` of what is left after
        the weights and runtime buffers (TensorRT-LLM); ``board``: the engine may fill
        ``kv_memory_fraction`` of the whole board, weights and buffers included (vLLM).
    admission : {"reserve_full", "paged"}
        ``reserve_full`` admits a request only if its full sequence fits; ``paged`` by the
        tokens it holds now, with preemption when the pool runs out.
    max_batch, max_tokens_per_step : int or None
        Fixed caps; ``None`` for ``trtllm`` means "from ``trtllm-bench``'s tuning rule".
    """

    name: str
    kv_memory_basis: str
    kv_memory_fraction: float
    admission: str
    max_batch: int | None
    max_tokens_per_step: int | None
    runtime_reserve_gb: float = 3.5

    def __post_init__(self) -> None:
        choice("kv_memory_basis", self.kv_memory_basis, ("free_after_weights", "board"))
        share("kv_memory_fraction", self.kv_memory_fraction)
        choice("admission", self.admission, ADMISSIONS)


#: The engines, with their documented defaults.
ENGINE_PROFILES: dict[str, ServingEngine] = {
    "trtllm": ServingEngine("trtllm", "free_after_weights", 0.90, "reserve_full", None, None),
    "vllm": ServingEngine("vllm", "board", 0.90, "paged", None, None),
}


def get_engine(engine: str | ServingEngine) -> ServingEngine:
    """Return the :class:`ServingEngine` named ``engine`` (``"trtllm"`` or ``"vllm"``)."""
    if isinstance(engine, ServingEngine):
        return engine
    return ENGINE_PROFILES[choice("serving_engine", engine, tuple(ENGINE_PROFILES))]


def _vllm_caps(g: GPU) -> tuple[int, int]:
    big = g.memory_gb >= 70 and not g.name.upper().startswith("A100")
    return (1024, 16384) if big else (256, 8192)


def kv_pool_gb(model: str | Model, gpu: str | GPU, *, precision: str = "bf16",
               tensor_parallel: int = 1, serving_engine: str | ServingEngine = "trtllm") -> float:
    """GB of KV cache one GPU of the group holds under ``serving_engine``'s memory policy.

    ``trtllm``: ``f x (visible - weights / TP - reserve)``; ``vllm``: ``f x board - weights /
    TP - reserve``, with ``visible = 0.99 x board`` and the board in GiB converted to GB.
    Raises ``ValueError`` when the weights leave no room.

    >>> round(kv_pool_gb("llama-3.1-70b", "A100-80GB", tensor_parallel=2), 1)
    9.9
    """
    m, g, eng = get_model(model), get_gpu(gpu), get_engine(serving_engine)
    tp = integer("tensor_parallel", tensor_parallel, minimum=1, maximum=64)
    board = g.memory_gb * 2**30 / 1e9
    weights = weight_bytes(m, precision) / tp / 1e9
    if eng.kv_memory_basis == "free_after_weights":
        pool = eng.kv_memory_fraction * (VISIBLE_MEMORY_SHARE * board - weights
                                         - eng.runtime_reserve_gb)
    else:
        pool = eng.kv_memory_fraction * board - weights - eng.runtime_reserve_gb
    if pool <= 0:
        raise bad("gpu", g.name, f"a GPU group with room for {m.name}'s KV cache: {precision} "
                  f"weights take {weights:.1f} GB of each GPU's {board:.1f} GB at "
                  f"tensor_parallel={tp} ({eng.name} also keeps {eng.runtime_reserve_gb:g} GB "
                  "for buffers); use a larger tensor_parallel or a lower precision")
    return pool


def kv_tokens_per_gpu(model: str | Model, gpu: str | GPU, *, precision: str = "bf16",
                      kv_precision: str | None = None, tensor_parallel: int = 1,
                      serving_engine: str | ServingEngine = "trtllm") -> float:
    """Tokens of KV cache the pool holds (one GPU holds its share of every token's heads)."""
    m = get_model(model)
    kv_precision = kv_precision or ("fp8" if precision == "fp8" else "bf16")
    heads_share = 1.0 if m.mla_kv_dim else max(1.0 / tensor_parallel, 1.0 / m.n_kv_heads)
    per_token = kv_bytes_per_token(m, kv_precision) * heads_share
    pool = kv_pool_gb(m, gpu, precision=precision, tensor_parallel=tensor_parallel,
                      serving_engine=serving_engine)
    return pool * 1e9 / per_token


def trtllm_bench_caps(kv_max_requests: float, prompt_tokens: int,
                      output_tokens: int) -> tuple[int, int]:
    """``(max_batch_size, max_num_tokens)`` by ``trtllm-bench``'s tuning rule.

    ``raw = min(kv_max_requests, 4096)``; batch rounded up to 32 below 256 (at least 64),
    to 128 below 1,024, else to 256; tokens ``min(raw x (1 + prompt/output), 32768)``
    rounded up to 256 below 4,096 (at least 2,048), to 512 below 8,192, else to 1,024
    (``NVIDIA/TensorRT-LLM`` ``tensorrt_llm/bench/build/tuning.py``, ``finetune_setting``).

    >>> trtllm_bench_caps(5000, 128, 128), trtllm_bench_caps(40, 20000, 2000)
    ((4096, 8192), (64, 2048))
    """
    raw_bs = min(kv_max_requests, 4096.0)
    raw_tok = min(raw_bs * (1 + prompt_tokens / output_tokens), 32768.0)
    if raw_bs < 256:
        bs = max(64, 32 * math.ceil(raw_bs / 32))
    elif raw_bs < 1024:
        bs = 128 * math.ceil(raw_bs / 128)
    else:
        bs = 256 * math.ceil(raw_bs / 256)
    if raw_tok < 4096:
        tok = max(2048, 256 * math.ceil(raw_tok / 256))
    elif raw_tok < 8192:
        tok = 512 * math.ceil(raw_tok / 512)
    else:
        tok = 1024 * math.ceil(raw_tok / 1024)
    return int(bs), int(tok)


def _trtllm_bench_kv_requests(m: Model, g: GPU, precision: str, kv_precision: str | None,
                               tp: int, seq_len: int) -> float:
    """Requests ``trtllm-bench`` estimates the KV cache holds when it sets its caps.

    Its own estimate (``calc_engine_setting``): 95% of the group's memory in GiB less the
    weights, over ``2 x layers x max(TP, KV heads) x head_dim x KV bytes`` per token.
    """
    kv_precision = kv_precision or ("fp8" if precision == "fp8" else "bf16")
    gib = 2.0**30
    available = g.memory_gb * tp - weight_bytes(m, precision) / gib
    per_token = (kv_bytes_per_token(m, kv_precision) * max(tp, m.n_kv_heads) / m.n_kv_heads
                 if not m.mla_kv_dim else kv_bytes_per_token(m, kv_precision)) / gib
    return max(0.0, 0.95 * available / (per_token * seq_len))


@dataclass(frozen=True)
class Admission:
    """The batch an engine runs at saturation and what limits it."""

    batch: int
    limited_by: str           # "kv_cache", "max_batch", "token_budget" or "requests"
    kv_tokens_per_gpu: float
    max_batch: int
    max_tokens_per_step: int
    held_tokens_per_sequence: float


def admitted_batch(model: str | Model, gpu: str | GPU, *, prompt_tokens: int,
                   output_tokens: int, precision: str = "bf16", kv_precision: str | None = None,
                   tensor_parallel: int = 1, serving_engine: str | ServingEngine = "trtllm",
                   num_requests: int | None = None) -> Admission:
    """Sequences the engine runs at once when requests queue without limit.

    ``reserve_full``: ``floor(KV tokens / (prompt + output))``; ``paged``:
    ``floor(KV tokens / (prompt + output / 2))``; then the engine's batch cap, its per-step
    token budget (a step carries ``batch x (1 + prompt / output)`` tokens on average) and
    the number of requests. Raises ``ValueError`` when not one sequence fits.

    >>> a = admitted_batch("llama-3.1-8b", "H100-SXM", prompt_tokens=128, output_tokens=2048,
    ...                    precision="fp8")
    >>> a.batch, a.limited_by
    (463, 'kv_cache')
    """
    m, g, eng = get_model(model), get_gpu(gpu), get_engine(serving_engine)
    prm = integer("prompt_tokens", prompt_tokens, minimum=1)
    out = integer("output_tokens", output_tokens, minimum=1)
    tokens = kv_tokens_per_gpu(m, g, precision=precision, kv_precision=kv_precision,
                               tensor_parallel=tensor_parallel, serving_engine=eng)
    held = prm + out if eng.admission == "reserve_full" else prm + out / 2
    by_kv = int(tokens // held)
    if by_kv < 1:
        raise bad("prompt_tokens", prompt_tokens,
                  f"short enough that one sequence of {prm} + {out} tokens fits {m.name}'s KV "
                  f"cache on {g.name} at tensor_parallel={tensor_parallel} "
                  f"({tokens:,.0f} tokens)")
    if eng.name == "trtllm" and eng.max_batch is None:
        cap_b, cap_t = trtllm_bench_caps(_trtllm_bench_kv_requests(m, g, precision, kv_precision,
                                                                   tensor_parallel, prm + out),
                                         prm, out)
    elif eng.max_batch is None:
        cap_b, cap_t = _vllm_caps(g)
    else:
        cap_b, cap_t = eng.max_batch, eng.max_tokens_per_step or 8192
    if eng.max_tokens_per_step is not None:
        cap_t = eng.max_tokens_per_step
    by_tokens = max(1, int(cap_t // (1 + prm / out)))
    limits = {"kv_cache": by_kv, "max_batch": cap_b, "token_budget": by_tokens}
    if num_requests is not None:
        limits["requests"] = integer("num_requests", num_requests, minimum=1)
    limited_by = min(limits, key=lambda k: limits[k])
    return Admission(batch=limits[limited_by], limited_by=limited_by,
                     kv_tokens_per_gpu=tokens, max_batch=cap_b, max_tokens_per_step=cap_t,
                     held_tokens_per_sequence=held)
