"""Time of one tensor-parallel all-reduce: a start-up latency plus bytes over a bus bandwidth.

Convention
----------
Megatron-style tensor parallelism sums the partial outputs of the ``N`` GPUs of a group
twice per layer (after attention and after the MLP): an all-reduce of the activations,
``tokens x hidden x 2`` bytes. One all-reduce of ``M`` bytes takes::

    t(N, M) = alpha(N) + 2 (N - 1) / N * M / (eta(N) * link)
    alpha(N) = allreduce_latency_ms + (N - 1) * allreduce_latency_per_peer_ms

``link`` is the GPU's per-direction interconnect bandwidth (``gpus.csv``: 450 GB/s NVLink 4
on H100/H200), capped at ``inter_node_gbps`` once the group spans more than one node.
``2 (N - 1) / N * M`` is what each GPU sends in a ring all-reduce; ``eta(N)`` is the share
of the line rate NCCL turns into that traffic ("bus bandwidth" in ``nccl-tests`` terms).

Where the constants come from
-----------------------------
Not from our fitted data. They are least-squares fits (:func:`fit_allreduce`) to NCCL
all-reduce times that Microsoft's Vidur simulator profiled on an 8 x H100 DGX
(``microsoft/vidur`` ``data/profiling/network/h100_dgx/all_reduce.csv`` @ e26eb8f, the
median of its repeats); :data:`H100_DGX_ALLREDUCE_US` holds the rows used, 19 of its ~3,000:

====  ==========  ==============  =========================================
N     alpha (us)  bus bandwidth   eta = bus bandwidth / 450 GB/s
====  ==========  ==============  =========================================
2     17.7        287 GB/s        0.64
4     22.8        341 GB/s        0.76
8     34.5        368 GB/s        0.82
====  ==========  ==============  =========================================

The 8-GPU share agrees with NVIDIA's NCCL maintainer: "450GB/s is the line rate. With the
protocol overhead (~20%) NCCL can get an effective NVLink bandwidth of 370GB/s"
(S. Jeaugey, NVIDIA/nccl-tests issue 212, 2024-05-06). The straight line
``alpha(N) = 14.6 us + 2.82 us x (N - 1)``, the least-squares line through the three
fitted latencies, passes within 0.4 us of each.
For group sizes between the measured ones ``eta`` is interpolated linearly in ``N``; above 8
it stays at the 8-GPU value.

Over PCIe (``interconnect_kind == "pcie"`` in ``gpus.csv``: L40S, L4, A10G, A100-PCIe,
H100-PCIe) the same ring runs through the PCIe link at ``pcie_bus_efficiency`` of its rate,
after a start-up of ``pcie_latency_ms`` (2 GPUs) to ``pcie_latency_8_ms`` (8 GPUs),
interpolated linearly. NCCL's own topology rule prices a Gen4 x16 link at 24 of its 32 GB/s
(``width x speed / 80``, ``NVIDIA/nccl`` ``src/graph/topo.cc``); fitted on the TensorRT-LLM
PCIe runs (:mod:`buildbuy.tps.saturation_fit`) it is 51%, with a start-up of 0.17 to 0.11
ms, about ten times NVLink's.

What it leaves out: serving engines (vLLM, TensorRT-LLM) replace NCCL by custom one-shot
all-reduce kernels for small messages, which can be much faster at batch 1: an NVLink-SHARP
all-reduce of 1-64 KB over 8 Hopper GPUs took 5.5-8 us in microsoft/mscclpp pull request 507,
against ``alpha(8)`` = 34 us here. NVLink SHARP also raises the 8-GPU bus bandwidth to
~480 GB/s for messages of hundreds of MB, far above the 1-60 MB a decode step sends. The
fit's largest error over the rows is 19% (the 1 MB row at N=8, where NCCL switches
protocol).

Examples
--------
>>> from buildbuy.data import get_gpu
>>> round(allreduce_ms(get_gpu("H100-SXM"), 8, 16 * 2**20) * 1e3)  # measured: 115 us
114
"""

from __future__ import annotations

import numpy as np

from buildbuy.data import GPU
from buildbuy.tps.calibration import CALIBRATION, Calibration

__all__ = ["H100_DGX_ALLREDUCE_US", "allreduce_ms", "bus_efficiency", "fit_allreduce"]

