"""What a board pack states, for one scenario: the decision record plus the board's terms.

A memo, a PR/FAQ, the one-page PDF and the deck all say the same things: the
recommendation, the amount asked, the headcount, the financial effect (EBITDA, EBIT, free
cash flow), the range of outcomes (P10/P50/P90 of the NPV gap), the drivers that move the
answer most with the point at which each reverses it (:mod:`buildbuy.memo.kill`), the
quality assumption and the decision date. :func:`board_facts` collects them once per
scenario and registers every number as a :class:`~buildbuy.memo.figures.Figure`, so that
the checker can match any number a text quotes against the whole record.

Conventions
-----------
- **NPV gap** = NPV of self-hosting's advantage over the API, B minus A, positive when B
  is better (cheaper). P10/P50/P90 are percentiles of the seeded Monte Carlo
  (:data:`MC_DRAWS` draws, seed :data:`MC_SEED`).
- **Ask** (``ask_usd``) = what the recommended path spends in its first 12 months,
  capital expenditure included: the budget the board is asked to release. ``"neither"``
  asks for nothing ($0).
- **Headcount** (``headcount_fte``) = the full-time equivalents the recommended path
  staffs (the sum of the scenario's role FTEs); 0 for ``"neither"``.
- EBITDA, EBIT and free-cash-flow effects are B minus A, by year of the horizon.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pandas as pd

from buildbuy.memo.figures import Figure, figures_from_comparison
from buildbuy.memo.kill import KillCriterion, kill_criterion, threshold_unit

__all__ = ["ASK_MONTHS", "MC_DRAWS", "MC_SEED", "TOP_DRIVERS", "BoardFacts", "board_facts"]

#: Drivers that get a kill criterion (the widest bars of the tornado).
TOP_DRIVERS: int = 3
#: Monte Carlo draws and seed behind P10/P50/P90.
MC_DRAWS: int = 10_000
MC_SEED: int = 0
#: Months of spending the ask covers (the first year of the recommended path).
ASK_MONTHS: int = 12
#: Tornado rows shown on the risk slide.
TORNADO_ROWS: int = 8


@dataclasses.dataclass(frozen=True)
class BoardFacts:
    """Everything a board pack states for one scenario (see the module docstring).

    Attributes
    ----------
    scenario : Scenario
    recommendation : str
        ``"build"``, ``"buy"``, ``"hybrid"`` or ``"neither"``.
    reasons, notes : tuple of str
        The record's reasons for the recommendation, and what the model leaves out.
    figures : dict
        Every quotable number, key -> :class:`Figure` (the record's and the board's).
    kill_criteria : tuple of KillCriterion
        The :data:`TOP_DRIVERS` widest tornado drivers, widest first.
    tornado : pandas.DataFrame
        The widest :data:`TORNADO_ROWS` rows of the tornado (USD, B minus A cost).
    cumulative : pandas.DataFrame
        Index ``month``; one column per path: cumulative cost in USD.
    annual : pandas.DataFrame
        Index ``year``; ``ebitda_usd``, ``ebit_usd``, ``fcf_usd``, ``capex_usd``: B minus A.
    valuation : pandas.DataFrame
        ``method``, ``value_usd``, ``basis``: what choosing B is worth.
    quality_basis : str
        Where the quality assumption comes from.
    """

    scenario: Any
    recommendation: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    figures: dict[str, Figure]
    kill_criteria: tuple[KillCriterion, ...]
    tornado: pd.DataFrame
    cumulative: pd.DataFrame
    annual: pd.DataFrame
    valuation: pd.DataFrame
    quality_basis: str

    @property
    def decision_date(self) -> str:
        """The date the board is asked to decide by (scenario field ``decision_date``)."""
        return str(self.scenario.decision_date)

    @property
    def widest(self) -> KillCriterion:
        """The widest tornado driver."""
        return self.kill_criteria[0]

    def text(self, key: str) -> str:
        """The figure ``key`` as a board reads it (``$690k``, ``62%``)."""
        return self.figures[key].text


# --- the record --------------------------------------------------------------------------

_CACHE: dict[str, BoardFacts] = {}


def board_facts(scenario: Any) -> BoardFacts:
    """The board's facts for ``scenario``, cached per scenario values.

    ``scenario`` is a persona name, a :class:`~buildbuy.scenarios.Scenario`, or a record
    built on one (anything with a ``.scenario`` attribute, such as a comparison).

    Examples
    --------
    >>> f = board_facts("bank_support")
    >>> f.recommendation, f.text("ask_usd").startswith("$"), f.widest.driver
    ('build', True, 'api_price_decline')
    """
    from buildbuy import scenarios

    S = scenarios.load(scenario) if isinstance(scenario, str) else scenario
    S = getattr(S, "scenario", S)
    key = json.dumps(S.to_dict(), sort_keys=True, default=str)
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = _build(S)
    return _CACHE[key]


def _build(S: Any) -> BoardFacts:
    from buildbuy import board, tco, uncertainty

    c = tco.compare(S)
    figs = dict(figures_from_comparison(c))
    rec = str(c.recommendation)

    def add(key: str, label: str, value: float | None, unit: str) -> None:
        figs[key] = Figure(key, label, value, unit)

    # financial effect by year, B minus A (the board's ledger view)
    d = board.delta(c.board).set_index("year")
    annual = d[["ebitda_usd", "ebit_usd", "fcf_usd", "capex_usd"]].astype(float)
    for y, row in annual.iterrows():
        add(f"ebitda_delta_y{y}_usd", f"EBITDA effect of B, year {y}", row["ebitda_usd"], "usd")
        add(f"ebit_delta_y{y}_usd", f"EBIT effect of B, year {y}", row["ebit_usd"], "usd")
        add(f"fcf_delta_y{y}_usd", f"Free-cash-flow effect of B, year {y}", row["fcf_usd"],
            "usd")
    ev = c.enterprise_value
    add("npv_fcf_gap_usd", "NPV of B's change in free cash flow", float(ev.npv_fcf_usd), "usd")

    # capex, headcount and the ask
    cap = c.board[c.board["scenario"] == "B"].set_index("year")["capex_usd"].astype(float)
    add("capex_usd", "Capex of B over the horizon", float(cap.sum()), "usd")
    add("capex_y1_usd", "Capex of B in year 1", float(cap.iloc[0]), "usd")
    fte = {side: _fte(S, side) for side in ("a", "b")}
    add("headcount_fte_a", "Headcount of A", fte["a"], "fte")
    add("headcount_fte_b", "Headcount of B", fte["b"], "fte")
    add("headcount_delta_fte", "Extra headcount of B over A", fte["b"] - fte["a"], "fte")
    path = {"build": "B", "buy": "A", "hybrid": "A", "neither": None}[rec]
    add("headcount_fte", "Headcount of the recommendation",
        0.0 if path is None else fte[path.lower()], "fte")
    add("ask_months", "Months the budget asked covers", float(ASK_MONTHS), "months")
    first_year = c.monthly.loc[c.monthly.index <= ASK_MONTHS]
    ask = 0.0 if path is None else float(first_year[path].sum())
    add("ask_usd", "Budget asked: first 12 months of the recommendation", ask, "usd")
    add("gpus_y1", "GPUs of B in year 1", float(c.gpus_by_year[0]), "count")

    # risk: Monte Carlo range and tornado with kill criteria
    mc = uncertainty.monte_carlo(S, n_draws=MC_DRAWS, seed=MC_SEED)
    gap = -mc.percentiles_usd["npv_diff"]  # advantage of B: minus its extra cost
    add("npv_gap_p10_usd", "NPV gap B minus A, P10", float(gap["P90"]), "usd")
    add("npv_gap_p50_usd", "NPV gap B minus A, P50", float(gap["P50"]), "usd")
    add("npv_gap_p90_usd", "NPV gap B minus A, P90", float(gap["P10"]), "usd")
    add("prob_b_better", "Chance that B beats A (NPV)", float(mc.prob_self_host_cheaper_npv),
        "share")
    tor = uncertainty.tornado(S)
    kills = tuple(kill_criterion(S, row) for _, row in tor.head(TOP_DRIVERS).iterrows())
    for k in kills:
        unit, offset = threshold_unit(S, k.driver)

        def quoted(v: float, offset: float = offset) -> float:
            return abs(v - offset) if offset else v  # a scale: distance from plan

        if k.threshold is not None:  # no threshold, no figure: nothing to quote
            add(k.key, f"Kill threshold: {k.label}", quoted(k.threshold), unit)
        add(f"base_{k.driver}", f"Plan value: {k.label}", quoted(k.base), unit)
        add(f"range_low_{k.driver}", f"Tornado low: {k.label}", quoted(k.low), unit)
        add(f"range_high_{k.driver}", f"Tornado high: {k.label}", quoted(k.high), unit)
        add(f"swing_{k.driver}", f"Tornado swing: {k.label}", k.swing_usd, "usd")
    add("quality_b_vs_a", "Quality of B's model, share of A's", 1.0, "share")

    valuation = ev.table[["method", "value_usd", "basis"]].copy()
    return BoardFacts(
        scenario=S, recommendation=rec, reasons=tuple(c.reasons), notes=tuple(c.notes),
        figures=figs, kill_criteria=kills, tornado=tor.head(TORNADO_ROWS).copy(),
        cumulative=c.cumulative.copy(), annual=annual, valuation=valuation,
        quality_basis="the cost model treats both paths as equally good at the task; "
                      "it has no quality input yet")


def _fte(S: Any, side: str) -> float:
    from buildbuy.scenarios import ROLES

    return float(sum(getattr(S, f"{role}_fte_{side}") for role in ROLES))
