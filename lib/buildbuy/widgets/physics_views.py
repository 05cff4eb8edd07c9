"""Lesson 1 tables: fleets, unit costs, drift, the bottleneck audit and the model's error.

Each function returns a rounded :class:`pandas.DataFrame` built from library calls
(:mod:`buildbuy.tps`, :mod:`buildbuy.costs`, :mod:`buildbuy.drift`,
:mod:`buildbuy.bottleneck`), so a lesson cell stays one line and prints stable numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from buildbuy import bottleneck, costs, data, drift, tps
from buildbuy._validate import integer
from buildbuy.widgets._panel import Table, as_decision, as_scenario

__all__ = ["audit_table", "fleet_table", "model_accuracy", "overhead_table", "psi_table",
           "request_tokens", "saturation_accuracy", "static_batching_table",
           "unit_cost_table"]


def request_tokens(scenario: Any) -> tuple[int, int]:
    """``(prompt_tokens, output_tokens)`` of one request: ``tokens_per_request`` split by
    ``output_token_share`` (output rounded to a whole token), as :mod:`buildbuy.tco` does."""
    s = as_scenario(scenario)
    out = round(s.tokens_per_request * s.output_token_share)
    return int(s.tokens_per_request - out), int(out)


def fleet_table(scenario: Any) -> Table:
    """GPUs needed at year 1's peak, for the scenario's choice and the alternatives.

    Rows: the scenario's model in bf16 on each GPU of ``data/gpus.csv``, then in fp8 and
    int4 on its GPU, then a smaller or larger Llama-3.1 model on its GPU. Each row is
    :func:`buildbuy.tps.size_fleet` at the peak the decision record sizes year 1 for
    (``Decision.fleet.peak_tokens_per_s``: year 1's busiest month x ``peak_to_average``)
    with the scenario's request shape and per-user latency target, so the scenario's own
    row gives the record's ``gpus_needed_year_1`` (before owned hardware rounds up to
    whole servers). A combination that cannot meet the target shows ``does not fit``.
    """
    s = as_scenario(scenario)
    prompt, output = request_tokens(s)
    peak = float(as_decision(s).fleet["peak_tokens_per_s"].iloc[0])
    other = "llama-3.1-8b" if s.self_host_model != "llama-3.1-8b" else "llama-3.1-70b"
    cases = [(s.self_host_model, g, "bf16") for g in data.gpu_names()]
    cases += [(s.self_host_model, s.gpu, p) for p in tps.PRECISIONS if p != "bf16"]
    cases += [(other, s.gpu, "bf16")]
    rows = []
    for model, gpu, precision in cases:
        row: dict[str, Any] = {"model": model, "gpu": gpu, "weights": precision}
        try:
            f = tps.size_fleet(model, gpu, peak_tokens_per_s=peak, prompt_tokens=prompt,
                               output_tokens=output, precision=precision,
                               max_ms_per_output_token=s.max_ms_per_output_token)
        except ValueError:
            row.update(gpus_needed_year_1_peak="does not fit", tensor_parallel="",
                       replicas="", batch="",
                       tokens_per_s_per_gpu="", ms_per_output_token="")
        else:
            row.update(gpus_needed_year_1_peak=f.n_gpus, tensor_parallel=f.tensor_parallel,
                       replicas=f.replicas, batch=f.batch,
                       tokens_per_s_per_gpu=round(f.tokens_per_s_per_gpu),
                       ms_per_output_token=round(f.ms_per_output_token, 1))
        rows.append(row)
    return Table(pd.DataFrame(rows, dtype=object).set_index(["model", "gpu", "weights"]))


def static_batching_table(scenario: Any, *, batches: tuple[int, ...] = (1, 4, 16, 64),
                          n_batches: int = 4000, seed: int = 0) -> Table:
    """How much of a static batch's slots do useful work, against continuous batching.

    Convention: a static batch of ``B`` requests runs until its longest answer is done, so
    it takes ``max(L_i)`` decode steps to produce ``sum(L_i)`` tokens; the share of slot-steps
    that produce a token is ``sum(L_i) / (B max(L_i))``. Continuous batching refills a slot
    as soon as its request ends, so (ignoring admission gaps) every slot-step is useful.
    Answer lengths ``L_i`` are drawn (seeded, ``numpy.random.default_rng(seed)``) from an
    exponential distribution with the scenario's mean output tokens, an assumption for
    illustration: real length spreads differ. For exponential lengths the expected
    longest of ``B`` answers is ``mean x H_B`` (``H_B`` the ``B``-th harmonic number), so
    ``1 / H_B`` is a closed-form guide to the simulated share (column ``1/H_B``).

    Columns: ``slot_use_static`` (simulated mean over ``n_batches`` batches), ``1/H_B``,
    ``tokens_per_s_continuous`` (one GPU, :func:`buildbuy.tps.decode` at the scenario's
    request length) and ``tokens_per_s_static`` (= continuous x slot use). Batches that do
    not fit in memory are left out.
    """
    s = as_scenario(scenario)
    n_batches = integer("n_batches", n_batches, minimum=1)
    for b in batches:
        integer("batches", b, minimum=1)
    _, output = request_tokens(s)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    cap = tps.max_batch(s.self_host_model, s.gpu, context=int(s.tokens_per_request))
    rows = []
    for b in (b for b in batches if b <= cap):
        lengths = np.maximum(1.0, np.ceil(rng.exponential(output, size=(n_batches, b))))
        use = float(np.mean(lengths.sum(axis=1) / (b * lengths.max(axis=1))))
        est = tps.decode(s.self_host_model, s.gpu, batch=b, context=int(s.tokens_per_request))
        rows.append({"batch": b, "slot_use_static": round(use, 3),
                     "1/H_B": round(1.0 / float(np.sum(1.0 / np.arange(1, b + 1))), 3),
                     "tokens_per_s_continuous": round(est.tokens_per_s),
                     "tokens_per_s_static": round(est.tokens_per_s * use)})
    return Table(pd.DataFrame(rows).set_index("batch"))


def unit_cost_table(scenario: Any) -> Table:
    """Self-hosted USD per 1k tokens by hosting mode and utilisation, against the API.

    Throughput: prompt plus output tokens per second per GPU of the scenario's fleet, as
    the decision record's replica (at the latency target). Columns:
    ``usd_per_gpu_hour``,
    cost per 1k tokens at 100%, 50% and 10% utilisation, the API's blended price, and
    ``break_even_utilisation`` (above 1: never cheaper than the API).
    """
    s = as_scenario(scenario)
    tok = as_decision(s).replica.tokens_per_s_per_gpu
    api = costs.scenario_api_usd_per_1k_tokens(s)
    rows = []
    for hosting in costs.HOSTINGS:
        usd_h = costs.scenario_gpu_usd_per_hour(s, hosting)
        row = {"hosting": hosting, "usd_per_gpu_hour": round(usd_h, 2)}
        for u in (1.0, 0.5, 0.1):
            row[f"usd_per_1k_at_{u:.0%}"] = round(costs.self_hosted_usd_per_1k_tokens(
                usd_per_gpu_hour=usd_h, n_gpus=1, tokens_per_s=tok, utilisation=u), 5)
        row["api_usd_per_1k"] = round(api, 5)
        row["break_even_utilisation"] = round(costs.break_even_utilisation(
            s.api_model, output_token_share=s.output_token_share, usd_per_gpu_hour=usd_h,
            tokens_per_s_per_gpu=tok, cached_input_share=s.cached_input_share,
            discount=s.api_discount), 3)
        rows.append(row)
    return Table(pd.DataFrame(rows).set_index("hosting"))


def psi_table(*, months: int = 12, rows_per_month: int = 2000, drift_month: int = 6,
              seed: int = 0) -> Table:
    """Monthly PSI of a seeded stream whose main input drifts gradually from ``drift_month``.

    A covariate-drift stream (:func:`buildbuy.drift.make_stream`, gradual shape, one
    standard deviation at full drift, spread over three months). Month 1 is the
    reference; each later month's PSI (:func:`buildbuy.drift.psi`, 10 bins) is compared
    with the sample-size-aware threshold :func:`buildbuy.drift.psi_threshold` (5% false
    alarms) and the 0.25 rule of thumb.
    """
    months = integer("months", months, minimum=3)
    rows_per_month = integer("rows_per_month", rows_per_month, minimum=10)
    drift_month = integer("drift_month", drift_month, minimum=2, maximum=months)
    n = months * rows_per_month
    stream = drift.make_stream(n, kind="covariate", shape="gradual",
                               t0=(drift_month - 1) * rows_per_month,
                               width=3 * rows_per_month, seed=seed)
    x1 = stream.x[0, :, 0].reshape(months, rows_per_month)
    threshold = drift.psi_threshold(rows_per_month, rows_per_month)
    values = [float(drift.psi(x1[0], x1[m])) for m in range(1, months)]
    out = pd.DataFrame({"month": np.arange(2, months + 1), "psi": np.round(values, 3),
                        "alarm (> threshold)": [v > threshold for v in values],
                        "major (> 0.25)": [v > 0.25 for v in values]}).set_index("month")
    return Table(out.rename_axis(f"month (threshold {threshold:.3f})"))


def overhead_table() -> Table:
    """The measured host overhead: ``generate()`` and eager steps against CUDA-graph steps.

    From ``measured_naive_generate`` and ``measured_launch_overhead`` (measured on one
    NVIDIA H100 80GB HBM3 (SXM) and one H200, 2026-11-27).
    """
    naive = data.load_table("measured_naive_generate")
    launch = data.load_table("measured_launch_overhead")
    graph = launch[(launch["batch"] == 1) & (launch["model"] == "llama-3.1-8b")]
    graph_ms = float(graph["graph_step_ms"].iloc[0])
    out = naive[["gpu", "model", "batch", "decode_step_ms", "tokens_per_s"]].copy()
    out["x CUDA-graph step (batch 1, H100)"] = (out["decode_step_ms"] / graph_ms).round(1)
    return Table(out.set_index(["gpu", "model", "batch"]))


def audit_table(scenario: Any, *, engine: str = "optimized",
                api_tokens_per_minute: float | None = None) -> Table:
    """The five-way bottleneck audit of one replica of the scenario's self-hosted model.

    :func:`buildbuy.bottleneck.pipeline_ceilings` at the batch and tensor parallelism of the
    decision record's replica (``Decision.replica``), with the scenario's request shape,
    its host CPU time per request (``cpu_ms_per_request``) and network port
    (``network_mbps``), as exercise 1 audits it, then :func:`buildbuy.bottleneck.audit`.
    The API's rate limit is a ceiling of path A's whole workload, not of one self-hosted
    replica: it is left out unless passed. Columns: ceiling in output tokens per second,
    and which one binds.
    """
    from buildbuy import questions

    s = as_scenario(scenario)
    stages = questions.pipeline_inputs(s)
    prompt, output = request_tokens(s)
    fleet = as_decision(s).replica
    ceilings = bottleneck.pipeline_ceilings(
        s.self_host_model, s.gpu, batch=fleet.batch, prompt_tokens=prompt,
        output_tokens=output, engine=engine, tensor_parallel=fleet.tensor_parallel,
        cpu_ms_per_request=stages["cpu_ms_per_request"], network_mbps=stages["network_mbps"],
        api_tokens_per_minute=api_tokens_per_minute)
    a = bottleneck.audit(ceilings)
    out = pd.DataFrame({"output_tokens_per_s": {k: round(v) for k, v in ceilings.items()}})
    out["role"] = ["binding" if k == a.binding else ("next" if k == a.next_binding else "")
                   for k in out.index]
    return Table(out.sort_values("output_tokens_per_s").rename_axis(
        f"{engine} engine, batch {fleet.batch}: headroom {a.headroom:.2f}x"))


def model_accuracy() -> Table:
    """Absolute % error of the step-time model, as ``benchmarks/bench_accuracy.py`` reports it.

    Runs :func:`buildbuy.tps.accuracy.calibration_rows` (the H100 measurements the
    constants were fitted on) and :func:`~buildbuy.tps.accuracy.held_out_rows` (other GPUs,
    shapes, tensor parallelism, the H200 ``generate()`` loop; nothing fitted) through its
    ``summary``, so the lesson quotes exactly the benchmark's figures.
    """
    from buildbuy.tps import accuracy as bench

    parts = {"calibration (fitted, H100)": bench.summary(bench.calibration_rows()),
             "held out (not fitted)": bench.summary(bench.held_out_rows())}
    frames = [df.assign(set=name) for name, df in parts.items()]
    out = pd.concat(frames).set_index(["set", "phase"])
    return Table(out[["n", "median_abs_pct", "p90_abs_pct", "max_abs_pct"]].round(1))


def saturation_accuracy(scenario: Any) -> Table:
    """Saturated-throughput error per GPU family on published runs the model was not fitted to.

    One row per family of :func:`buildbuy.tps.accuracy.family_accuracy`, the scenario's GPU
    family first: held-out runs, signed median error (+ = the model is optimistic), median
    and p90 absolute error, and the margin fleet sizing adds. The index name says which
    family the scenario's GPU is and what that means for its fleet.
    """
    s = as_scenario(scenario)
    from buildbuy.tps import accuracy

    mine = accuracy.family_accuracy(s.gpu)
    examples = {}
    for name in data.gpu_names():
        examples.setdefault(data.get_gpu(name).architecture, name)
    order = [mine.family, *[f for f in accuracy.FAMILIES if f != mine.family]]
    rows = []
    for fam in order:
        fa = accuracy.family_accuracy(examples[fam])
        rows.append({"family": fam, "held_out_runs": fa.n_held_out,
                     "median_error_pct": round(fa.median_error_pct, 1),
                     "median_abs_pct": round(fa.median_abs_pct, 1),
                     "p90_abs_pct": round(fa.p90_abs_pct, 1),
                     "planning_margin_pct": round(100 * fa.margin_share, 1)})
    frame = pd.DataFrame(rows).set_index("family")
    return Table(frame.rename_axis(f"{s.gpu} is {mine.family}: {mine.note}"))
