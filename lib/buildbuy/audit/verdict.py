"""From measured levels to the binding bottleneck, by the course's five-way audit.

The measured ceiling is the best sustained output rate of the sweep
(:mod:`buildbuy.audit.metrics`); the evidence is read at the highest concurrency, where the
bottleneck shows. The evidence decides which of
the five kinds of :mod:`buildbuy.bottleneck` it belongs to, in this order:

1. **api_rate_limit**: any HTTP 429, or a measured ceiling within :data:`QUOTA_MARGIN`
   of the quota in the ``x-ratelimit-limit-tokens`` header (tokens per minute, prompt +
   output; as output tokens per second at the measured request shape). Its ceiling is
   that quota; without the header, the measured rate.
2. **network_io**: the top level sent again without streaming (the same requests) is at
   least :data:`STREAM_RATIO` times faster. The GPU does the same work either way, so the bytes
   of the stream (about 200 per token, against 5 in a plain answer) are what binds.
3. **cpu_overhead** or the GPU, when the GPU is known (``gpu``, and a model of
   ``data/models.csv``): the TPS model's time per output token for the measured decode
   batch (``tps.serving_point``; batch = requests decoding at once, from Little's law:
   sum of decode times / wall time) against the measured TPOT. At least
   :data:`HOST_RATIO` times the model means host work the GPU does not need:
   ``cpu_overhead``. Otherwise the GPU binds, ``memory_bandwidth`` or ``compute`` after
   the larger roofline leg of that step.
4. The GPU unknown: a TPOT that grows less than ``batch ** 0.5`` across the sweep means
   extra sequences are nearly free (streaming weights: ``memory_bandwidth``), else
   ``compute``. Without the GPU the audit cannot tell compute from host overhead.

The re-run without streaming is needed only when something beyond the GPU sets the pace
(:func:`needs_probe`). The binding kind's ceiling is the measured one; the other kinds
get the ceilings the evidence supports (the quota from its header; the GPU's roofline
legs at the measured batch), and :func:`buildbuy.bottleneck.audit` ranks them.

Thresholds: 1.4 is about three times the TPS model's held-out error (median 11.8%,
``docs/tps_model.md``) and well under the 2x that a bottleneck needs to matter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from buildbuy import bottleneck
from buildbuy.audit.metrics import LevelStats

__all__ = ["HOST_RATIO", "QUOTA_MARGIN", "SATURATION_GAIN", "STREAM_RATIO", "GpuContext",
           "Verdict", "decide", "needs_probe"]

#: Non-streamed / streamed output rate at or above which the stream's bytes bind.
STREAM_RATIO: float = 1.4
#: Measured / modelled time per output token at or above which host work binds.
HOST_RATIO: float = 1.4
#: A measured ceiling at least this share of the quota's means the quota binds.
QUOTA_MARGIN: float = 0.85
#: A level whose rate gains less than this over the previous one is on the plateau.
SATURATION_GAIN: float = 1.25


@dataclass(frozen=True)
class GpuContext:
    """The hardware behind an endpoint, when known: a model and GPU of ``data/``."""

    model: str
    gpu: str
    tensor_parallel: int = 1
    source: str = "given"


@dataclass(frozen=True)
class Verdict:
    """The binding kind, its ceiling (output tokens/s, server time) and the evidence."""

    binding: str
    ceiling_tokens_per_s: float
    saturated: bool
    evidence: list[str]
    ceilings: dict[str, float]
    audit: bottleneck.Audit
    checks: dict[str, float | None] = field(default_factory=dict)


def _shape(levels: Sequence[LevelStats], prompt_tokens: int,
           output_tokens: int) -> tuple[float, float]:
    prm = [lv.prompt_tokens_mean for lv in levels if math.isfinite(lv.prompt_tokens_mean)]
    out = [lv.output_tokens_mean for lv in levels if math.isfinite(lv.output_tokens_mean)]
    return (sum(prm) / len(prm) if prm else float(prompt_tokens),
            sum(out) / len(out) if out else float(output_tokens))


def _gpu_model(ctx: GpuContext, batch: float, prm: float, out: float
               ) -> tuple[float, dict[str, float]]:
    """TPS model: ms per output token at ``batch`` and the roofline legs of that step."""
    from buildbuy import tps

    b = max(1, round(batch))
    p, o = max(1, round(prm)), max(1, round(out))
    pt = tps.serving_point(ctx.model, ctx.gpu, batch=b, prompt_tokens=p, output_tokens=o,
                           tensor_parallel=ctx.tensor_parallel)
    legs = tps.decode(ctx.model, ctx.gpu, batch=b, context=p + o // 2,
                      prefill_tokens=round(b * p / o),
                      tensor_parallel=ctx.tensor_parallel).roofline_ms
    return pt.ms_per_output_token, legs


def _usable(levels: Sequence[LevelStats]) -> list[LevelStats]:
    usable = [lv for lv in levels if lv.requests_ok > 0 and lv.sustained_tokens_per_s > 0]
    if not usable:
        raise ValueError("levels=[...] is invalid: must hold at least one level with a "
                         "successful request")
    return usable


def _host_ratio(top: LevelStats, gpu: GpuContext, prm: float, out: float
                ) -> tuple[float, float, dict[str, float]] | None:
    """Measured / modelled TPOT, or ``None`` when the TPS model cannot price the step (the
    measured batch does not fit the GPU as described: the description is wrong)."""
    if not (math.isfinite(top.tpot_ms_p50) and top.decode_batch > 0):
        return None  # decoding was never timed (every token arrived in one chunk)
    try:
        model_ms, legs = _gpu_model(gpu, top.decode_batch, prm, out)
    except ValueError:
        return None
    return top.tpot_ms_p50 / model_ms, model_ms, legs


def _quota_ceiling(levels: Sequence[LevelStats], prm: float, out: float
                   ) -> tuple[float | None, float | None]:
    quota = next((lv.quota_tokens_per_minute for lv in reversed(levels)
                  if lv.quota_tokens_per_minute), None)
    return quota, (quota / 60.0 * out / (prm + out) if quota else None)


def _quota_binds(levels: Sequence[LevelStats], usable: Sequence[LevelStats],
                 prompt_tokens: int, output_tokens: int) -> bool:
    if any(lv.rate_limited for lv in levels):
        return True
    prm, out = _shape(usable, prompt_tokens, output_tokens)
    ceiling = _quota_ceiling(levels, prm, out)[1]
    measured = max(lv.sustained_tokens_per_s for lv in usable)
    return ceiling is not None and measured >= QUOTA_MARGIN * ceiling


def needs_probe(levels: Sequence[LevelStats], *, gpu: GpuContext | None,
                prompt_tokens: int, output_tokens: int) -> bool:
    """Whether the network test is needed: no 429 was seen, and the GPU alone does not
    explain the measured step (or the GPU is unknown)."""
    usable = _usable(levels)
    if _quota_binds(levels, usable, prompt_tokens, output_tokens):
        return False
    if gpu is None:
        return True
    top = usable[-1]
    prm, out = _shape(usable, prompt_tokens, output_tokens)
    priced = _host_ratio(top, gpu, prm, out)
    return priced is None or priced[0] >= HOST_RATIO


def decide(levels: Sequence[LevelStats], *, probe: LevelStats | None = None,
           gpu: GpuContext | None = None, prompt_tokens: int, output_tokens: int) -> Verdict:
    """Name the binding bottleneck of a measured sweep (method in the module docstring)."""
    usable = _usable(levels)
    measured = max(lv.sustained_tokens_per_s for lv in usable)
    top = usable[-1]  # the bottleneck shows at the highest load
    last, prev = usable[-1], (usable[-2] if len(usable) > 1 else None)
    saturated = prev is not None and last.sustained_tokens_per_s < SATURATION_GAIN * \
        prev.sustained_tokens_per_s
    prm, out = _shape(usable, prompt_tokens, output_tokens)
    evidence: list[str] = []
    checks: dict[str, float | None] = {"stream_ratio": None, "host_ratio": None}
    quota, quota_ceiling = _quota_ceiling(levels, prm, out)
    limited = [lv for lv in levels if lv.rate_limited]
    ceilings: dict[str, float] = {}

    if _quota_binds(levels, usable, prompt_tokens, output_tokens):
        binding = "api_rate_limit"
        got = max(lv.sustained_tokens_per_s for lv in (limited or usable))
        value = quota_ceiling if quota_ceiling is not None else got
        if limited:
            evidence.append(f"HTTP 429 on {sum(lv.rate_limited for lv in limited)} requests, "
                            f"from concurrency {limited[0].concurrency}")
        else:
            evidence.append("no 429 yet, but the measured ceiling sits at the quota")
        if quota_ceiling is not None:
            evidence.append(f"quota header: {quota:,.0f} tokens/min = {quota_ceiling:,.0f} "
                            f"output tokens/s at {prm:.0f} + {out:.0f} tokens per request")
        evidence.append(f"measured successful output: up to {got:,.0f} tokens/s")
        ceilings[binding] = value
    elif probe is not None and probe.requests_ok and _at(usable, probe.concurrency) and \
            probe.output_tokens_per_s >= STREAM_RATIO * _at(usable, probe.concurrency):
        binding = "network_io"
        streamed = _at(usable, probe.concurrency)
        checks["stream_ratio"] = probe.output_tokens_per_s / streamed
        value = measured
        evidence.append(f"without streaming, concurrency {probe.concurrency} ran "
                        f"{checks['stream_ratio']:.1f}x faster ({probe.output_tokens_per_s:,.0f} "
                        f"vs {streamed:,.0f} tokens/s): the stream's "
                        f"{top.bytes_per_output_token:,.0f} bytes per token bind")
        ceilings[binding] = value
    else:
        value = measured
        if probe is not None and probe.requests_ok and _at(usable, probe.concurrency):
            checks["stream_ratio"] = probe.output_tokens_per_s / _at(usable, probe.concurrency)
            evidence.append(f"without streaming the rate is {checks['stream_ratio']:.2f}x: "
                            "the network is not the limit")
        timed = math.isfinite(top.tpot_ms_p50) and top.decode_batch > 0
        priced = _host_ratio(top, gpu, prm, out) if gpu is not None else None
        if not timed:
            evidence.append("no request streamed two separately timed tokens, so decoding "
                            "could not be timed: raise --output-tokens")
        elif gpu is not None and priced is None:
            evidence.append(f"the TPS model cannot run {top.decode_batch:.0f} requests of "
                            f"this shape on {gpu.gpu} x{gpu.tensor_parallel}: check --gpu "
                            "and --tensor-parallel; judged without the GPU")
        if gpu is not None and priced is not None:
            ratio, model_ms, legs = priced
            checks["host_ratio"] = ratio
            evidence.append(f"at concurrency {top.concurrency}, {top.decode_batch:.1f} requests "
                            f"decode at once; measured TPOT {top.tpot_ms_p50:.1f} ms vs "
                            f"{model_ms:.1f} ms for {gpu.model} on {gpu.gpu} (TPS model)")
            if ratio >= HOST_RATIO:
                binding = "cpu_overhead"
                evidence.append(f"each step takes {ratio:.1f}x what the GPU needs: host "
                                "work (scheduling, sampling, detokenising) sets the pace")
            else:
                binding = ("memory_bandwidth" if legs["memory_ms"] >= legs["compute_ms"]
                           else "compute")
                evidence.append(f"the GPU explains the step ({ratio:.2f}x the model); its "
                                f"roofline legs: memory {legs['memory_ms']:.1f} ms, compute "
                                f"{legs['compute_ms']:.1f} ms")
            b = max(1, round(top.decode_batch))
            for kind, leg in (("memory_bandwidth", legs["memory_ms"]),
                              ("compute", legs["compute_ms"])):
                if kind != binding and leg > 0 and b / leg * 1e3 > value:
                    ceilings[kind] = b / leg * 1e3
        else:
            first = usable[0]
            growth = (math.log(top.tpot_ms_p50 / first.tpot_ms_p50)
                      / math.log(top.decode_batch / first.decode_batch)
                      if timed and math.isfinite(first.tpot_ms_p50) and
                      top.decode_batch > first.decode_batch * 1.5 and
                      first.tpot_ms_p50 > 0 else 0.0)
            binding = "memory_bandwidth" if growth < 0.5 else "compute"
            evidence.append(f"TPOT grows as batch^{growth:.2f} from {first.decode_batch:.1f} "
                            f"to {top.decode_batch:.1f} requests decoding: "
                            + ("extra requests are nearly free (weights streaming)"
                               if growth < 0.5 else "each request adds work (compute; "
                               "or host overhead: pass the GPU to tell them apart)"))
        ceilings[binding] = value
    if quota_ceiling is not None and "api_rate_limit" not in ceilings and \
            quota_ceiling > value:
        ceilings["api_rate_limit"] = quota_ceiling
    if not saturated:
        evidence.append(f"the rate still rose at the top level ({last.sustained_tokens_per_s:,.0f}"
                        " tokens/s): the ceiling is at least this; audit higher concurrency")
    result = bottleneck.audit(ceilings)
    return Verdict(binding=result.binding, ceiling_tokens_per_s=result.ceiling_tokens_per_s,
                   saturated=saturated, evidence=evidence, ceilings=ceilings, audit=result,
                   checks=checks)


def _at(levels: Sequence[LevelStats], concurrency: int) -> float:
    """Output rate of the level at ``concurrency`` (0 if absent)."""
    return next((lv.output_tokens_per_s for lv in levels if lv.concurrency == concurrency),
                0.0)
