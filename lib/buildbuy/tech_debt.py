"""Technical debt of the self-built system as a yearly carrying cost (Scenario B).

Sculley et al. ("Hidden Technical Debt in Machine Learning Systems", NeurIPS 2015) show
that the model code is a small part of a production ML system: data dependencies, glue
code, pipeline jungles, configuration and a changing world keep costing money after the
launch. The course prices that as a *carrying cost*, like interest on a loan:

.. math:: \\text{build cost} = \\text{fine\\_tuning\\_usd} + \\text{months\\_to\\_production}
          \\times \\sum_{\\text{roles}} \\text{FTE}_B \\times \\text{salary} / 12

.. math:: \\text{carrying cost per month} = \\text{tech\\_debt\\_share\\_per\\_year}
          \\times \\text{build cost} / 12

paid every month from B's go-live to the horizon, as the line ``tech_debt`` (category
``people``: it is paid in engineers' time beyond the run team's FTE). The build cost is
what B spends on building before it serves: the fine-tuning run and its team's salaries
over the build. The share is illustrative (see ``tech_debt_share_per_year`` in
``docs/scenarios.md``). Scenario A carries its own upkeep as the drift and model-refresh
lines; its integration code is small and not charged here.

Examples
--------
A $40,000 fine-tune and a team costing $100,000 a month, built in 6 months, at 20% a year:
build cost $640,000, carrying cost $128,000 a year, $10,667 a month.

>>> p = {"fine_tuning_usd": 40_000.0, "tech_debt_share_per_year": 0.2,
...      "ml_engineer_fte_b": 1.0, "ml_engineer_usd_per_year": 1_200_000.0}
>>> float(build_cost_usd(p, months_to_production=6, roles=("ml_engineer",)))
640000.0
>>> round(float(carrying_usd_per_month(p, months_to_production=6, roles=("ml_engineer",))), 2)
10666.67
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from buildbuy.gpu_supply import months_to_production_b
from buildbuy.scenarios import ROLES

__all__ = ["TechDebt", "build_cost_usd", "carrying_usd_per_month", "monthly_line",
           "tech_debt"]


def build_cost_usd(p: Mapping[str, Any], *, months_to_production: float,
                   roles: Sequence[str] = ROLES) -> Any:
    """B's cost of building before it serves: fine-tuning + B's staff over the build.

    ``p`` maps field names to scalars or arrays of draws (shape ``(n, 1)``).
    """
    staff = sum(p[f"{r}_fte_b"] * p[f"{r}_usd_per_year"] for r in roles) / 12.0
    return p["fine_tuning_usd"] + months_to_production * staff


def carrying_usd_per_month(p: Mapping[str, Any], *, months_to_production: float,
                           roles: Sequence[str] = ROLES) -> Any:
    """``tech_debt_share_per_year`` x the build cost / 12."""
    return (p["tech_debt_share_per_year"]
            * build_cost_usd(p, months_to_production=months_to_production, roles=roles) / 12.0)


def monthly_line(p: Mapping[str, Any], months: np.ndarray, *, live_from: int,
                 months_to_production: float) -> Any:
    """The ``tech_debt`` cost line: the carrying cost in every month from ``live_from``."""
    live = (np.asarray(months, dtype=float) >= live_from).astype(float)
    return carrying_usd_per_month(p, months_to_production=months_to_production) * live


@dataclasses.dataclass(frozen=True)
class TechDebt:
    """The technical-debt figures of one scenario (see :func:`tech_debt`)."""

    build_cost_usd: float
    share_per_year: float
    usd_per_year: float
    months_paid: int
    usd_over_horizon: float

    @property
    def text(self) -> str:
        """The figures in one sentence (whole dollars)."""
        return (f"Build cost ${self.build_cost_usd:,.0f}; at {self.share_per_year:.0%} a year "
                f"the debt costs ${self.usd_per_year:,.0f} a year, "
                f"${self.usd_over_horizon:,.0f} over the {self.months_paid} months B is live.")


def tech_debt(S: Any) -> TechDebt:
    """Build cost, yearly carrying cost and what it adds up to over the horizon for ``S``.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("hospital_notes")
    >>> d = tech_debt(S)
    >>> bool(abs(d.usd_per_year - S.tech_debt_share_per_year * d.build_cost_usd) < 1e-6)
    True
    """
    p = {k: float(getattr(S, k)) for k in
         ("fine_tuning_usd", "tech_debt_share_per_year",
          *(f"{r}_fte_b" for r in ROLES), *(f"{r}_usd_per_year" for r in ROLES))}
    build = float(build_cost_usd(p, months_to_production=S.months_to_production))
    per_month = float(carrying_usd_per_month(p, months_to_production=S.months_to_production))
    paid = max(S.horizon_months - months_to_production_b(S), 0)
    return TechDebt(build, float(S.tech_debt_share_per_year), per_month * 12.0, paid,
                    per_month * paid)