#: (GPUs, message bytes, median microseconds) of NCCL all-reduces on an 8 x H100 DGX,
#: read from microsoft/vidur data/profiling/network/h100_dgx/all_reduce.csv @ e26eb8f.
H100_DGX_ALLREDUCE_US: tuple[tuple[int, int, float], ...] = (
    (8, 1_048_576, 33.0), (8, 2_097_152, 39.0), (8, 2_949_120, 45.0),
    (8, 13_467_648, 109.0), (8, 16_777_216, 115.0), (8, 22_151_168, 147.0),
    (8, 28_049_408, 171.0), (8, 60_555_264, 321.0), (8, 64_880_640, 339.0),
    (4, 55_705_600, 268.0), (4, 60_030_976, 286.0), (4, 64_225_280, 305.0),
    (4, 67_108_864, 318.0),
    (2, 22_151_168, 95.0), (2, 25_034_752, 104.0), (2, 29_491_200, 120.0),
    (2, 33_554_432, 136.0), (2, 39_321_600, 154.0), (2, 44_695_552, 173.0),
)
_NVLINK4_GBPS = 450.0  # H100 SXM NVLink 4 per direction (gpus.csv)


def fit_allreduce(rows: tuple[tuple[int, int, float], ...] = H100_DGX_ALLREDUCE_US,
                  link_gbps: float = _NVLINK4_GBPS) -> dict[int, tuple[float, float]]:
    """Fit ``t = alpha + 2 (N-1)/N * M / (eta * link)`` separately for each group size.

    Returns
    -------
    dict
        ``{N: (alpha_us, eta)}``, by ordinary least squares on the rows of that ``N``.

    Examples
    --------
    >>> {n: (round(a, 1), round(e, 3)) for n, (a, e) in sorted(fit_allreduce().items())}
    {2: (17.7, 0.639), 4: (22.8, 0.758), 8: (34.5, 0.817)}
    """
    out: dict[int, tuple[float, float]] = {}
    for n in sorted({r[0] for r in rows}):
        sent = np.array([2.0 * (n - 1) / n * r[1] for r in rows if r[0] == n])
        us = np.array([r[2] for r in rows if r[0] == n])
        design = np.c_[np.ones_like(sent), sent]
        (alpha, us_per_byte), *_ = np.linalg.lstsq(design, us, rcond=None)
        out[n] = (float(alpha), float(1e-3 / us_per_byte / link_gbps))
    return out


def bus_efficiency(tp: int, calibration: Calibration | None = None) -> float:
    """Share of the link's line rate an all-reduce over ``tp`` GPUs achieves (``eta(N)``).

    Examples
    --------
    >>> bus_efficiency(2), bus_efficiency(8), round(bus_efficiency(6), 4)
    (0.639, 0.817, 0.7875)
    """
    cal = calibration or CALIBRATION
    sizes, shares = zip(*cal.allreduce_bus_efficiency, strict=True)
    return float(np.interp(tp, sizes, shares))


def allreduce_ms(gpu: GPU, tp: int, message_bytes: float,
                 calibration: Calibration | None = None) -> float:
    """Milliseconds of one all-reduce of ``message_bytes`` over ``tp`` GPUs (0 for ``tp=1``).

    Examples
    --------
    >>> from buildbuy.data import get_gpu
    >>> h100 = get_gpu("H100-SXM")
    >>> round(allreduce_ms(h100, 2, 8 * 4096 * 2) * 1e3, 1)  # batch 8 of a 4096-wide model
    17.6
    """
    if tp == 1:
        return 0.0
    cal = calibration or CALIBRATION
    if gpu.interconnect_kind == "pcie":
        sent = 2.0 * (tp - 1) / tp * message_bytes
        alpha = float(np.interp(tp, (2, 8), (cal.pcie_latency_ms, cal.pcie_latency_8_ms)))
        return alpha + sent / (cal.pcie_bus_efficiency * gpu.interconnect_gbps
                                             * 1e9) * 1e3
    link_gbps = gpu.interconnect_gbps if tp <= cal.gpus_per_node else min(
        gpu.interconnect_gbps, cal.inter_node_gbps)
    alpha_ms = cal.allreduce_latency_ms + (tp - 1) * cal.allreduce_latency_per_peer_ms
    sent = 2.0 * (tp - 1) / tp * message_bytes
    return alpha_ms + sent / (bus_efficiency(tp, cal) * link_gbps * 1e9) * 1e3
