"""Per-level metrics of an endpoint audit, defined as the standard benchmarking tools do.

Definitions (one value per request unless said; percentiles by linear interpolation,
``numpy.percentile``, as GenAI-Perf and ``vllm bench serve`` compute them):

``ttft``
    Time to first token: request sent -> first chunk carrying generated text. GenAI-Perf
    ("Time between when a request is sent and when its first response is received",
    README, Metrics table, triton-inference-server/perf_analyzer, genai-perf 0.0.16,
    2025-08), counting only non-empty responses as NVIDIA's AIPerf does.
``tpot``
    Time per output token after the first: ``(last token - first token) / (tokens - 1)``.
    guidellm's ``inter_token_latency_ms`` (``src/guidellm/schemas/request_stats.py``,
    vllm-project/guidellm, release 0.8.1, 2026-10), GenAI-Perf's inter-token latency and
    ``vllm bench serve``'s TPOT use this formula.
``itl``
    Inter-token latency: every gap between two consecutive text chunks, pooled over the
    requests of a level (``vllm bench serve``'s ITL, ``vllm/benchmarks/serve.py``,
    vllm-project/vllm, 2026). A chunk carrying several tokens gives one gap.
``e2e``
    End-to-end latency: request sent -> the stream's last byte (GenAI-Perf's request
    latency: "when its final response is received").
``output_tokens_per_s``
    All output tokens of the level's successful requests / the level's wall-clock time,
    first request sent to last answer (GenAI-Perf's output token throughput, "total
    number of output tokens ... divided by benchmark duration").
``sustained_tokens_per_s``
    The same rate in the level's steady state: tokens received from the level's first
    token to the moment its last request was sent, over that span. The ramp (requests
    arriving, the first prefill) and the drain (fewer requests left than the concurrency)
    are left out, as guidellm leaves out its warm-up and cooldown. Equal to
    ``output_tokens_per_s`` when the span is empty (a level of no more requests than its
    concurrency). The verdict's measured ceiling is the best sustained rate.

Token counts are the server's ``usage.completion_tokens``; without usage, one token per
text chunk (guidellm's fallback). Durations are in the server's own time: wall time
divided by ``time_scale`` (1 for every real server; a lab on a stretched clock says so).

Examples
--------
>>> from buildbuy.audit.client import RequestRecord
>>> r = RequestRecord(concurrency=1, index=0, stream=True, t_start=0.0, ok=True,
...                   chunk_times=[0.1, 0.12, 0.14], t_end=0.15, output_tokens=3)
>>> s = level_stats([r], 0.0, 0.2)
>>> round(s.ttft_ms_p50), round(s.tpot_ms_p50), round(s.output_tokens_per_s)
(100, 20, 15)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from buildbuy.audit.client import RequestRecord

__all__ = ["CSV_COLUMNS", "DEFINITIONS", "LevelStats", "level_stats", "percentile"]

#: The columns of ``audit.csv``, in order.
CSV_COLUMNS: tuple[str, ...] = ("concurrency", "requests_ok", "requests_failed",
                                "ttft_ms_p50", "ttft_ms_p90", "tpot_ms_p50", "tpot_ms_p90",
                                "e2e_ms_p50", "output_tokens_per_s")

DEFINITIONS: dict[str, str] = {
    "ttft_ms": "request sent -> first chunk with generated text (GenAI-Perf README, "
               "Metrics, genai-perf 0.0.16, 2025-08; empty chunks skipped as in AIPerf)",
    "tpot_ms": "(last token - first token) / (output tokens - 1) per request (guidellm "
               "0.8.1, 2026-10, inter_token_latency_ms; vllm bench serve TPOT)",
    "itl_ms": "gaps between consecutive text chunks, pooled over requests (vllm bench "
              "serve ITL, vllm/benchmarks/serve.py, 2026)",
    "e2e_ms": "request sent -> last byte of the answer (GenAI-Perf request latency)",
    "output_tokens_per_s": "output tokens of successful requests / level wall-clock time, "
                           "first request sent to last answer (GenAI-Perf output token "
                           "throughput)",
    "sustained_tokens_per_s": "output tokens received from the level's first token to "
                              "its last request sent / that span; ramp and drain left "
                              "out, like guidellm's warm-up and cooldown",
    "percentiles": "numpy.percentile, linear interpolation (as GenAI-Perf and vllm bench)",
    "tokens": "server usage.completion_tokens; else one token per text chunk (guidellm)",
}


def percentile(values: Sequence[float], q: float) -> float:
    """``numpy.percentile(values, q)`` (linear), or NaN for no values.

    >>> percentile([10, 20, 30, 40], 90)
    37.0
    """
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else math.nan


@dataclass(frozen=True)
class LevelStats:
    """The metrics of one concurrency level (times in ms, server time)."""

    concurrency: int
    requests_ok: int
    requests_failed: int
    ttft_ms_p50: float
    ttft_ms_p90: float
    tpot_ms_p50: float
    tpot_ms_p90: float
    e2e_ms_p50: float
    output_tokens_per_s: float
    e2e_ms_p90: float = math.nan
    itl_ms_p50: float = math.nan
    itl_ms_p90: float = math.nan
    rate_limited: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    requests_per_s: float = 0.0
    sustained_tokens_per_s: float = 0.0
    duration_s: float = 0.0
    output_tokens: int = 0
    decode_batch: float = 0.0
    headers_ms_p50: float = math.nan
    bytes_per_output_token: float = math.nan
    prompt_tokens_mean: float = math.nan
    output_tokens_mean: float = math.nan
    token_source: str = "usage"
    quota_tokens_per_minute: float | None = None
    first_failure: str = ""

    def row(self) -> dict[str, Any]:
        """The ``audit.csv`` row."""
        d = asdict(self)
        return {k: d[k] for k in CSV_COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-safe (NaN becomes ``None``)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def level_stats(records: Sequence[RequestRecord], t0: float, t1: float, *,
                time_scale: float = 1.0) -> LevelStats:
    """Metrics of one level from its request records and its wall-clock span ``t0..t1``."""
    s = float(time_scale)
    ok = [r for r in records if r.ok]
    failed = [r for r in records if not r.ok]
    causes = Counter(r.cause or "unknown" for r in failed)
    ttft = [(r.t_first - r.t_start) * 1e3 / s for r in ok if r.t_first is not None]
    tpot, itl, e2e, busy = [], [], [], 0.0
    for r in ok:
        n = r.output_tokens or 0
        if r.t_first is not None and r.t_last is not None and n >= 2 \
                and r.t_last > r.t_first:
            tpot.append((r.t_last - r.t_first) * 1e3 / s / (n - 1))
            busy += r.t_last - r.t_first
        itl.extend(float(g) * 1e3 / s for g in np.diff(r.chunk_times))
        if r.t_end is not None:
            e2e.append((r.t_end - r.t_start) * 1e3 / s)
    wall = max(t1 - t0, 1e-9)
    tokens = sum(r.output_tokens or 0 for r in ok)
    streamed = [r for r in ok if r.stream and r.output_tokens]
    stream_tokens = sum(r.output_tokens or 0 for r in streamed)
    quotas = [r.quota_tokens_per_minute for r in records if r.quota_tokens_per_minute]
    sources = {r.token_source for r in ok}
    sustained = tokens / wall * s
    t_cut = max((r.t_start for r in records), default=t0)
    t_on = min((r.t_first for r in ok if r.t_first is not None), default=t_cut)
    if t_cut > t_on:
        got = sum(sum(t_on < t <= t_cut for t in r.chunk_times) * (r.output_tokens or 0)
                  / len(r.chunk_times) for r in ok if r.chunk_times)
        sustained = got / (t_cut - t_on) * s
    return LevelStats(
        concurrency=max((r.concurrency for r in records), default=0),
        requests_ok=len(ok), requests_failed=len(failed),
        ttft_ms_p50=percentile(ttft, 50), ttft_ms_p90=percentile(ttft, 90),
        tpot_ms_p50=percentile(tpot, 50), tpot_ms_p90=percentile(tpot, 90),
        e2e_ms_p50=percentile(e2e, 50), e2e_ms_p90=percentile(e2e, 90),
        itl_ms_p50=percentile(itl, 50), itl_ms_p90=percentile(itl, 90),
        output_tokens_per_s=tokens / wall * s, requests_per_s=len(ok) / wall * s,
        sustained_tokens_per_s=sustained,
        rate_limited=causes.get("rate_limited", 0), failures=dict(sorted(causes.items())),
        duration_s=wall / s, output_tokens=tokens, decode_batch=busy / wall,
        headers_ms_p50=percentile([(r.t_headers - r.t_start) * 1e3 / s for r in records
                                   if r.t_headers is not None], 50),
        bytes_per_output_token=(sum(r.body_bytes for r in streamed) / stream_tokens
                                if stream_tokens else math.nan),
        prompt_tokens_mean=(float(np.mean([r.prompt_tokens for r in ok]))
                            if ok and all(r.prompt_tokens is not None for r in ok)
                            else math.nan),
        output_tokens_mean=tokens / len(ok) if ok else math.nan,
        token_source="+".join(sorted(sources)) if sources else "none",
        quota_tokens_per_minute=quotas[-1] * s if quotas else None,
        first_failure=failed[0].message if failed else "")
