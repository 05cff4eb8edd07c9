"""The decision in the learner's hands: which path, why, and what would change it.

The record's rule (:mod:`buildbuy.tco_compare`): among the paths no constraint blocks, take
the one with the highest after-tax NPV against doing nothing; A -> "buy", B -> "build",
H (hybrid: the API until self-hosting is live, then self-host) -> "hybrid"; "neither" when
no allowed path has a positive NPV. This module restates it in numbers a learner can
check:

- :func:`margin`: the chosen path, its NPV, the runner-up (the best other allowed path, or
  doing nothing) and the margin between them: *why* this path;
- :func:`swing`: the input whose range moves the NPV gap of B over A the most (the
  tornado's widest bar), how far, and whether its range flips the gap's sign: *what
  would change it*;
- :func:`constraint_what_ifs`: the scenario, then the same scenario with data kept
  in-house and with an API too slow for the latency target: which paths each rule blocks.

Examples
--------
>>> from buildbuy import scenarios
>>> m = margin(scenarios.load("hospital_notes"))
>>> m.choice, m.path, m.runner_up
('buy', 'A', 'H')
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from buildbuy.decision.record import decide

__all__ = ["CHOICE", "Margin", "Swing", "constraint_what_ifs", "margin", "swing"]

#: Path -> the word the record uses for it.
CHOICE: dict[str, str] = {"A": "buy", "B": "build", "H": "hybrid", "0": "neither"}

#: Bedrock's median speed for Llama-2-70B on the LLMPerf Leaderboard (19 Dec 2023), 21
#: output tokens/s, as milliseconds per output token: the slow-API what-if.
SLOW_API_MS_PER_OUTPUT_TOKEN: float = round(1000.0 / 21.0, 1)


@dataclasses.dataclass(frozen=True)
class Margin:
    """Why the record chooses its path: the NPVs it compares (USD, after tax)."""

    choice: str
    path: str
    npv_usd: float
    runner_up: str
    runner_up_npv_usd: float
    margin_usd: float
    blocked: tuple[str, ...]

    @property
    def text(self) -> str:
        """The rule's outcome in one sentence."""
        second = "doing nothing" if self.runner_up == "0" else (
            f"{CHOICE[self.runner_up]} ({self.runner_up})")
        ruled = f" Ruled out: {', '.join(self.blocked)}." if self.blocked else ""
        return (f"Choice: {self.choice} ({self.path}), after-tax NPV {_usd(self.npv_usd)} "
                f"against doing nothing. Runner-up: {second}, {_usd(self.runner_up_npv_usd)}. "
                f"Margin: {_usd(self.margin_usd)}.{ruled}")


def _usd(x: float) -> str:
    from buildbuy.decision.figures import format_value

    return format_value(x, "usd")


def margin(S: Any) -> Margin:
    """The chosen path against the runner-up ("0" = doing nothing, NPV 0).

    Applies the rule to ``decide(S).npv_vs_status_quo_usd`` and ``decide(S).feasibility``;
    :attr:`Margin.choice` equals the record's recommendation (a test proves it).
    """
    D = decide(S)
    npv = {p: float(v) for p, v in D.npv_vs_status_quo_usd.items()}
    allowed = {p: v for p, v in npv.items() if not D.feasibility.get(p)}
    ranked = sorted({**allowed, "0": 0.0}.items(), key=lambda kv: kv[1], reverse=True)
    (best, v1), (second, v2) = ranked[0], ranked[1]
    return Margin(CHOICE[best], best, v1, second, v2, v1 - v2,
                  tuple(p for p in npv if p not in allowed))


@dataclasses.dataclass(frozen=True)
class Swing:
    """The tornado's widest bar: what would change the answer most."""

    driver: str
    label: str
    low: float
    high: float
    gap_at_low_usd: float
    gap_at_high_usd: float
    swing_usd: float
    flips_sign: bool

    @property
    def text(self) -> str:
        """What would change the answer, in one sentence."""
        flip = "flips its sign" if self.flips_sign else "does not flip its sign"
        return (f"{self.label} from {self.low:,.4g} to {self.high:,.4g} moves B's NPV over A's "
                f"from {_usd(self.gap_at_low_usd)} to {_usd(self.gap_at_high_usd)} "
                f"({_usd(self.swing_usd)}), and {flip}.")


def swing(S: Any) -> Swing:
    """The input whose low-high range moves the NPV gap of B over A the most.

    Read from the record's tornado (``decide(S).risk.tornado``, widest bar first).
    """
    row = decide(S).risk.tornado.iloc[0]
    lo, hi = float(row["metric_low"]), float(row["metric_high"])
    return Swing(str(row["driver"]), str(row["label"]), float(row["low"]), float(row["high"]),
                 lo, hi, abs(hi - lo), (lo < 0) != (hi < 0))


def constraint_what_ifs(S: Any) -> pd.DataFrame:
    """Which paths each constraint blocks, on the scenario and two what-ifs.

    Rows: the scenario as it is; ``data_residency="in_house"`` (data may not leave the
    company's own facilities); the API measured at
    :data:`SLOW_API_MS_PER_OUTPUT_TOKEN` ms per output token against the scenario's
    ``max_ms_per_output_token``. Columns ``case``, ``blocked`` (paths), ``decision``
    and ``first_reason``.
    """
    cases = [("your scenario", S),
             ("data must stay in-house", S.replace(data_residency="in_house")),
             (f"API measured at {SLOW_API_MS_PER_OUTPUT_TOKEN:g} ms per output token",
              S.replace(api_ms_per_output_token=SLOW_API_MS_PER_OUTPUT_TOKEN))]
    rows = []
    for name, s in cases:
        D = decide(s)
        blocked = [p for p in ("A", "B", "H") if D.feasibility.get(p)]
        first = next((D.feasibility[p][0] for p in blocked), "")
        rows.append({"case": name, "blocked": ", ".join(blocked) or "none",
                     "decision": D.recommendation, "first_reason": first})
    return pd.DataFrame(rows)
