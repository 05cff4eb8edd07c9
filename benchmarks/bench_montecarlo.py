"""Monte Carlo speed: 100,000 draws of the decision's NPV gap (B minus A, after tax, value
included) and of the cash-cost difference, vectorised.

Target (issue 3, set for the pre-tax cost difference): 100,000 draws in under 2 s on a
2-core machine. Printed side by side in one run: the vectorised Monte Carlo, the same
arithmetic one draw at a time (a few hundred draws, extrapolated), and the one-off setup
(GPU sizing and drift lines) that every run pays once.
"""

from __future__ import annotations

import time

from buildbuy import scenarios, tco, uncertainty

N_DRAWS = 100_000
N_LOOP = 200


def _best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    print(f"{'persona':<16}{'hosting':<17}{'setup s':>9}{'100k MC s':>11}{'draws/s':>12}"
          f"{'loop draws/s':>14}{'speed-up':>10}{'P(B better)':>13}")
    for name in scenarios.persona_names():
        S = scenarios.load(name)
        setup = _best_of(lambda S=S: tco.context(S), repeats=1)
        result: dict[str, object] = {}

        def run(S=S, result=result) -> None:
            result["mc"] = uncertainty.monte_carlo(S, n_draws=N_DRAWS, seed=0)

        t_mc = _best_of(run)
        mc = result["mc"]
        # the same draws, one at a time through the same arithmetic
        draws = mc.draws.head(N_LOOP)  # type: ignore[attr-defined]
        ctx = tco.context(S)
        names = [c for c in draws.columns if c not in uncertainty.METRICS]

        def loop(draws=draws, ctx=ctx, names=names, S=S) -> None:
            for _, row in draws.iterrows():
                uncertainty.metrics(S, {k: [row[k]] for k in names}, ctx)

        t_loop = _best_of(loop, repeats=1)
        loop_rate = N_LOOP / t_loop
        rate = N_DRAWS / t_mc
        print(f"{name:<16}{S.hosting:<17}{setup:>9.2f}{t_mc:>11.2f}{rate:>12,.0f}"
              f"{loop_rate:>14,.0f}{rate / loop_rate:>9.0f}x"
              f"{mc.prob_b_better:>13.3f}")  # type: ignore[attr-defined]
    print(f"(100k MC time includes the setup; best of 3 runs; loop = {N_LOOP} draws one "
          "at a time through the same vectorised code)")


if __name__ == "__main__":
    main()
