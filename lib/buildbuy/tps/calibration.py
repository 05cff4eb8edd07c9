"""The handful of global constants behind the TPS model, and how they were fitted.

The model in :mod:`buildbuy.tps.model` is a roofline built from datasheet figures. Real
kernels reach only part of the datasheet peak, and each decode step pays fixed costs.
Six numbers describe that, one value each for every GPU and every model:

``bandwidth_efficiency``
    Share of the datasheet memory bandwidth that weight and KV-cache streaming reaches.
``decode_flops_efficiency`` / ``prefill_flops_efficiency``
    Share of the dense datasheet FLOP/s that matrix products reach in a decode step
    (few rows per matrix) and in a prefill pass (thousands of rows).
``step_overhead_ms`` / ``layer_overhead_ms``
    Fixed time per step and per layer that no roofline explains: kernel boundaries,
    norms, sampling. Seen as the gap between the weight-streaming floor and a batch-1 step.
``roofline_sharpness``
    How a step blends its memory time ``m`` and compute time ``c``:
    ``(m**p + c**p) ** (1/p)``. ``p = inf`` is the textbook ``max(m, c)``; real kernels
    near the ridge point overlap the two imperfectly, so a finite ``p`` fits better.

They are fitted by :func:`fit` on the shared H100 SXM measurements only (39 decode steps
and 8 prefill passes of two model shapes, ``data/measurements/``), as one least-squares
problem on log step time: no per-shape parameter. Everything else (other GPUs, larger
models, tensor parallelism) is held out and checked in ``benchmarks/bench_accuracy.py``.

The host-side constants come from the eager and ``generate()`` measurements:
``eager_host_ms_per_layer`` is the batch-1 eager step of the 8B shape divided by its 32
layers (launch-bound: the GPU idles between Python-issued kernels);
``naive_host_ms_per_layer`` is the mean Hugging Face ``generate()`` step of the 8B shape
on the H100 (64.9 and 62.5 ms) divided by 32. Scaling host time with the layer count is
an assumption: only one model shape was measured.

Constants not fitted here carry their source. The all-reduce constants
(``allreduce_latency_ms`` = 14.6 us, ``allreduce_latency_per_peer_ms`` = 2.82 us per extra
GPU, ``allreduce_bus_efficiency`` = 0.64 / 0.76 / 0.82 of the link for 2 / 4 / 8 GPUs) are
fitted to NCCL all-reduce times profiled on an 8 x H100 DGX by Microsoft's Vidur
(:mod:`buildbuy.tps.comm` has the rows, the fit and the source); the 8-GPU share matches the
370 of 450 GB/s NVIDIA's NCCL maintainer quotes. They replace a flat 16 us plus the full
line rate (kipply, 2022), which priced a 13 MB all-reduce over 8 GPUs at 67 us, not 97 us.
``inter_node_gbps`` is the 25 GB/s per GPU between nodes of NVIDIA's aiconfigurator system
files; ``memory_utilisation`` is vLLM's default ``gpu_memory_utilization=0.9``.

The serving-level constants (``engine_layer_ms``, ``engine_sequence_layer_ms``,
``fp8_flops_share``, ``moe_efficiency``, ``prefill_attention_share``, the Ampere / Ada /
CDNA3 ``architecture_scale`` against Hopper, and the PCIe all-reduce) are fitted on the
``fit`` runs of ``data/saturated_throughput.csv`` by
:func:`buildbuy.tps.saturation_fit.fit_serving`; Hopper's scales stay 1, so the fitted H100
steps above are untouched. The NCCL topology rule prices a PCIe Gen4 x16 link at 24 of its
32 GB/s (``width x speed / 80``, ``NVIDIA/nccl`` ``src/graph/topo.cc``); the TensorRT-LLM
PCIe runs fit a lower 51% and a start-up of 0.17 ms (2 GPUs) to 0.11 ms (8 GPUs), about
ten times NVLink's. ``family_margin`` is
:func:`buildbuy.tps.accuracy.measured_margins` on the ``held_out`` runs. Tests re-run both
and check the stored values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["CALIBRATION", "Calibration", "fit"]


@dataclass(frozen=True)
class Calibration:
    """Global efficiency factors and overheads of the TPS model (see module docstring)."""

    bandwidth_efficiency: float
    decode_flops_efficiency: float
    prefill_flops_efficiency: float
    step_overhead_ms: float
    layer_overhead_ms: float
    roofline_sharpness: float
    eager_host_ms_per_layer: float
    naive_host_ms_per_layer: float
    allreduce_latency_ms: float = 0.0146
    allreduce_latency_per_peer_ms: float = 0.00282
    allreduce_bus_efficiency: tuple[tuple[int, float], ...] = ((2, 0.639), (4, 0.758),
                                                               (8, 0.817))
    inter_node_gbps: float = 25.0
    gpus_per_node: int = 8
    memory_utilisation: float = 0.90
    # serving-level constants, fitted on the "fit" runs of data/saturated_throughput.csv
    # (buildbuy.tps.saturation_fit); the defaults leave the step model as it was
    engine_sequence_layer_ms: float = 0.0
    engine_layer_ms: float = 0.0
    fp8_flops_share: float = 1.0
    moe_efficiency: float = 1.0
    prefill_attention_share: float = 1.0
    architecture_scale: tuple[tuple[str, float, float], ...] = ()
    pcie_bus_efficiency: float = 0.75
    pcie_latency_ms: float = 0.040
    pcie_latency_8_ms: float = 0.040
    # planning margin per GPU family, from the held-out runs (buildbuy.tps.accuracy)
    family_margin: tuple[tuple[str, float], ...] = ()

    def margin_for(self, architecture: str) -> float:
        """Share by which fleet sizing derates this family's modelled capacity (0 if none)."""
        return dict(self.family_margin).get(architecture, 0.0)

    def scale_for(self, architecture: str) -> tuple[float, float]:
        """``(bandwidth scale, FLOP/s scale)`` of an architecture relative to Hopper (1, 1)."""
        for name, bw, fl in self.architecture_scale:
            if name == architecture:
                return bw, fl
        return 1.0, 1.0


