"""The lab's hidden parameters, drawn from a seed, and the answer they imply.

A lab is one model replica on one GPU group (the TPS model of :mod:`buildbuy.tps`, with
continuous batching and a KV-cache capacity) plus at most one injected bottleneck:

``"none"``
    Only the GPU limits. The batch is capped at ``max_num_seqs`` sequences (vLLM's
    ``--max-num-seqs``), so a sweep to 16 concurrent requests reaches the ceiling.
``"cpu_overhead"``
    Host work per engine step (scheduling, sampling, detokenising in Python) of
    ``host_step_ms + host_ms_per_seq * sequences``, mostly fixed per step like the
    ``generate()`` loop measured in ``data/``. It overlaps the GPU, as in the TPS model's
    eager and naive engines: a step takes ``max(gpu, host)``.
``"network_io"``
    Every response byte crosses one shared link of ``link_bytes_per_s``, and each
    direction adds ``latency_ms``.
``"api_rate_limit"``
    A quota of ``tokens_per_minute`` (prompt + ``max_tokens``, charged when a request is
    admitted, as hosted APIs count them); past it the lab answers HTTP 429.

The seed draws the kind (unless given), ``max_num_seqs`` and the severity ``k``: the
injected resource alone allows ``1 / k`` of the GPU's ceiling at the reference request
shape (:data:`REFERENCE_PROMPT_TOKENS` in, :data:`REFERENCE_OUTPUT_TOKENS` out), with
``k`` between 1.8 and 2.5, so the injected kind binds clearly. Every time is model time: a
lab run with ``time_scale`` s stretches each duration by s on the wall clock (s < 1
is faster than the GPU it models), and tells clients so in its model card.

Examples
--------
>>> spec = LabSpec.from_seed(3, model="llama-3.1-8b", gpu="H100-SXM", kind="cpu_overhead")
>>> spec.kind, spec.max_num_seqs
('cpu_overhead', 4)
>>> t = spec.truth()
>>> t.binding, round(t.ceiling_tokens_per_s)
('cpu_overhead', 301)
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from buildbuy._validate import bad, choice, integer
from buildbuy.data import get_gpu, get_model
from buildbuy.tps import decode, kv_bytes_per_token, prefill, weight_bytes
from buildbuy.tps.model import usable_memory_gb

__all__ = [
    "KINDS",
    "MAX_NUM_SEQS_CHOICES",
    "REFERENCE_OUTPUT_TOKENS",
    "REFERENCE_PROMPT_TOKENS",
    "LabSpec",
    "Truth",
]

#: What a lab can inject (``"none"``: only the GPU limits).
KINDS: tuple[str, ...] = ("none", "cpu_overhead", "network_io", "api_rate_limit")
#: The batch caps a seed draws from: at most half of 16, the top level of the default
#: sweep, so that requests queue at the lab and cover the client's own turnaround.
MAX_NUM_SEQS_CHOICES: tuple[int, ...] = (4, 6, 8)
#: The request shape the severity is set at, and the one exercise 1 audits with.
REFERENCE_PROMPT_TOKENS: int = 64
REFERENCE_OUTPUT_TOKENS: int = 32
#: Engine contexts are rounded to this many tokens (so steps can be cached).
CONTEXT_GRAIN: int = 8
#: Severity range: the injected resource allows 1/k of the GPU ceiling.
SEVERITY_RANGE: tuple[float, float] = (1.8, 2.5)


@dataclass(frozen=True)
class Truth:
    """What a perfect audit of a lab finds at one request shape (model time).

    Attributes
    ----------
    binding : str
        One of the five kinds of :mod:`buildbuy.bottleneck`.
    ceiling_tokens_per_s : float
        The most output tokens per second the lab sustains at this shape.
    ceilings : dict
        Kind -> what that resource alone allows, output tokens per second.
    """

    binding: str
    ceiling_tokens_per_s: float
    ceilings: dict[str, float]


@dataclass(frozen=True)
class LabSpec:
    """Everything that decides a lab's timing (see the module docstring).

    Build one with :meth:`from_seed`; the fields are the hidden parameters.
    """

    seed: int
    kind: str
    model: str
    gpu: str
    tensor_parallel: int
    max_num_seqs: int
    kv_capacity_tokens: int
    severity: float
    host_step_ms: float = 0.0
    host_ms_per_seq: float = 0.0
    link_bytes_per_s: float = math.inf
    latency_ms: float = 0.0
    tokens_per_minute: float = math.inf
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_seed(cls, seed: int, *, model: str = "llama-3.1-8b", gpu: str = "H100-SXM",
                  kind: str | None = None) -> LabSpec:
        """Draw a lab's hidden parameters from ``seed`` (``numpy.random.default_rng``).

        Parameters
        ----------
        seed : int
            >= 0. The same seed, model, GPU and kind always give the same lab.
        model, gpu : str
            Rows of ``data/models.csv`` and ``data/gpus.csv``. The lab uses the smallest
            tensor-parallel group (1, 2, 4 or 8) whose memory holds the weights and the
            KV cache of ``max_num_seqs`` reference requests.
        kind : str, optional
            One of :data:`KINDS`; default: drawn from the seed too (a hidden lab).

        Examples
        --------
        >>> LabSpec.from_seed(0).kind in KINDS
        True
        >>> LabSpec.from_seed(5, kind="network_io").link_bytes_per_s < 1e6
        True
        """
        s = integer("seed", seed, minimum=0)
        m, g = get_model(model), get_gpu(gpu)
        rng = np.random.default_rng(s)
        drawn_kind = KINDS[int(rng.integers(len(KINDS)))]
        kind = drawn_kind if kind is None else choice("kind", kind, KINDS)
        seqs = int(rng.choice(MAX_NUM_SEQS_CHOICES))
        k = float(rng.uniform(*SEVERITY_RANGE))
        u = float(rng.uniform(0.0, 1.0))  # the network latency's share of its range
        ref_tokens = REFERENCE_PROMPT_TOKENS + REFERENCE_OUTPUT_TOKENS
        tp, capacity = _group(m.name, g.name, seqs * ref_tokens)
        base = cls(seed=s, kind=kind, model=m.name, gpu=g.name, tensor_parallel=tp,
                   max_num_seqs=seqs, kv_capacity_tokens=capacity, severity=k)
        gpu_ceiling = base.gpu_ceiling_tokens_per_s()
        target = gpu_ceiling / k  # what the injected resource alone allows
        if kind == "cpu_overhead":
            # host time per step H at a full batch is k times the engine's mean step; 90% of
            # it is fixed per step (scheduling, Python), 10% grows with the batch
            b = base.full_batch()
            host_full = k * b / gpu_ceiling * 1e3
            return _replace(base, host_step_ms=0.9 * host_full,
                            host_ms_per_seq=0.1 * host_full / b)
        if kind == "network_io":
            bytes_per_token = _stream_bytes_per_output_token(m.name)
            return _replace(base, link_bytes_per_s=target * bytes_per_token,
                            latency_ms=2.0 + 6.0 * u)
        if kind == "api_rate_limit":
            tpm = target * ref_tokens / REFERENCE_OUTPUT_TOKENS * 60.0
            return _replace(base, tokens_per_minute=tpm)
        return base

    # --- one engine step ------------------------------------------------------------------

    def step_ms(self, decoding: int, mean_context: float, joining: int,
                joining_prompt_tokens: int) -> float:
        """Model time of one engine step (the convention of :mod:`buildbuy.lab.engine`).

        ``decoding`` sequences decode at ``mean_context`` tokens (rounded to 8 so that
        steps can be cached) while ``joining`` new ones prefill their
        ``joining_prompt_tokens`` in the same step: ``tps.decode(..., prefill_tokens=)``,
        or ``tps.prefill`` when none decodes yet. The host's time overlaps: the step
        takes the longer of the two.
        """
        if decoding:
            ctx = max(1, min(CONTEXT_GRAIN * round(mean_context / CONTEXT_GRAIN),
                             get_model(self.model).max_context))
            gpu = _decode_ms(self.model, self.gpu, self.tensor_parallel, int(decoding),
                             int(ctx), int(joining_prompt_tokens))
        elif joining:
            gpu = _prefill_ms(self.model, self.gpu, self.tensor_parallel, int(joining),
                              max(1, round(joining_prompt_tokens / joining)))
        else:
            return 0.0
        return max(gpu, self.host_ms(decoding + joining))

    def host_ms(self, sequences: int) -> float:
        """Host time of one engine step over ``sequences`` sequences (0 unless cpu_overhead)."""
        if sequences <= 0:
            return 0.0
        return self.host_step_ms + self.host_ms_per_seq * sequences

    def full_batch(self, prompt_tokens: int = REFERENCE_PROMPT_TOKENS,
                   output_tokens: int = REFERENCE_OUTPUT_TOKENS) -> int:
        """Sequences that run at once when requests queue: ``max_num_seqs``, or fewer if
        the KV cache cannot hold that many requests of this shape."""
        return max(1, min(self.max_num_seqs,
                          self.kv_capacity_tokens // (prompt_tokens + output_tokens)))

    def wave_ms(self, batch: int, prompt_tokens: int, output_tokens: int) -> float:
        """Model time for ``batch`` identical requests that join together: one prefill
        step, then ``output_tokens - 1`` decode steps."""
        total = self.step_ms(0, 0.0, batch, batch * prompt_tokens)
        for j in range(1, output_tokens):
            total += self.step_ms(batch, prompt_tokens + j, 0, 0)
        return total

    def gpu_ceiling_tokens_per_s(self, prompt_tokens: int = REFERENCE_PROMPT_TOKENS,
                                 output_tokens: int = REFERENCE_OUTPUT_TOKENS) -> float:
        """Output tokens per second of the engine when identical requests queue for it.

        Identical requests that queue join and leave together, so the engine runs in
        waves of :meth:`full_batch` requests (:meth:`wave_ms`). This is below
        ``tps.serving_point``'s steady mix, which hides each prompt's compute inside the
        memory-bound decode steps (chunked prefill of staggered arrivals); the lab's
        docs state the gap.
        """
        b = self.full_batch(prompt_tokens, output_tokens)
        return b * output_tokens / self.wave_ms(b, prompt_tokens, output_tokens) * 1e3

    # --- the answer ----------------------------------------------------------------------

    def truth(self, prompt_tokens: int = REFERENCE_PROMPT_TOKENS,
              output_tokens: int = REFERENCE_OUTPUT_TOKENS) -> Truth:
        """The binding kind and the ceiling at one request shape (model time).

        Each resource alone allows: the GPU, the engine's wave rate
        (:meth:`gpu_ceiling_tokens_per_s` without host time), named ``memory_bandwidth``
        or ``compute`` after the larger roofline leg of a full-batch decode step; the host
        ``b / host_ms(b)``; the link its bytes per second over the stream's bytes per
        output token; the quota ``tokens_per_minute / 60 * output / (prompt + output)``.
        The smallest binds. The ceiling is what the lab delivers: the engine's wave rate
        with the host's time included, or the link's or the quota's rate if lower.

        Examples
        --------
        >>> t = LabSpec.from_seed(1, kind="none").truth()
        >>> t.binding, round(t.ceiling_tokens_per_s)
        ('memory_bandwidth', 877)
        """
        prm = integer("prompt_tokens", prompt_tokens, minimum=1)
        out = integer("output_tokens", output_tokens, minimum=1)
        b = self.full_batch(prm, out)
        gpu_only = _replace(self, host_step_ms=0.0, host_ms_per_seq=0.0)
        legs = decode(self.model, self.gpu, batch=b, context=prm + out // 2,
                      tensor_parallel=self.tensor_parallel).roofline_ms
        gpu_kind = "memory_bandwidth" if legs["memory_ms"] >= legs["compute_ms"] else "compute"
        ceilings = {gpu_kind: gpu_only.gpu_ceiling_tokens_per_s(prm, out)}
        delivered = self.gpu_ceiling_tokens_per_s(prm, out)
        if self.kind == "cpu_overhead":
            ceilings["cpu_overhead"] = b / self.host_ms(b) * 1e3
        elif self.kind == "network_io":
            ceilings["network_io"] = (self.link_bytes_per_s
                                      / _stream_bytes_per_output_token(self.model, out, prm))
        elif self.kind == "api_rate_limit":
            ceilings["api_rate_limit"] = self.tokens_per_minute / 60.0 * out / (prm + out)
        binding = min(ceilings, key=lambda k: ceilings[k])
        ceiling = min(delivered, *(v for k, v in ceilings.items() if k != gpu_kind)) \
            if len(ceilings) > 1 else delivered
        return Truth(binding=binding, ceiling_tokens_per_s=ceiling, ceilings=ceilings)

    def to_dict(self) -> dict[str, Any]:
        """The hidden parameters as plain data (for an instructor's answer key)."""
        return {k: v for k, v in asdict(self).items() if k != "extra"}


def _replace(spec: LabSpec, **changes: Any) -> LabSpec:
    values = asdict(spec)
    values.update(changes)
    return LabSpec(**values)


def _group(model: str, gpu: str, kv_tokens_needed: int) -> tuple[int, int]:
    """Smallest tensor-parallel group holding the weights and ``kv_tokens_needed`` of KV
    cache; return it and the KV capacity in tokens."""
    m, g = get_model(model), get_gpu(gpu)
    usable = usable_memory_gb(g)
    for tp in (1, 2, 4, 8):
        if m.n_heads % tp:
            continue
        free_gb = usable - weight_bytes(m) / tp / 1e9
        per_token_gb = kv_bytes_per_token(m) * max(1.0 / tp, 1.0 / m.n_kv_heads) / 1e9
        if m.mla_kv_dim:
            per_token_gb = kv_bytes_per_token(m) / 1e9
        capacity = int(free_gb // per_token_gb) if free_gb > 0 else 0
        if capacity >= kv_tokens_needed:
            return tp, capacity
    raise bad("gpu", gpu, f"a GPU on which {model} and a few requests' KV cache fit in a "
                          "group of at most 8")


@functools.lru_cache(maxsize=4096)
def _decode_ms(model: str, gpu: str, tp: int, batch: int, context: int,
               prefill_tokens: int) -> float:
    return decode(model, gpu, batch=batch, context=context, prefill_tokens=prefill_tokens,
                  tensor_parallel=tp).step_ms


@functools.lru_cache(maxsize=1024)
def _prefill_ms(model: str, gpu: str, tp: int, batch: int, prompt_tokens: int) -> float:
    return prefill(model, gpu, batch=batch, prompt_tokens=prompt_tokens,
                   tensor_parallel=tp).step_ms


def _stream_bytes_per_output_token(model: str,
                                   output_tokens: int = REFERENCE_OUTPUT_TOKENS,
                                   prompt_tokens: int = REFERENCE_PROMPT_TOKENS) -> float:
    """Bytes of a lab stream (usage included) per output token, from the wire format."""
    from buildbuy.lab.wire import stream_bytes

    return stream_bytes(model, output_tokens, prompt_tokens=prompt_tokens,
                        include_usage=True) / output_tokens
