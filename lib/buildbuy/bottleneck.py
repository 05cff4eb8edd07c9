"""The five-way bottleneck audit: which resource caps a pipeline's tokens per second.

A served LLM pipeline has five places that can cap its throughput:

- ``compute``: the GPU's matrix units (FLOP/s);
- ``memory_bandwidth``: streaming weights and KV cache from GPU memory;
- ``network_io``: moving prompts and answers over the network;
- ``cpu_overhead``: host work: tokenising, scheduling, Python and kernel launches;
- ``api_rate_limit``: a provider's tokens-per-minute quota (when an API is in the path).

Each *ceiling* is the throughput that resource alone would allow, in output tokens per
second. The smallest one binds; the ratio of the next-smallest to it says how much the
binding constraint can be relieved before another one takes over.

Examples
--------
>>> a = audit({"compute": 9000, "memory_bandwidth": 4500, "cpu_overhead": 20000})
>>> a.binding, a.next_binding, a.headroom
('memory_bandwidth', 'compute', 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from buildbuy._validate import bad, choice, integer, non_negative, positive
from buildbuy.data import GPU, Model, get_model
from buildbuy.tps.calibration import CALIBRATION
from buildbuy.tps.model import ENGINES, decode

__all__ = ["KINDS", "Audit", "audit", "pipeline_ceilings"]

KINDS: tuple[str, ...] = ("compute", "memory_bandwidth", "network_io", "cpu_overhead",
                          "api_rate_limit")


@dataclass(frozen=True)
class Audit:
    """Result of :func:`audit`.

    Attributes
    ----------
    binding : str
        The kind with the lowest ceiling.
    ceiling_tokens_per_s : float
        That ceiling.
    next_binding : str or None
        The kind with the second-lowest ceiling (``None`` with a single ceiling).
    headroom : float
        Next ceiling / binding ceiling (``inf`` with a single ceiling): how many times the
        binding resource can be sped up before the next one binds.
    table : pandas.DataFrame
        ``kind``, ``ceiling_tokens_per_s``, ``times_binding`` (ceiling / binding ceiling),
        sorted from binding to loosest.
    """

    binding: str
    ceiling_tokens_per_s: float
    next_binding: str | None
    headroom: float
    table: pd.DataFrame

    def __str__(self) -> str:
        text = f"binding: {self.binding} at {self.ceiling_tokens_per_s:,.0f} tokens/s"
        if self.next_binding is not None:
            text += (f"; next: {self.next_binding} at "
                     f"{self.ceiling_tokens_per_s * self.headroom:,.0f} tokens/s "
                     f"({self.headroom:.2f}x headroom)")
        return text


def audit(ceilings_tokens_per_s: Mapping[str, float]) -> Audit:
    """Name the binding constraint among measured or modelled ceilings.

    Parameters
    ----------
    ceilings_tokens_per_s : mapping
        Kind (one of :data:`KINDS`) -> the throughput that resource alone allows, > 0.
        ``math.inf`` marks a resource that sets no limit.

    Examples
    --------
    The measured Hugging Face ``generate()`` loop on an H100 (llama-3.1-8b, batch 1):
    62.5 ms of host time per step against a 6.7 ms GPU step.

    >>> a = audit({"cpu_overhead": 1000 / 64.9, "memory_bandwidth": 1000 / 6.7})
    >>> print(a)
    binding: cpu_overhead at 15 tokens/s; next: memory_bandwidth at 149 tokens/s (9.69x headroom)
    """
    if not isinstance(ceilings_tokens_per_s, Mapping) or not ceilings_tokens_per_s:
        raise bad("ceilings_tokens_per_s", ceilings_tokens_per_s,
                  f"a non-empty mapping from {', '.join(KINDS)} to tokens per second")
    rows = []
    for kind, value in ceilings_tokens_per_s.items():
        choice("ceilings_tokens_per_s key", kind, KINDS)
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and value == math.inf:
            rows.append((kind, math.inf))
        else:
            rows.append((kind, positive(f"ceilings_tokens_per_s[{kind!r}]", value)))
    rows.sort(key=lambda r: r[1])
    if math.isinf(rows[0][1]):
        raise bad("ceilings_tokens_per_s", dict(ceilings_tokens_per_s),
                  "a mapping with at least one finite ceiling")
    binding, ceiling = rows[0]
    nxt = rows[1] if len(rows) > 1 else None
    table = pd.DataFrame({
        "kind": [r[0] for r in rows],
        "ceiling_tokens_per_s": [r[1] for r in rows],
        "times_binding": [r[1] / ceiling for r in rows],
    })
    return Audit(binding=binding, ceiling_tokens_per_s=ceiling,
                 next_binding=nxt[0] if nxt else None,
                 headroom=(nxt[1] / ceiling) if nxt else math.inf, table=table)


def pipeline_ceilings(model: str | Model, gpu: str | GPU, *, batch: int, prompt_tokens: int,
                      output_tokens: int, cpu_ms_per_request: float = 0.0,
                      network_ms_per_request: float = 0.0, network_mbps: float | None = None,
                      api_tokens_per_minute: float | None = None,
                      engine: str = "optimized", precision: str = "bf16",
                      kv_precision: str | None = None, tensor_parallel: int = 1,
                      cpu_workers: int = 1, bytes_per_token: float = 4.0) -> dict[str, float]:
    """Ceilings, in output tokens per second, of a pipeline around one model replica.

    Conventions (all per replica, ``batch`` requests in flight, each of ``prompt_tokens``
    in and ``output_tokens`` out; the GPU step is :func:`buildbuy.tps.decode` at the mean
    context ``prompt_tokens + output_tokens / 2``):

    - ``memory_bandwidth``: ``batch / memory_ms``, the step's weight and KV streaming
      time at the achievable bandwidth (``Estimate.roofline_ms``);
    - ``compute``: ``batch / compute_ms``, its FLOPs at the achievable FLOP/s;
    - ``cpu_overhead``: per output token the host spends the step's host time divided by
      ``batch`` (the fixed per-step overhead of an optimized engine; the measured launch or
      ``generate()`` time of an eager or naive one) plus ``cpu_ms_per_request /
      output_tokens / cpu_workers`` of pre/post-processing;
    - ``network_io``: ``network_mbps`` carries ``(prompt + output) * bytes_per_token``
      bytes per request (about 4 bytes of text per token), and ``batch`` connections
      each spend ``network_ms_per_request``: the lower of the two limits;
    - ``api_rate_limit``: a quota of ``api_tokens_per_minute`` input + output tokens.

    Omitted resources (``network_mbps=None`` and ``network_ms_per_request=0``;
    ``api_tokens_per_minute=None``) are left out of the result.

    Examples
    --------
    >>> c = pipeline_ceilings("llama-3.1-8b", "H100-SXM", batch=1, prompt_tokens=512,
    ...                       output_tokens=128, engine="naive")
    >>> audit(c).binding
    'cpu_overhead'
    """
    m = get_model(model)
    choice("engine", engine, ENGINES)
    b = integer("batch", batch, minimum=1)
    prm = integer("prompt_tokens", prompt_tokens, minimum=1)
    out = integer("output_tokens", output_tokens, minimum=1)
    cpu_ms = non_negative("cpu_ms_per_request", cpu_ms_per_request)
    net_ms = non_negative("network_ms_per_request", network_ms_per_request)
    workers = integer("cpu_workers", cpu_workers, minimum=1)
    tok_bytes = positive("bytes_per_token", bytes_per_token)
    if prm + out > m.max_context:
        raise bad("output_tokens", output_tokens,
                  f"<= {m.max_context - prm} so that prompt + output fit {m.name}'s context")
    est = decode(m, gpu, batch=b, context=prm + out // 2, precision=precision,
                 kv_precision=kv_precision, tensor_parallel=tensor_parallel, engine=engine)
    br, raw = est.breakdown_ms, est.roofline_ms
    if engine == "optimized":  # CUDA graphs: the host only pays the fixed per-step costs
        host_step_ms = br["overhead_ms"]
    elif engine == "eager":
        host_step_ms = m.n_layers * CALIBRATION.eager_host_ms_per_layer
    else:
        host_step_ms = m.n_layers * CALIBRATION.naive_host_ms_per_layer
    out_ceilings: dict[str, float] = {
        "compute": b / raw["compute_ms"] * 1e3,
        "memory_bandwidth": b / raw["memory_ms"] * 1e3,
    }
    cpu_per_token_ms = host_step_ms / b + cpu_ms / out / workers
    out_ceilings["cpu_overhead"] = 1e3 / cpu_per_token_ms
    net_limits = []
    if network_mbps is not None:
        mbps = positive("network_mbps", network_mbps)
        req_per_s = mbps * 1e6 / 8 / ((prm + out) * tok_bytes)
        net_limits.append(req_per_s * out)
    if net_ms > 0:
        net_limits.append(b / (net_ms / 1e3) * out)
    if net_limits:
        out_ceilings["network_io"] = min(net_limits)
    if api_tokens_per_minute is not None:
        tpm = positive("api_tokens_per_minute", api_tokens_per_minute)
        out_ceilings["api_rate_limit"] = tpm / 60.0 * out / (prm + out)
    return out_ceilings