#: The fitted values. ``tests/test_tps.py`` re-runs :func:`fit` and checks they match.
CALIBRATION = Calibration(
    bandwidth_efficiency=0.8978,
    decode_flops_efficiency=0.6992,
    prefill_flops_efficiency=0.6284,
    step_overhead_ms=0.0535,
    layer_overhead_ms=0.0506,
    roofline_sharpness=2.51,
    eager_host_ms_per_layer=0.3189,
    naive_host_ms_per_layer=1.9904,
    # buildbuy.tps.saturation_fit.fit_serving() on the 340 "fit" runs
    engine_layer_ms=0.06388,
    engine_sequence_layer_ms=0.0001573,
    fp8_flops_share=0.9493,
    moe_efficiency=0.7487,
    prefill_attention_share=0.178,
    architecture_scale=(("ampere", 0.862, 1.008), ("ada", 0.9073, 0.8449),
                        ("cdna3", 0.4391, 0.4391)),
    pcie_bus_efficiency=0.5113,
    pcie_latency_ms=0.1687,
    pcie_latency_8_ms=0.1074,
    # buildbuy.tps.accuracy.measured_margins() on the 223 "held_out" runs
    family_margin=(("ampere", 0.342), ("ada", 0.0), ("hopper", 0.0), ("blackwell", 0.154),
                   ("cdna3", 0.0)),
)


def fit() -> Calibration:
    """Fit the six GPU-side constants to the H100 measurements; derive the host ones.

    Least squares on ``log(predicted / measured)`` step time over every row of
    ``measured_decode`` and ``measured_prefill`` (``scipy.optimize.least_squares``,
    fixed start point, so the result is deterministic).

    Returns
    -------
    Calibration
        Rounded to 4 significant decimals as stored in :data:`CALIBRATION`.
    """
    from scipy.optimize import least_squares

    from buildbuy import data
    from buildbuy.tps import model as tps_model

    dec = data.load_table("measured_decode")
    pre = data.load_table("measured_prefill")
    gpu = data.get_gpu("H100-SXM")

    def build(x: np.ndarray) -> Calibration:
        return dataclasses.replace(
            CALIBRATION,
            bandwidth_efficiency=float(x[0]), decode_flops_efficiency=float(x[1]),
            prefill_flops_efficiency=float(x[2]), step_overhead_ms=float(x[3]),
            layer_overhead_ms=float(x[4]), roofline_sharpness=float(x[5]),
        )

    def residuals(x: np.ndarray) -> np.ndarray:
        cal = build(x)
        out = []
        for r in dec.itertuples():
            est = tps_model.decode(r.model, gpu, batch=int(r.batch), context=int(r.context),
                                   calibration=cal)
            out.append(np.log(est.step_ms / r.step_ms))
        for r in pre.itertuples():
            est = tps_model.prefill(r.model, gpu, batch=int(r.batch),
                                    prompt_tokens=int(r.prompt_tokens), calibration=cal)
            out.append(np.log(est.step_ms / r.step_ms))
        return np.asarray(out)

    x0 = np.array([0.85, 0.6, 0.6, 0.5, 0.03, 3.0])
    lo = np.array([0.3, 0.1, 0.1, 0.0, 0.0, 1.0])
    hi = np.array([1.0, 1.0, 1.0, 5.0, 0.5, 20.0])
    res = least_squares(residuals, x0, bounds=(lo, hi))
    x = res.x
    rounded = [round(float(v), 4) for v in x[:5]] + [round(float(x[5]), 2)]

    launch = data.load_table("measured_launch_overhead")
    naive = data.load_table("measured_naive_generate")
    n_layers = data.get_model("llama-3.1-8b").n_layers
    first = launch[(launch.model == "llama-3.1-8b") & (launch.batch == 1)].iloc[0]
    eager = round(float(first.eager_step_ms) / n_layers, 4)
    h100_naive = naive[naive.gpu == "H100-SXM"]
    naive_ms = round(float(h100_naive.decode_step_ms.mean()) / n_layers, 4)
    return dataclasses.replace(
        CALIBRATION,
        bandwidth_efficiency=rounded[0], decode_flops_efficiency=rounded[1],
        prefill_flops_efficiency=rounded[2], step_overhead_ms=rounded[3],
        layer_overhead_ms=rounded[4], roofline_sharpness=rounded[5],
        eager_host_ms_per_layer=eager, naive_host_ms_per_layer=naive_ms,
    )
