"""Accuracy of the TPS model against measured and published numbers.

Prints the median and 90th-percentile absolute % error of the modelled decode-step and
prefill times, separately for

- the calibration set: the H100 SXM measurements the constants were fitted on;
- the held-out set: other GPUs (A100, H200), other model shapes (13B GPT), tensor
  parallelism and the naive ``generate()`` loop on the H200 — nothing here was fitted.

Then, for context: time to first token (client-measured, includes server overhead the model
leaves out), tensor-parallel latency ratios and the inter-token latency of a loaded vLLM
server.

Last, saturated serving throughput (:func:`buildbuy.tps.max_throughput`) against the 563
published offline-benchmark runs of ``data/saturated_throughput.csv`` (TensorRT-LLM 0.15,
0.17 and 1.0; vLLM on MI300X), per GPU family, separately for the ``fit`` runs the serving
constants were fitted on and the ``held_out`` runs they were not (target: median <= 10%,
p90 <= 20% on the held-out runs), with ``before`` = Hopper's factors everywhere and no
serving-level terms, side by side in the same run.

Every multi-GPU check is printed twice, side by side: ``model`` with the current constants
and ``previous`` with the all-reduce of the first version (a flat 16 us plus the full NVLink
line rate, :data:`PREVIOUS_COMM`), so the effect of the NCCL-based all-reduce is visible in
one run.

Run: ``.venv/bin/python benchmarks/run_all.py accuracy``.
"""

from __future__ import annotations

import pandas as pd

from buildbuy import data
from buildbuy.tps.accuracy import (
    FAMILIES,
    PREVIOUS_COMM,
    TARGET_MEDIAN_PCT,
    TARGET_P90_PCT,
    calibration_rows,
    err_pct,
    family_accuracy,
    family_summary,
    held_out_rows,
    ratio_rows,
    serving_load_rows,
    summary,
    ttft_rows,
)
from buildbuy.tps.calibration import CALIBRATION, Calibration

#: The model before issue 17: Hopper's factors on every GPU, no engine, FP8, MoE, prefill-
#: attention or PCIe terms (the same engine memory and admission, so only the new terms move).
BEFORE = Calibration(*[getattr(CALIBRATION, f) for f in (
    "bandwidth_efficiency", "decode_flops_efficiency", "prefill_flops_efficiency",
    "step_overhead_ms", "layer_overhead_ms", "roofline_sharpness", "eager_host_ms_per_layer",
    "naive_host_ms_per_layer")])


def _print(title: str, df: pd.DataFrame, detail: bool,
           previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Print the rows (with the previous model's error beside them) and the summary."""
    print(f"\n-- {title} --")
    if previous is not None:
        df = df.assign(previous_error_pct=previous["error_pct"].to_numpy())
    if detail:
        print(df.round(2).to_string(index=False))
    s = summary(df)
    if previous is not None:
        before = summary(previous)
        s = s.assign(previous_median=before["median_abs_pct"].to_numpy(),
                     previous_p90=before["p90_abs_pct"].to_numpy(),
                     previous_max=before["max_abs_pct"].to_numpy())
    print(s.round(1).to_string(index=False))
    return s


def main() -> None:
    pd.set_option("display.width", 140)
    print("Calibration constants:", CALIBRATION)
    cal = _print("calibration set: H100 SXM measurements (fitted)", calibration_rows(),
                 detail=False)
    held = _print("held-out set: A100 FasterTransformer 13B (TP1, TP2), A10G vLLM 8B, "
                  "H200 generate() host loop",
                  held_out_rows(), detail=True, previous=held_out_rows(PREVIOUS_COMM))
    ceil = data.load_table("measured_ceilings").set_index("gpu")
    for gpu in ceil.index:
        bw = CALIBRATION.bandwidth_efficiency * data.get_gpu(gpu).bandwidth_tbps
        print(f"   {gpu}: modelled achievable bandwidth {bw:.3f} TB/s vs measured copy "
              f"{ceil.loc[gpu, 'copy_tbps_read_plus_write']:.3f} TB/s "
              f"({err_pct(bw, ceil.loc[gpu, 'copy_tbps_read_plus_write']):+.1f}%)")
    _print("context only: client-measured TTFT (Databricks) vs modelled prefill; "
           "TTFT adds server/HTTP overhead the model leaves out", ttft_rows(), detail=True,
           previous=ttft_rows(PREVIOUS_COMM))
    _print("context only: Databricks latency ratios (tensor-parallel scaling, GPU swap)",
           ratio_rows(), detail=True, previous=ratio_rows(PREVIOUS_COMM))
    _print("context only: inter-token latency of a loaded server (llmperf, vLLM, A10G)",
           serving_load_rows(), detail=True)
    c_all = cal[cal.phase == "all"].iloc[0]
    print(f"\nSUMMARY step-time abs % error (target median <= {TARGET_MEDIAN_PCT:.0f}, "
          f"p90 <= {TARGET_P90_PCT:.0f} on held-out):")
    print(f"  calibration (H100, fitted): median {c_all.median_abs_pct:.1f}, "
          f"p90 {c_all.p90_abs_pct:.1f} (n={c_all.n})")
    gpu_only = summary(held_out_rows().query("phase != 'host_loop'"))
    for label, s in (("held-out, all rows", held),
                     ("held-out, GPU steps only (no generate() host loop)", gpu_only)):
        row = s[s.phase == "all"].iloc[0]
        ok = row.median_abs_pct <= TARGET_MEDIAN_PCT and row.p90_abs_pct <= TARGET_P90_PCT
        print(f"  {label}: median {row.median_abs_pct:.1f}, p90 {row.p90_abs_pct:.1f} "
              f"(n={row.n}): {'met' if ok else 'NOT met'}")
    saturation()


def saturation() -> None:
    """Saturated output tokens/s per GPU family: fit and held-out runs, before and now."""
    print("\n-- saturated serving throughput (tps.max_throughput vs 563 published runs), "
          "abs % error of output tokens/s per TP group; signed median: + = optimistic --")
    cols = ["family", "n", "median_signed_pct", "median_abs_pct", "p90_abs_pct", "max_abs_pct"]
    for split in ("fit", "held_out"):
        now = family_summary(split)[cols]
        before = family_summary(split, BEFORE).set_index("family")
        now = now.assign(before_median_signed=now.family.map(before.median_signed_pct),
                         before_median_abs=now.family.map(before.median_abs_pct),
                         before_p90=now.family.map(before.p90_abs_pct))
        print(f"\n{split} runs:")
        print(now.round(1).to_string(index=False))
    held = family_summary("held_out").set_index("family").loc["all"]
    ok = held.median_abs_pct <= TARGET_MEDIAN_PCT and held.p90_abs_pct <= TARGET_P90_PCT
    print(f"\nSUMMARY saturated throughput, held-out runs: median {held.median_abs_pct:.1f}, "
          f"p90 {held.p90_abs_pct:.1f} (n={int(held.n)}): {'met' if ok else 'NOT met'}")
    print("planning margin per family (what size_fleet divides capacity by):")
    gpu_of = {"ampere": "A100-80GB", "ada": "L40S", "hopper": "H100-SXM",
              "blackwell": "B200", "cdna3": "MI300X"}
    for fam in FAMILIES:
        fa = family_accuracy(gpu_of[fam])
        print(f"  {fam}: margin {fa.margin_share:.1%} ({fa.note})")


if __name__ == "__main__":
    main()
