"""Fit the serving-level constants on the ``fit`` runs of ``data/saturated_throughput.csv``.

The step model (:mod:`buildbuy.tps.model`) was calibrated on bare H100 steps. Served at
saturation by a real engine, other GPUs and other model types, it meets effects those
steps do not show. Thirteen constants describe them; they are fitted here together, by
least squares on ``log(modelled / measured)`` output tokens/s over the 340 ``fit`` runs
only, never on the ``held_out`` runs that :mod:`buildbuy.tps.accuracy` reports:

====================================  ===================================================
constant                              what it stands for
====================================  ===================================================
``engine_layer_ms``                   engine time per layer and step
``engine_sequence_layer_ms``          engine time per running sequence, layer and step
``fp8_flops_share``                   share of the doubled FP8 peak FP8 matrix products
                                      reach, relative to bf16 ones
``moe_efficiency``                    a mixture of experts' routed matrix products
                                      against a dense model's (routing, permutation,
                                      grouped GEMMs)
``prefill_attention_share``           chunked-prefill attention against a prefill's
                                      matrix products
``architecture_scale`` (5 numbers)    Ampere, Ada (bandwidth, FLOP/s) and CDNA3 (one
                                      number for both) against Hopper, which stays at 1
``pcie_bus_efficiency``               share of a PCIe link an all-reduce achieves
``pcie_latency_ms``, ``_8_ms``        all-reduce start-up over PCIe for 2 and 8 GPUs
====================================  ===================================================

The choice of these terms was made on the fit set alone, by five-fold cross-validation
by configuration (model, GPU, precision, TP) within the fit runs (median / p90 absolute
error of the runs left out of each fold): a per-sequence cost that grows with the layer
count rather than a flat one (7.2% / 20.1% against 7.9% / 21.1%); a chunked-prefill
attention share (6.6% / 19.0%); an engine cost per layer rather than per step (6.4% /
17.8%; with both, the per-step one fits to 0). Terms that fitted to 1 (a chunked-prefill
GEMM share) or did not improve the cross-validated error (a paged-KV bandwidth share)
were left out.

Blackwell has no FP8 or bf16 run in the table (NVIDIA publishes B200 only in FP4): it
keeps Hopper's factors, and :mod:`buildbuy.tps.accuracy` gives it a margin.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from buildbuy.tps.calibration import CALIBRATION, Calibration

__all__ = ["PARAMETERS", "build", "fit_serving"]

#: Fitted constants: name -> (start, lower bound, upper bound). Times in ms.
PARAMETERS: dict[str, tuple[float, float, float]] = {
    "engine_sequence_layer_ms": (0.0, 0.0, 0.002),
    "engine_layer_ms": (0.0, 0.0, 0.2),
    "fp8_flops_share": (0.8, 0.2, 1.0),
    "moe_efficiency": (0.8, 0.2, 1.5),
    "prefill_attention_share": (1.0, 0.1, 2.0),
    "ampere_bandwidth": (1.0, 0.3, 1.5),
    "ampere_flops": (1.0, 0.3, 1.5),
    "ada_bandwidth": (1.0, 0.3, 1.5),
    "ada_flops": (1.0, 0.3, 1.5),
    "cdna3": (0.5, 0.1, 1.5),
    "pcie_bus_efficiency": (0.75, 0.05, 1.0),
    "pcie_latency_ms": (0.040, 0.005, 2.0),
    "pcie_latency_8_ms": (0.040, 0.005, 2.0),
}


def build(values: dict[str, float], base: Calibration | None = None) -> Calibration:
    """A :class:`Calibration` with the serving constants set from ``values``."""
    v = values
    return dataclasses.replace(
        base or CALIBRATION,
        engine_layer_ms=v["engine_layer_ms"],
        engine_sequence_layer_ms=v["engine_sequence_layer_ms"],
        fp8_flops_share=v["fp8_flops_share"], moe_efficiency=v["moe_efficiency"],
        prefill_attention_share=v["prefill_attention_share"],
        architecture_scale=(("ampere", v["ampere_bandwidth"], v["ampere_flops"]),
                            ("ada", v["ada_bandwidth"], v["ada_flops"]),
                            ("cdna3", v["cdna3"], v["cdna3"])),
        pcie_bus_efficiency=v["pcie_bus_efficiency"], pcie_latency_ms=v["pcie_latency_ms"],
        pcie_latency_8_ms=v["pcie_latency_8_ms"])


def fit_serving(base: Calibration | None = None) -> dict[str, float]:
    """Least-squares fit of :data:`PARAMETERS` on the ``fit`` runs (deterministic start).

    Returns
    -------
    dict
        Name -> value, rounded to 4 significant digits as stored in ``CALIBRATION``.
    """
    from scipy.optimize import least_squares

    from buildbuy import data
    from buildbuy.tps.accuracy import predict_saturated_run

    runs = data.load_table("saturated_throughput")
    fit_runs = list(runs[runs.split == "fit"].itertuples())
    names = list(PARAMETERS)
    start = np.array([PARAMETERS[n][0] for n in names])
    lower = np.array([PARAMETERS[n][1] for n in names])
    upper = np.array([PARAMETERS[n][2] for n in names])

    def residuals(x: np.ndarray) -> np.ndarray:
        cal = build(dict(zip(names, x, strict=True)), base)
        return np.array([np.log(predict_saturated_run(r, cal).output_tokens_per_s
                                / r.output_tokens_per_s) for r in fit_runs])

    res = least_squares(residuals, start, bounds=(lower, upper), diff_step=1e-3)
    return {n: float(f"{v:.4g}") for n, v in zip(names, res.x, strict=True)}
