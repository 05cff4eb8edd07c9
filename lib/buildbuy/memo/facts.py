"""What a board pack states, for one scenario: the decision record plus the board's terms.

A memo, a PR/FAQ, the one-page PDF and the deck all say the same things: the
recommendation, the amount asked, the headcount, the financial effect (EBITDA, EBIT, free
cash flow), the range of outcomes (P10/P90 of the NPV gap), the widest drivers with the
point at which each reverses the decision (:mod:`buildbuy.memo.kill`), the quality
assumption and the decision date. :func:`board_facts` reads them from the decision record
(:func:`buildbuy.decision.decide`) and adds the few figures a board needs that the record
does not name, each computed from the record:

- ``ask_usd``: what the recommended path spends in its first :data:`ASK_MONTHS` months,
  operating costs and capital expenditure (month 0 included): the budget the board is
  asked to release; ``"neither"`` asks for nothing ($0). ``ask_months`` is that period.
- ``headcount_fte``: the full-time equivalents the recommended path staffs (A's team for
  "buy", B's for "build" and "hybrid", none for "neither").
- per widest driver: ``kill_<driver>`` (the value at which the decision reverses, when it
  does within the tornado's range), ``base_<driver>`` (the plan), ``range_low_<driver>``
  and ``range_high_<driver>`` (the range tested), ``swing_<driver>`` (the bar's width).
  Scale factors (``staff_fte_b_scale``) and ratios (``peak_to_average``) are quoted as
  their distance from plan (a share: :func:`~buildbuy.memo.kill.threshold_unit`).

Every one is a :class:`~buildbuy.decision.Figure`; ``BoardFacts.figures`` holds the
record's registry plus these, so the checker matches any number a text quotes against the
whole record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from buildbuy.decision.figures import Figure
from buildbuy.memo.kill import KillCriterion, kill_criteria, threshold_unit

__all__ = ["ASK_MONTHS", "CONSTRAINT_KEY", "GAP_KEYS", "TOP_DRIVERS", "BoardFacts",
           "board_facts"]

#: Drivers that get a kill criterion (the widest bars of the record's tornado).
TOP_DRIVERS: int = 3
#: Months of spending the ask covers (the first year of the recommended path).
ASK_MONTHS: int = 12
#: Tornado rows shown on the risk slide.
TORNADO_ROWS: int = 8
#: The path each recommendation stands for (``"neither"``: the best one, unfunded).
PATH_OF: dict[str, str] = {"buy": "A", "build": "B", "hybrid": "H"}
PATH_NAMES: dict[str, str] = {"A": "the API", "B": "self-hosting", "H": "the hybrid",
                              "0": "doing nothing"}
#: Figures of self-hosting against the API (not in a table when the API is ruled out).
GAP_KEYS: tuple[str, ...] = ("npv_gap_usd", "npv_gap_abs_usd", "npv_gap_p10_usd",
                             "npv_gap_p50_usd", "npv_gap_p90_usd", "prob_b_better",
                             "payback_months", "discounted_payback_months")
#: The record's price of the constraints (present only when a path is blocked).
CONSTRAINT_KEY = "constraint_cost_usd"


@dataclasses.dataclass(frozen=True)
class BoardFacts:
    """Everything a board pack states for one scenario (see the module docstring).

    Attributes
    ----------
    decision : Decision
        The record (:func:`buildbuy.decision.decide`).
    path : str
        The recommended path (``"A"``, ``"B"``, ``"H"``; for "neither", the best one).
    versus : str
        The next best choice the kill criteria compare against (a path, or ``"0"``:
        doing nothing).
    kill_metric : (str, str or None)
        The tornado metrics whose difference the kill criteria cross:
        ``npv_<path>`` minus ``npv_<versus>`` (``None``: against doing nothing).
    figures : dict
        Every quotable number, key -> :class:`Figure` (the record's and the board's).
    kill_criteria : tuple of KillCriterion
        The :data:`TOP_DRIVERS` widest tornado drivers, widest first (empty when the
        record has no risk analysis: self-hosting not feasible).
    tornado : pandas.DataFrame
        The widest :data:`TORNADO_ROWS` rows of the record's tornado (NPV gap, B over A).
    annual : pandas.DataFrame
        Index ``year``: ``ebitda_usd``, ``ebit_usd``, ``fcf_usd``, ``capex_usd`` of the
        recommended path against doing nothing (value included, after tax for FCF).
    """

    decision: Any
    path: str
    versus: str
    kill_metric: tuple[str, str | None]
    figures: dict[str, Figure]
    kill_criteria: tuple[KillCriterion, ...]
    tornado: pd.DataFrame
    annual: pd.DataFrame

    @property
    def scenario(self) -> Any:
        """The scenario."""
        return self.decision.scenario

    @property
    def recommendation(self) -> str:
        """``"build"``, ``"buy"``, ``"hybrid"`` or ``"neither"`` (the record's)."""
        return str(self.decision.recommendation)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The record's reasons."""
        return tuple(self.decision.reasons)

    @property
    def cumulative(self) -> pd.DataFrame:
        """Cumulative pre-tax cash cost by month, one column per path (USD)."""
        return self.decision.comparison.cumulative

    @property
    def valuation(self) -> pd.DataFrame:
        """``method``, ``label``, ``value_usd``, ``basis``: the record's valuation."""
        t = self.decision.valuation.table[["method", "value_usd", "basis"]].copy()
        t.insert(1, "label", [self.figures[f"valuation_{m}_usd"].label.split(": ")[-1]
                              for m in t["method"]])
        return t

    @property
    def decision_date(self) -> str:
        """The date the board is asked to decide by (scenario field ``decision_date``)."""
        return str(self.scenario.decision_date)

    @property
    def quality_basis(self) -> str:
        """Where the quality assumption comes from (the scenario's source for it)."""
        return str(self.scenario.source("quality_b_vs_a"))

    @property
    def widest(self) -> KillCriterion | None:
        """The widest tornado driver (``None`` without a risk analysis)."""
        return self.kill_criteria[0] if self.kill_criteria else None

    @property
    def api_ruled_out(self) -> bool:
        """True when a constraint blocks the API (e.g. data residency): a gap against it
        is then no choice the board has, and the board pack does not quote one."""
        return bool(self.decision.feasibility.get("A"))

    def table_keys(self, keys: Sequence[str]) -> list[str]:
        """The figures of a board table: ``keys`` (``{p}``: the recommended path, lower
        case) that the record holds, without the gap against the API when it is ruled out
        (:data:`GAP_KEYS`), then the price of the constraints when something is blocked.

        Examples
        --------
        >>> board_facts("hospital_notes").table_keys(["ask_usd", "npv_{p}_usd", "nope"])
        ['ask_usd', 'npv_a_usd']
        """
        p = self.path.lower()
        out = [k.format(p=p) for k in keys]
        if self.api_ruled_out:
            out = [k for k in out if k not in GAP_KEYS]
        out.append(CONSTRAINT_KEY)
        return [k for k in dict.fromkeys(out) if k in self.figures]

    def text(self, key: str) -> str:
        """The figure ``key`` as a board reads it (``$690k``, ``62%``)."""
        return self.figures[key].text


def board_facts(scenario: Any) -> BoardFacts:
    """The board's facts for ``scenario``, cached with its decision record.

    ``scenario`` is a persona name, a :class:`~buildbuy.scenarios.Scenario` or its
    :class:`~buildbuy.decision.Decision`.

    Examples
    --------
    >>> f = board_facts("bank_support")
    >>> f.recommendation, f.path, f.versus, f.text("ask_usd").startswith("$")
    ('build', 'B', '0', True)
    """
    from buildbuy import scenarios
    from buildbuy.decision import Decision, decide

    if isinstance(scenario, BoardFacts):
        return scenario
    if isinstance(scenario, Decision):
        d = scenario
    else:
        d = decide(scenarios.load(scenario) if isinstance(scenario, str) else scenario)
    key = id(d)
    hit = _CACHE.get(key)
    if hit is None or hit.decision is not d:  # decide() caches records: same record, same facts
        if len(_CACHE) > 32:
            _CACHE.clear()
        hit = _CACHE[key] = _build(d)
    return hit


_CACHE: dict[int, BoardFacts] = {}


def _next_best(d: Any, path: str) -> str:
    """The best feasible choice other than ``path``: another path or doing nothing."""
    npv = d.npv_vs_status_quo_usd
    options = [p for p in ("A", "B", "H") if p != path and not d.feasibility.get(p)]
    best = max(options, key=lambda p: npv[p], default="0")
    return best if npv.get(best, 0.0) > 0.0 else "0"


def _build(d: Any) -> BoardFacts:
    S = d.scenario
    figs = dict(d.figures)
    rec = str(d.recommendation)
    path = PATH_OF.get(rec, d.best_path)
    versus = "0" if rec == "neither" else _next_best(d, path)

    def add(key: str, label: str, value: float | None, unit: str, basis: str = "") -> None:
        figs[key] = Figure(key, label, value, unit, basis)

    first = d.monthly.index <= ASK_MONTHS
    ask = 0.0 if rec == "neither" else float(
        d.monthly.loc[first, (path, "costs")].sum() + d.monthly.loc[first, (path, "capex")].sum())
    add("ask_months", "Months the budget asked covers", float(ASK_MONTHS), "months")
    add("ask_usd", f"Budget asked: first {ASK_MONTHS} months of the recommendation", ask,
        "usd", "operating costs and capex of the recommended path, months 0-12, pre-tax")
    add("headcount_fte", "Headcount of the recommendation",
        0.0 if rec == "neither" else float(d.headcount_fte[path]), "fte")

    kills: tuple[KillCriterion, ...] = ()
    tornado = pd.DataFrame()
    metric = (f"npv_{path.lower()}", None if versus == "0" else f"npv_{versus.lower()}")
    if d.risk is not None:
        tornado = d.risk.tornado.head(TORNADO_ROWS).copy()
        kills = kill_criteria(S, [row for _, row in d.risk.tornado.head(TOP_DRIVERS).iterrows()],
                              metric=metric)
    against = f"{PATH_NAMES[path]} against {PATH_NAMES[versus]}"
    for k in kills:
        unit, relative = threshold_unit(S, k.driver)

        def quoted(v: float, relative: bool = relative, plan: float = k.base) -> float:
            return abs(v / plan - 1.0) if relative else v  # relative: distance from plan

        if k.threshold is not None:  # no threshold, no figure: nothing to quote
            add(k.key, f"Kill threshold: {k.label}", quoted(k.threshold), unit,
                f"where the after-tax NPV of {against} turns over")
        add(f"base_{k.driver}", f"Plan value: {k.label}", quoted(k.base), unit)
        add(f"range_low_{k.driver}", f"Tornado low: {k.label}", quoted(k.low), unit)
        add(f"range_high_{k.driver}", f"Tornado high: {k.label}", quoted(k.high), unit)
        add(f"swing_{k.driver}", f"Tornado swing: {k.label}", k.swing_usd, "usd",
            "width of its bar in the NPV gap, B over A")

    a = d.annual[d.annual["path"] == path].set_index("year")
    annual = a[["ebitda_usd", "ebit_usd", "fcf_usd", "capex_usd"]].astype(float)
    return BoardFacts(d, path, versus, metric, figs, kills, tornado, annual)
