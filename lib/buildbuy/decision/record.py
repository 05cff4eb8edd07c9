"""The decision record: :func:`decide` builds it once per scenario; every view reads it."""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import finance, tax, tco, uncertainty, valuation
from buildbuy.decision.figures import Figure
from buildbuy.decision.registry import build_registry
from buildbuy.scenarios import ROLES

__all__ = ["RISK_DRAWS", "RISK_SEED", "Decision", "Risk", "decide"]

#: Draws and seed of the record's Monte Carlo (P10/P50/P90 of the NPV gap). With 5,000 draws
#: the three percentiles of every persona sit within 2% of the P10-P90 spread of a
#: 100,000-draw run with another seed (measured: at most 1.6%; ``tests/test_decision.py``
#: checks the bank); ``uncertainty.monte_carlo`` runs more on demand.
RISK_DRAWS: int = 5_000
RISK_SEED: int = 0


@dataclasses.dataclass(frozen=True)
class Risk:
    """How sure the NPV gap (B over A, after tax) is: seeded Monte Carlo and tornado."""

    n_draws: int
    seed: int
    npv_gap_p10_usd: float
    npv_gap_p50_usd: float
    npv_gap_p90_usd: float
    prob_b_better: float
    prob_hybrid_better: float
    tornado: pd.DataFrame
    top_drivers: tuple[str, ...]
    monte_carlo: Any


@dataclasses.dataclass(frozen=True)
class Decision:
    """Every figure any view prints, for one scenario (see ``docs/design.md``).

    Attributes
    ----------
    scenario : Scenario
    comparison : Comparison
        ``buildbuy.tco.compare(scenario)``: the cash and value lines it is built on.
    fleet : pandas.DataFrame
        ``buildbuy.tco.fleet_by_year(S).frame()``: GPUs by year (with headroom and
        redundancy), ``gpus_needed`` (bare count at full load, no spare), servers,
        reserved GPUs, the peak each year's count is sized for, utilisation at that peak,
        and ``sized_for`` (the label saying what the count is sized for).
    fleet_plan : buildbuy.tco.FleetPlan
        The same fleet as :func:`buildbuy.tco.fleet_by_year` returns it.
    replica : object
        ``buildbuy.tps.size_fleet`` at year 1's peak (one replica: batch, tensor
        parallel, tokens/s per GPU); ``None`` when B cannot meet the latency target.
    capex_usd : float
        B's hardware purchases over the horizon (before resale).
    capex_by_year_usd : dict
        ``{year: usd}``.
    depreciation : pandas.DataFrame
        The one schedule, by month: columns ``B`` and ``H``.
    monthly : pandas.DataFrame
        Index month; columns ``(path, line)`` for paths A, B, H and 0 and lines value,
        costs, ebitda, depreciation, gain, ebit, tax, capex, proceeds, fcf, nbv (USD).
    annual : pandas.DataFrame
        The same by year (``year``, ``path``, ``<line>_usd``).
    npv_vs_status_quo_usd, npv_gap_usd, npv_gap_hybrid_usd, irr_b_vs_a, payback_months,
    payback_hybrid_months, break_even_monthly_tokens, feasibility, recommendation, reasons
        As in :class:`buildbuy.tco_compare.Comparison`.
    constraint_cost_usd, constraint_cost_path
        The price of the constraints (:class:`buildbuy.tco_compare.Comparison`): what the
        best blocked path would add over the recommendation, after tax.
    valuation : buildbuy.valuation.Valuation
        The recommended path (the best one when "neither") against doing nothing.
    headcount_fte : dict
        FTE of A, B and H (H runs B's team after the switch).
    risk : Risk or None
        None when B is not feasible (nothing to compare).
    notes : list of str
        What the model simplifies, with measured effects.
    figures : dict
        ``{key: Figure}``: the registry (:mod:`buildbuy.decision.registry`).
    """

    scenario: Any
    comparison: Any
    fleet: pd.DataFrame
    fleet_plan: Any
    replica: Any
    capex_usd: float
    capex_by_year_usd: dict[int, float]
    depreciation: pd.DataFrame
    monthly: pd.DataFrame
    annual: pd.DataFrame
    npv_vs_status_quo_usd: dict[str, float]
    npv_gap_usd: float
    npv_gap_hybrid_usd: float
    irr_b_vs_a: float | None
    payback_months: dict[str, float | None]
    payback_hybrid_months: dict[str, float | None]
    break_even_monthly_tokens: float | None
    valuation: Any
    headcount_fte: dict[str, float]
    feasibility: dict[str, list[str]]
    constraint_cost_usd: float | None
    constraint_cost_path: str | None
    risk: Risk | None
    recommendation: str
    reasons: list[str]
    notes: list[str]
    figures: dict[str, Figure]

    @property
    def best_path(self) -> str:
        """The path the recommendation stands for (the best possible one for "neither")."""
        return _best_path(self.comparison)

    def figure(self, key: str) -> Figure:
        """One figure of the registry (an unknown key lists the close ones)."""
        from buildbuy._validate import bad, suggest

        if key not in self.figures:
            close = suggest(key, self.figures)
            raise bad("key", key, "a figure key of Decision.figures"
                      + (f"; did you mean {', '.join(close)}?" if close else ""))
        return self.figures[key]


