"""Speed and accuracy figures of buildbuy.drift.

Run with ``.venv/bin/python benchmarks/run_all.py drift``. Timings are the best
of three, and each comparison runs both sides in the same process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from buildbuy.drift import (
    DDM,
    PageHinkley,
    PolicyParams,
    blind_spot,
    ddm,
    page_hinkley,
    psi,
    psi_threshold,
    simulate,
    simulate_policies,
)


def _best(func: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_policies() -> None:
    params = PolicyParams(horizon_days=365)
    full = _best(lambda: simulate_policies(params, runs=1000, seed=0))
    print(f"policy simulation, 1000 runs x 365 days x 4 policies: {full:.3f} s "
          f"(target < 2 s: {'met' if full < 2 else 'NOT met'})")
    per_run = _best(lambda: [simulate(params, "triggered", runs=1, seed=s) for s in range(20)],
                    repeat=1) / 20
    vec = _best(lambda: simulate(params, "triggered", runs=1000, seed=0)) / 1000
    print(f"  triggered policy, seconds per run: one run at a time {per_run * 1e3:.2f} ms, "
          f"vectorised over 1000 runs {vec * 1e3:.3f} ms -> {per_run / vec:.0f}x")
    long = PolicyParams(horizon_days=36 * 30)
    t36 = _best(lambda: simulate_policies(long, runs=1000, seed=0), repeat=1)
    print(f"  36-month horizon (1080 days), 1000 runs x 4 policies: {t36:.3f} s")


def bench_detectors() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 0.3, 50_000), rng.normal(1, 0.3, 50_000)]
    vec = _best(lambda: page_hinkley(x))

    def loop_ph() -> list[int]:
        ph = PageHinkley()
        return [i for i, val in enumerate(x) if ph.update(val).drift_detected]

    loop = _best(loop_ph, repeat=1)
    same = page_hinkley(x).tolist() == loop_ph()
    print(f"Page-Hinkley on 100 000 values: vectorised {vec * 1e3:.1f} ms, one at a time "
          f"{loop * 1e3:.0f} ms -> {loop / vec:.0f}x; same alarms: {same}")
    e = (rng.random(100_000) < np.r_[np.full(50_000, 0.1), np.full(50_000, 0.2)]).astype(int)
    vec = _best(lambda: ddm(e))

    def loop_ddm() -> list[int]:
        d = DDM()
        return [i for i, val in enumerate(e.tolist()) if d.update(val).drift_detected]

    loop = _best(loop_ddm, repeat=1)
    same = ddm(e).tolist() == loop_ddm()
    print(f"DDM on 100 000 outcomes:         vectorised {vec * 1e3:.1f} ms, one at a time "
          f"{loop * 1e3:.0f} ms -> {loop / vec:.0f}x; same alarms: {same}")


def accuracy_figures() -> None:
    rng = np.random.default_rng(1)
    print("PSI false-alarm rate with no drift (10 decile bins, 1000 pairs each):")
    print("   n = m   P(PSI > 0.1)   P(PSI > 0.25)   P(PSI > psi_threshold, alpha 5%)")
    for n in (100, 500, 1000, 5000):
        vals = np.array([psi(rng.normal(size=n), rng.normal(size=n)) for _ in range(1000)])
        print(f"  {n:6d}   {np.mean(vals > 0.1):11.3f}   {np.mean(vals > 0.25):12.3f}   "
              f"{np.mean(vals > psi_threshold(n, n)):10.3f}")
    t = blind_spot()
    print("Label-free (CBPE-style) estimate vs true accuracy, 20 000 rows, magnitude 1:")
    for _, r in t.iterrows():
        print(f"  {r.kind:9s} before {r.true_before:.3f} / {r.cbpe_before:.3f}   after "
              f"{r.true_after:.3f} / {r.cbpe_after:.3f}   gap after {r.gap_after:+.3f}")
    days = 400
    path = np.broadcast_to((np.arange(days) >= 100).astype(float), (1000, days)).copy()
    r = simulate(PolicyParams(horizon_days=days, shape="sudden"), "triggered", runs=1000,
                 paths=path, seed=0)
    first = np.array([np.flatnonzero(x)[0] - 100 for x in r.retrains if x.any()])
    print(f"Triggered policy (DDM, 20 labels/day, 7-day label delay), sudden 10-point drift "
          f"on day 100: retrain decided after {np.median(first):.0f} days (median; 10th-90th "
          f"pct {np.percentile(first, 10):.0f}-{np.percentile(first, 90):.0f}); "
          f"{np.mean([not x.any() for x in r.retrains]):.1%} of runs never retrained")
    calm = np.array([ddm(rng.random(2000) < 0.1).size > 0 for _ in range(1000)])
    print(f"DDM false alarms: {calm.mean():.1%} of stationary 10%-error streams of 2 000 "
          f"outcomes raise at least one")


def main() -> None:
    bench_policies()
    bench_detectors()
    accuracy_figures()


if __name__ == "__main__":
    main()
