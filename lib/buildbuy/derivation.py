"""The 3-year model of A and B, derived in the open: one short table per component.

Lesson 2 builds the TCO in front of the learner, one component a cell, before the summary
panel. Each table here is a view of the cost lines that :func:`buildbuy.tco.compare`
itself sums (its ``cashflows``), so a cell's numbers are the model's numbers, never a
second computation. Every cost line belongs to exactly one component (:func:`concept_of`),
so the component tables add up to the comparison's totals (``tests/test_derivation.py``).

Components (:data:`CONCEPTS`), in the order the lesson builds them:

- ``api_fees``: A's per-token bill, provisioned throughput above the top rate-limit tier,
  the one-off integration (A's operating costs);
- ``fleet``: B's GPUs year by year (:func:`buildbuy.tco.fleet_by_year`) and, on rented
  GPUs, their rent (:func:`fleet_table`);
- ``capex``: owned servers and networking bought up front and topped up yearly, and their
  resale at the horizon;
- ``running``: B's other operating costs (power, colocation, maintenance, licences,
  fine-tuning);
- ``people``: staff of both paths by role, B's on-call top-up, A's model-refresh work and
  B's technical-debt carrying cost (:mod:`buildbuy.tech_debt`);
- ``drift``: monitoring, retraining, labels, migrations (:mod:`buildbuy.drift`).

Two more tables sit beside the cost lines, because they are not cash costs:
:func:`depreciation_table` (how the bought servers reach EBIT: the decision record's one
schedule) and :func:`value_table` (what each path earns and what it forgoes before it
goes live, the opportunity cost, from :mod:`buildbuy.value`). Path H (hybrid: the API
until B is live, then self-hosting) is built from A's and B's lines by the decision
record; the tables show A and B.

Conventions: ``usd`` is a cost (positive = money out; the resale is negative). Year 1 is
months 0-12 (month 0 = up front), year ``k`` months ``12(k-1)+1 .. 12k``.

Examples
--------
>>> from buildbuy import scenarios
>>> S = scenarios.load("hospital_notes")
>>> t = component_table(S, "api_fees")
>>> list(t.columns)[:3]
['path', 'line', 'formula']
>>> bool(abs(totals(S).loc["total", "A"] - tco.compare(S).tco_usd["A"]) < 1e-6)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import costs, tco
from buildbuy._validate import choice

__all__ = ["CONCEPTS", "FORMULAS", "component_table", "concept_of", "depreciation_table",
           "fleet_table", "lines", "totals", "value_table"]

#: The components of the model, in the order lesson 2 builds them.
CONCEPTS: tuple[str, ...] = ("api_fees", "fleet", "capex", "running", "people", "drift")


def concept_of(scenario: str, component: str, category: str) -> str:
    """The component (one of :data:`CONCEPTS`) a cost line belongs to.

    By category, except operating costs: A's are ``api_fees``, B's GPU rent is ``fleet``
    and B's other operating costs are ``running``.

    Examples
    --------
    >>> concept_of("B", "gpu_rental", "opex"), concept_of("B", "power", "opex")
    ('fleet', 'running')
    """
    if category == "opex":
        if scenario == "A":
            return "api_fees"
        return "fleet" if component == "gpu_rental" else "running"
    if category in ("capex", "people", "drift"):
        return category
    raise ValueError(f"category={category!r} is invalid: must be one of capex, opex, "
                     f"people, drift")


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _api_price(S: Any) -> str:
    usd_1m = costs.api_usd_per_1k_tokens(S.api_model, output_token_share=S.output_token_share,
                                         cached_input_share=S.cached_input_share) * 1000.0
    return f"${usd_1m:.2f} per 1M tokens"


def _staff(S: Any, role: str, side: str) -> str:
    fte = getattr(S, f"{role}_fte_{side.lower()}")
    return f"{fte:g} FTE x ${getattr(S, f'{role}_usd_per_year'):,.0f} a year / 12, every month"


#: Line -> formula in words with the scenario's numbers (a function of the scenario).
FORMULAS: dict[str, Callable[[Any], str]] = {
    "api_fees": lambda S: (f"tokens served x list price {_api_price(S)} (blended at "
                           f"{_pct(S.output_token_share)} output) x (1 - "
                           f"{_pct(S.api_discount)} discount) x price index, less the tokens "
                           f"served by provisioned throughput"),
    "api_provisioned": lambda S: ("units of provisioned throughput for the peak above the top "
                                  "rate-limit tier x their published monthly price"),
    "api_integration": lambda S: f"${S.api_integration_usd:,.0f} once, in month 1",
    "model_refresh": lambda S: (f"{S.api_migration_engineer_days:g} ML-engineer days per "
                                f"refresh every {S.api_refresh_months} months (0 = never)"),
    "gpu_rental": lambda S: ("GPUs at each hour's load x hours x price per GPU-hour "
                             f"({S.hosting}); reserved baseline where cheaper"),
    "gpu_servers": lambda S: (f"servers for the year's peak hour x ${S.server_usd:,.0f}, "
                              "bought at the start of the year they are first needed"),
    "networking": lambda S: f"server purchases x {_pct(S.networking_uplift)} uplift",
    "resale": lambda S: (f"- purchases x (1 - {_pct(S.resale_decline_per_year)}) ** years "
                         "held, in the last month"),
    "power": lambda S: (f"servers x {S.server_power_kw:g} kW x {_pct(S.power_draw_share)} draw "
                        f"x PUE {S.pue:g} x 730 h x ${S.electricity_usd_per_kwh:g}/kWh"),
    "colocation": lambda S: ("servers x kW x the colocation rate of the site's tier (retail "
                             f"${S.colo_retail_usd_per_kw_month:g}, wholesale "
                             f"${S.colo_wholesale_usd_per_kw_month:g} per kW-month)"),
    "maintenance": lambda S: (f"capex held x {_pct(S.maintenance_share_per_year)} a year / "
                              "12, from go-live"),
    "licences": lambda S: f"GPUs in service x ${S.licence_usd_per_gpu_year:,.0f} a year / 12",
    "fine_tuning": lambda S: f"${S.fine_tuning_usd:,.0f} once, in month 1",
    "on_call_staff": lambda S: (f"MLOps FTE added to reach the {S.on_call_coverage} on-call "
                                "minimum x salary / 12, from go-live"),
    "tech_debt": lambda S: (f"{_pct(S.tech_debt_share_per_year)} a year x build cost "
                            "(fine-tuning + B's staff over the build) / 12, from go-live"),
}


def _formula(S: Any, side: str, component: str, category: str) -> str:
    if category == "people" and component in (r for r in _roles()):
        return _staff(S, component, side)
    if category == "drift":
        return "drift cost line of buildbuy.drift.cost_lines (see lesson 2, section 6)"
    f = FORMULAS.get(component)
    return f(S) if f is not None else ""


def _roles() -> tuple[str, ...]:
    from buildbuy.scenarios import ROLES

    return ROLES


def lines(S: Any) -> pd.DataFrame:
    """The comparison's cost lines with their component: ``tco.compare(S).cashflows`` plus
    a ``concept`` column (one of :data:`CONCEPTS`)."""
    cf = tco.compare(S).cashflows.copy()
    cf["concept"] = [concept_of(s, c, k) for s, c, k in
                     zip(cf["scenario"], cf["component"], cf["category"], strict=True)]
    return cf


def _year(month: pd.Series) -> pd.Series:
    return (np.maximum(month, 1) - 1) // 12 + 1


def component_table(S: Any, concept: str) -> pd.DataFrame:
    """One component of the model: its lines, their formula in words and USD per year.

    Parameters
    ----------
    S : Scenario
    concept : str
        One of :data:`CONCEPTS`.

    Returns
    -------
    pandas.DataFrame
        One row per cost line of the component (lines that are zero over the horizon are
        left out): ``path`` (A or B), ``line``, ``formula`` (in words, with the scenario's
        numbers), ``year_1_usd`` .. ``year_k_usd`` and ``total_usd``.
    """
    choice("concept", concept, CONCEPTS)
    cf = lines(S)
    cf = cf[cf["concept"] == concept].copy()
    cf["year"] = _year(cf["month"])
    wide = cf.pivot_table(index=["scenario", "component", "category"], columns="year",
                          values="usd", aggfunc="sum", fill_value=0.0, sort=False)
    n_years = int(_year(pd.Series([S.horizon_months])).iloc[0])
    wide = wide.reindex(columns=range(1, n_years + 1), fill_value=0.0)
    rows = []
    for (side, comp, cat), usd in wide.iterrows():
        total = float(usd.sum())
        if np.allclose(usd.to_numpy(dtype=float), 0.0):
            continue
        row: dict[str, Any] = {"path": side, "line": comp,
                               "formula": _formula(S, side, comp, cat)}
        row.update({f"year_{y}_usd": float(usd[y]) for y in usd.index})
        row["total_usd"] = total
        rows.append(row)
    cols = ["path", "line", "formula", *(f"year_{y}_usd" for y in range(1, n_years + 1)),
            "total_usd"]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({c: float for c in cols[3:]})


def fleet_table(S: Any) -> pd.DataFrame:
    """B's fleet year by year (:func:`buildbuy.tco.fleet_by_year`) with its rent.

    Columns ``year``, ``gpus``, ``servers`` (owned; else 0), ``peak_tokens_per_s``,
    ``utilisation_at_peak``, ``rent_usd`` (the year's ``gpu_rental`` line; 0 for owned
    servers, which are capex).
    """
    plan = tco.fleet_by_year(S)
    cf = lines(S)
    rent = cf[cf["component"] == "gpu_rental"].copy()
    rent["year"] = _year(rent["month"])
    by_year = rent.groupby("year")["usd"].sum()
    return pd.DataFrame([{
        "year": y.year, "gpus": y.gpus, "servers": y.servers or 0,
        "peak_tokens_per_s": y.peak_tokens_per_s, "utilisation_at_peak": y.utilisation_at_peak,
        "rent_usd": float(by_year.get(y.year, 0.0))} for y in plan.years])


def totals(S: Any) -> pd.DataFrame:
    """Horizon cost of each component for A and B, with a ``total`` row.

    The ``total`` row equals ``tco.compare(S).tco_usd`` (a test proves it).
    """
    cf = lines(S)
    t = cf.pivot_table(index="concept", columns="scenario", values="usd", aggfunc="sum",
                       fill_value=0.0)
    t = t.reindex([c for c in CONCEPTS if c in t.index])
    t.loc["total"] = t.sum()
    t.columns.name = None
    return t


def depreciation_table(S: Any) -> pd.DataFrame:
    """B's hardware in the books, year by year, from the decision record's one schedule.

    Columns ``year``, ``capex_usd`` (purchases), ``depreciation_usd`` (straight line to zero
    over ``depreciation_life_months``), ``net_book_value_usd`` (end of year) and
    ``proceeds_usd`` (the resale at the horizon). Depreciation is not cash: it moves EBIT
    and tax, not the TCO.
    """
    from buildbuy.decision import decide

    a = decide(S).annual
    b = a[a["path"] == "B"]
    return pd.DataFrame({"year": b["year"].to_numpy(), "capex_usd": b["capex_usd"].to_numpy(),
                         "depreciation_usd": b["depreciation_usd"].to_numpy(),
                         "net_book_value_usd": b["nbv_usd"].to_numpy(),
                         "proceeds_usd": b["proceeds_usd"].to_numpy()})


def value_table(S: Any) -> pd.DataFrame:
    """What each path earns, and what it forgoes before it goes live (opportunity cost).

    One row per path (A, B, H) and line: ``value`` (requests served x
    ``value_usd_per_request`` x quality, from go-live: :func:`buildbuy.value.monthly_value`)
    and ``forgone`` (the value the path's own model would have earned in the months before
    it serves: :func:`buildbuy.value.forgone`; already left out of ``value``, so never added
    to costs). Columns ``path``, ``line``, ``live_month``, ``year_1_usd`` .., ``total_usd``.
    """
    from buildbuy import value

    v, f = value.monthly_value(S), value.forgone(S)
    live = value.live_from(S)
    months = pd.Series(range(S.horizon_months + 1))
    year = _year(months)
    n_years = int(year.iloc[-1])
    rows = []
    for path in value.PATHS:
        for line, arr in (("value", v[path]), ("forgone", f[path])):
            by_year = pd.Series(arr).groupby(year).sum()
            row: dict[str, Any] = {"path": path, "line": line, "live_month": live[path]}
            row.update({f"year_{y}_usd": float(by_year.get(y, 0.0))
                        for y in range(1, n_years + 1)})
            row["total_usd"] = float(sum(arr))
            rows.append(row)
    return pd.DataFrame(rows)