_VERDICT_PATH = {"buy": "A", "build": "B", "hybrid": "H"}


def _best_path(c: Any) -> str:
    if c.recommendation in _VERDICT_PATH:
        return _VERDICT_PATH[c.recommendation]
    return max(("A", "B", "H"), key=lambda p: c.npv_vs_status_quo_usd[p])


_CACHE: OrderedDict[str, Decision] = OrderedDict()
_CACHE_SIZE = 16


def decide(S: Any) -> Decision:
    """The decision record of scenario ``S``, built once and cached on its values.

    Every view of the same scenario gets the same object, so every printed figure is the
    same number.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> D = decide(scenarios.load("hospital_notes"))
    >>> D is decide(scenarios.load("hospital_notes")), D.recommendation
    (True, 'buy')
    >>> D.figures["gpus_year_1"].text == str(int(D.fleet.gpus.iloc[0]))
    True
    """
    key = json.dumps(S.to_dict(), sort_keys=True, default=str)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    out = _decide(S)
    _CACHE[key] = out
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


def _monthly(c: Any) -> pd.DataFrame:
    frames = {p: c.path_frame(p) for p in ("A", "B", "H", "0")}
    out = pd.concat(frames, axis=1)
    out.columns = pd.MultiIndex.from_tuples([(p, col.removesuffix("_usd"))
                                             for p, col in out.columns],
                                            names=["path", "line"])
    return out


def _risk(S: Any) -> Risk:
    mc = uncertainty.monte_carlo(S, n_draws=RISK_DRAWS, seed=RISK_SEED)
    pct = mc.percentiles_usd["npv_gap"]
    tor = uncertainty.tornado(S)
    return Risk(RISK_DRAWS, RISK_SEED, float(pct["P10"]), float(pct["P50"]),
                float(pct["P90"]), mc.prob_b_better, mc.prob_hybrid_better, tor,
                tuple(tor["label"].head(3)), mc)


def _bonus_note(S: Any, c: Any) -> list[str]:
    b = c.paths["B"]
    if not np.any(b.capex):
        return []
    bonus = tax.after_tax(value=b.value, costs=b.costs, purchases=b.capex,
                          proceeds=b.proceeds, tax_rate=S.tax_rate,
                          life_months=S.depreciation_life_months,
                          disposal_months=[S.horizon_months], tax_depreciation="bonus")
    r = finance.monthly_rate(S.discount_rate)
    delta = float(finance.npv(r, bonus.fcf) - finance.npv(r, b.fcf))
    return [f"Tax follows the book schedule ({S.depreciation_life_months} months, straight "
            "line). Deducting the hardware in full when bought (US 100% bonus "
            f"depreciation) would raise B's after-tax NPV by ${delta:,.0f}."]


def _decide(S: Any) -> Decision:
    c = tco.compare(S)
    b = c.paths["B"]
    years = np.maximum(1, -(-np.arange(S.horizon_months + 1) // 12))
    capex_by_year = {int(y): float(np.sum(b.capex[years == y]))
                     for y in range(1, int(years.max()) + 1)}
    depreciation = pd.DataFrame({"B": b.depreciation, "H": c.paths["H"].depreciation},
                                index=pd.RangeIndex(S.horizon_months + 1, name="month"))
    fte = {side: float(sum(getattr(S, f"{role}_fte_{side.lower()}") for role in ROLES))
           for side in ("A", "B")}
    fte["H"] = fte["B"]  # the hybrid runs B's team once self-hosting is live
    risk = None if c.feasibility["B"] and c.fleet.replica is None else _risk(S)
    val = valuation.value_path(c, _best_path(c), "0")
    parts: dict[str, Any] = dict(
        scenario=S, comparison=c, fleet=c.fleet_by_year, fleet_plan=c.fleet,
        replica=c.fleet.replica,
        capex_usd=float(np.sum(b.capex)), capex_by_year_usd=capex_by_year,
        depreciation=depreciation, monthly=_monthly(c), annual=c.annual,
        npv_vs_status_quo_usd=c.npv_vs_status_quo_usd, npv_gap_usd=c.npv_gap_usd,
        npv_gap_hybrid_usd=c.npv_gap_hybrid_usd, irr_b_vs_a=c.irr_b_vs_a,
        payback_months=c.payback_months, payback_hybrid_months=c.payback_hybrid_months,
        break_even_monthly_tokens=c.break_even_monthly_tokens, valuation=val,
        headcount_fte=fte, feasibility=c.feasibility,
        constraint_cost_usd=c.constraint_cost_usd,
        constraint_cost_path=c.constraint_cost_path, risk=risk,
        recommendation=c.recommendation, reasons=c.reasons,
        notes=[*c.notes, *_bonus_note(S, c)])
    draft = Decision(**parts, figures={})
    return dataclasses.replace(draft, figures=build_registry(draft))
