"""Saturated throughput of one replica, as a serving engine's offline benchmark reports it.

Convention
----------
``trtllm-bench throughput`` and vLLM's ``benchmark_throughput`` queue every request at
once and report output tokens per second of the whole tensor-parallel group. The engine
admits as many sequences as its KV cache and caps allow (:func:`~buildbuy.tps.engines.
admitted_batch`); each step decodes one token for each of them and, with chunked prefill,
carries on average ``batch x prompt / output`` prompt tokens of arriving requests::

    step_ms = decode(batch, context = prompt + output / 2,
                     prefill_tokens = batch x prompt / output).step_ms
              + n_layers x (engine_layer_ms + batch x engine_sequence_layer_ms)
    output_tokens_per_s = batch / step_ms x 1000

``engine_layer_ms`` and ``engine_sequence_layer_ms`` (:mod:`buildbuy.tps.calibration`)
are what a serving engine adds per layer, and per running sequence and layer, to a bare
CUDA-graph step (its own kernels and plugins, KV page bookkeeping), which no roofline
sees. A benchmark of ``num_requests`` uniform requests runs in waves: the engine reserves
each request's whole sequence, so slots free up together and the last wave runs part-full
(``num_requests = None``: steady state, no tail).

The model is fitted on the ``fit`` runs of ``data/saturated_throughput.csv`` only and
checked on the ``held_out`` runs (:mod:`buildbuy.tps.accuracy`). Where the held-out error
of a GPU family misses the target, :func:`max_throughput` reports the measured margin for
that family (``margin_share``) and ``planning_output_tokens_per_s`` applies it.

Examples
--------
>>> p = max_throughput("llama-3.1-8b", "H100-SXM", prompt_tokens=1000, output_tokens=1000,
...                    precision="fp8")
>>> p.batch_limited_by, p.bound
('kv_cache', 'memory_bandwidth')
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from buildbuy._validate import bad, integer
from buildbuy.data import GPU, Model, get_gpu, get_model
from buildbuy.tps.calibration import CALIBRATION, Calibration
from buildbuy.tps.engines import ServingEngine, admitted_batch, get_engine
from buildbuy.tps.model import decode

__all__ = ["SaturatedPoint", "engine_step_ms", "max_throughput", "serving_calibration",
           "wave_efficiency"]


@dataclass(frozen=True)
class SaturatedPoint:
    """The operating point of one replica at saturation (see module docstring).

    ``output_tokens_per_s`` is the model's estimate for the whole tensor-parallel group;
    ``planning_output_tokens_per_s`` divides it by ``1 + margin_share``, the measured
    optimism of this GPU family where the model misses its accuracy target (0 elsewhere).
    ``bound`` is the largest share of the step; ``batch_limited_by`` what stopped the
    engine admitting more sequences (``kv_cache``, ``max_batch``, ``token_budget`` or
    ``requests``).
    """

    model: str
    gpu: str
    precision: str
    tensor_parallel: int
    serving_engine: str
    prompt_tokens: int
    output_tokens: int
    batch: int
    batch_limited_by: str
    bound: str
    step_ms: float
    output_tokens_per_s: float
    margin_share: float = 0.0

    @property
    def n_gpus(self) -> int:
        """GPUs in the replica."""
        return self.tensor_parallel

    @property
    def ms_per_output_token(self) -> float:
        """What one user sees between tokens at this point."""
        return self.step_ms

    @property
    def tokens_per_s(self) -> float:
        """Prompt plus output tokens per second of the replica."""
        return self.output_tokens_per_s * (1 + self.prompt_tokens / self.output_tokens)

    @property
    def output_tokens_per_s_per_gpu(self) -> float:
        """``output_tokens_per_s`` divided by the GPUs of the group."""
        return self.output_tokens_per_s / self.tensor_parallel

    @property
    def planning_output_tokens_per_s(self) -> float:
        """``output_tokens_per_s / (1 + margin_share)``: what to plan a fleet on."""
        return self.output_tokens_per_s / (1.0 + self.margin_share)


def engine_step_ms(batch: int, n_layers: int, calibration: Calibration | None = None) -> float:
    """Time a serving engine adds to each step, per layer and per sequence and layer.

    ``n_layers x (engine_layer_ms + batch x engine_sequence_layer_ms)``: work a bare
    CUDA-graph step does not do (the engine's per-layer kernels and plugins, per-sequence
    bookkeeping such as KV page tables, one entry per layer).

    >>> cal = Calibration(*[1.0] * 8, engine_layer_ms=0.02, engine_sequence_layer_ms=1e-4)
    >>> round(engine_step_ms(100, 32, cal), 2)
    0.96
    """
    cal = calibration or CALIBRATION
    return n_layers * (cal.engine_layer_ms + batch * cal.engine_sequence_layer_ms)


def serving_calibration(gpu: str | GPU, calibration: Calibration | None = None) -> Calibration:
    """The calibration a replica served by an engine runs under on ``gpu``'s architecture.

    The bandwidth and FLOP/s shares (fitted on bare H100 steps) times the architecture's
    ``(bandwidth, FLOP/s)`` scale against Hopper (:mod:`buildbuy.tps.saturation_fit`):
    what an engine reaches on an Ampere, Ada or CDNA3 GPU differs from Hopper by more than
    the datasheets do. Hopper (and Blackwell, unmeasured) keep 1.

    >>> cal = serving_calibration("A100-80GB")
    >>> round(cal.bandwidth_efficiency / CALIBRATION.bandwidth_efficiency, 3)
    0.862
    """
    cal = calibration or CALIBRATION
    bw, fl = cal.scale_for(get_gpu(gpu).architecture)
    if (bw, fl) == (1.0, 1.0):
        return cal
    return dataclasses.replace(
        cal, bandwidth_efficiency=cal.bandwidth_efficiency * bw,
        decode_flops_efficiency=cal.decode_flops_efficiency * fl,
        prefill_flops_efficiency=cal.prefill_flops_efficiency * fl)


def wave_efficiency(num_requests: int | None, batch: int, step_ms_full: float,
                    step_ms_tail: float) -> float:
    """Throughput of a finite run relative to steady state, when requests run in waves.

    ``k = floor(n / batch)`` full waves at ``step_ms_full`` and one of ``r = n - k x batch``
    requests at ``step_ms_tail``; the efficiency is ``n x step_full / (batch x (k x
    step_full + [r > 0] x step_tail))``. ``None`` (steady state) gives 1.

    >>> round(wave_efficiency(3000, 1000, 10.0, 5.0), 3), wave_efficiency(None, 7, 1.0, 1.0)
    (1.0, 1.0)
    >>> round(wave_efficiency(2500, 1000, 10.0, 6.0), 3)
    0.962
    """
    if num_requests is None or num_requests <= batch:
        return 1.0
    k, r = divmod(num_requests, batch)
    time = k * step_ms_full + (step_ms_tail if r else 0.0)
    return num_requests * step_ms_full / (batch * time)


def _step_ms(m: Model, g: GPU, batch: int, prm: int, out: int, precision: str,
             kv_precision: str | None, tp: int, cal: Calibration) -> tuple[float, str]:
    est = decode(m, g, batch=batch, context=min(prm + out // 2, m.max_context),
                 prefill_tokens=round(batch * prm / out), precision=precision,
                 kv_precision=kv_precision, tensor_parallel=tp,
                 calibration=serving_calibration(g, cal), check_memory=False)
    return est.step_ms + engine_step_ms(batch, m.n_layers, cal), est.bound


def max_throughput(model: str | Model, gpu: str | GPU, *, prompt_tokens: int,
                   output_tokens: int, precision: str = "bf16", tensor_parallel: int = 1,
                   kv_precision: str | None = None,
                   serving_engine: str | ServingEngine = "trtllm",
                   num_requests: int | None = None,
                   calibration: Calibration | None = None) -> SaturatedPoint:
    """The saturated operating point of one replica (convention in the module docstring).

    Parameters
    ----------
    model, gpu : str or Model/GPU
        Names from ``data/models.csv`` / ``data/gpus.csv`` or objects.
    prompt_tokens, output_tokens : int
        Tokens in and out of every request (uniform, as the benchmarks use).
    precision : {"bf16", "fp8", "int4"}
        Weight precision; the KV cache follows it (fp8 for fp8) unless ``kv_precision``.
    tensor_parallel : int
        GPUs of the replica.
    serving_engine : {"trtllm", "vllm"} or ServingEngine
        Memory policy, admission and caps (:mod:`buildbuy.tps.engines`).
    num_requests : int, optional
        Requests in the run; ``None`` = steady state (no part-full last wave).

    Returns
    -------
    SaturatedPoint
        ``output_tokens_per_s`` (whole group), ``batch``, ``bound``, ``batch_limited_by``,
        ``margin_share`` and ``planning_output_tokens_per_s``.

    Examples
    --------
    >>> p = max_throughput("llama-3.1-70b", "A100-80GB", prompt_tokens=128,
    ...                    output_tokens=2048, tensor_parallel=2)
    >>> p.batch_limited_by
    'kv_cache'
    """
    cal = calibration or CALIBRATION
    m, g, eng = get_model(model), get_gpu(gpu), get_engine(serving_engine)
    prm = integer("prompt_tokens", prompt_tokens, minimum=1)
    out = integer("output_tokens", output_tokens, minimum=1)
    tp = integer("tensor_parallel", tensor_parallel, minimum=1, maximum=64)
    if prm + out > m.max_context:
        raise bad("output_tokens", output_tokens,
                  f"<= {m.max_context - prm} so that prompt + output fit {m.name}'s "
                  f"{m.max_context}-token context")
    adm = admitted_batch(m, g, prompt_tokens=prm, output_tokens=out, precision=precision,
                         kv_precision=kv_precision, tensor_parallel=tp, serving_engine=eng,
                         num_requests=num_requests)
    step, bound = _step_ms(m, g, adm.batch, prm, out, precision, kv_precision, tp, cal)
    rate = adm.batch / step * 1e3
    if num_requests is not None and num_requests > adm.batch:
        tail = num_requests % adm.batch
        tail_ms = _step_ms(m, g, tail, prm, out, precision, kv_precision, tp, cal)[0] \
            if tail else step
        rate *= wave_efficiency(num_requests, adm.batch, step, tail_ms)
    if eng.admission == "paged":
        rate /= 1.0 + _recompute_share(adm.kv_tokens_per_gpu, adm.batch, prm, out)
    if not math.isfinite(rate) or rate <= 0:
        raise bad("gpu", g.name, "a configuration with a positive throughput")
    return SaturatedPoint(
        model=m.name, gpu=g.name, precision=precision, tensor_parallel=tp,
        serving_engine=eng.name, prompt_tokens=prm, output_tokens=out, batch=adm.batch,
        batch_limited_by=adm.limited_by, bound=bound, step_ms=step,
        output_tokens_per_s=rate, margin_share=cal.margin_for(g.architecture))


def _recompute_share(kv_tokens: float, batch: int, prm: int, out: int) -> float:
    """Extra work from preemption under paged admission, as a share of the run.

    A batch admitted at ``prompt + output / 2`` tokens per sequence outgrows the pool by the
    time its sequences reach full length: ``over = 1 - kv_tokens / (batch x (prompt +
    output))`` of them are preempted once, and each preempted sequence recomputes on
    average ``prompt + output / 2`` tokens as a prefill, at roughly a decode step's cost per
    ``1 + prompt / output`` tokens. The share is ``over x (prompt + output/2) / (prompt +
    output)``, 0 when the batch fits at full length.
    """
    over = max(0.0, 1.0 - kv_tokens / (batch * (prm + out)))
    return over * (prm + out / 2) / (prm + out)
