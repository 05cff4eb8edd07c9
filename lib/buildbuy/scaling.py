"""Scaling bottlenecks, each with the investment it needs, in the learner's numbers.

:func:`scaling_bottlenecks` grows the scenario's volume by ``volume_multiple`` and names,
for each kind of bottleneck, what binds and what it costs to lift:

- **technical**: B's GPU fleet (year-1 GPUs today and at the multiple; the investment is
  the extra fleet, capex and running cost over the horizon in the model) and A's rate
  limits (the extra API bill, provisioned throughput included);
- **organisational**: the on-call rotation a self-hosted service needs
  (:mod:`buildbuy.staffing`, Google SRE book ch. 11); the investment is the model's
  ``on_call_staff`` line;
- **talent**: the hires B needs beyond A, at SHRM's average hard cost per hire
  (:data:`COST_PER_HIRE_USD`), each taking :data:`DAYS_TO_FILL` days on average;
- **compliance**: the security staff each path carries (the model's ``security`` lines).

Every money figure is a difference of model lines (:func:`buildbuy.derivation.lines`),
never a second computation.

Examples
--------
>>> from buildbuy import scenarios
>>> t = scaling_bottlenecks(scenarios.load("hospital_notes"))
>>> sorted(set(t["kind"]))
['compliance', 'organisational', 'talent', 'technical']
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from buildbuy import derivation, staffing, tco
from buildbuy._validate import positive
from buildbuy.scenarios import ROLES

__all__ = ["COST_PER_HIRE_USD", "DAYS_TO_FILL", "scaling_bottlenecks"]

#: Average cost per hire, hard costs (SHRM, "The Real Costs of Recruitment", 2022:
#: "nearly $4,700", from its Human Capital Benchmarking data).
COST_PER_HIRE_USD: float = 4_700.0
#: Average days to fill a position (SHRM Human Capital Benchmarking Report, Aug 2016).
DAYS_TO_FILL: int = 42


def _total(cf: pd.DataFrame, side: str, concepts: tuple[str, ...] = (),
           components: tuple[str, ...] = ()) -> float:
    sel = cf["scenario"] == side
    sel &= cf["concept"].isin(concepts) | cf["component"].isin(components)
    return float(cf.loc[sel, "usd"].sum())


def scaling_bottlenecks(S: Any, volume_multiple: float = 3.0) -> pd.DataFrame:
    """What binds as the volume grows ``volume_multiple`` times, and what lifting it costs.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind`` (technical, organisational, talent, compliance), ``path``,
        ``what_binds`` (in words with the scenario's numbers), ``investment_usd`` (over
        the horizon unless the text says otherwise) and ``basis``.
    """
    k = positive("volume_multiple", volume_multiple)
    big = S.replace(monthly_tokens=S.monthly_tokens * k)
    cf, cf2 = derivation.lines(S), derivation.lines(big)
    g1, g2 = tco.fleet_by_year(S).gpus_by_year[0], tco.fleet_by_year(big).gpus_by_year[0]
    own = ("fleet", "capex", "running")
    rows = [
        ("technical", "B",
         f"GPUs in year 1: {g1} today, {g2} at {k:g}x the volume ({S.gpu}, {S.hosting})",
         _total(cf2, "B", own) - _total(cf, "B", own),
         "extra fleet, capex and running cost over the horizon (model lines)"),
        ("technical", "A",
         f"API bill at {k:g}x the volume, rate-limit tiers and provisioned throughput "
         f"of {S.api_model}",
         _total(cf2, "A", ("api_fees",)) - _total(cf, "A", ("api_fees",)),
         "extra API fees and provisioned throughput over the horizon (model lines)"),
    ]
    need = staffing.min_on_call_headcount(S.on_call_coverage)
    have = S.ml_engineer_fte_b + S.mlops_fte_b
    rows.append(("organisational", "B",
                 f"{S.on_call_coverage} on call needs a rotation of {need}; B's ML and MLOps "
                 f"engineers are {have:g} FTE",
                 _total(cf, "B", components=("on_call_staff",)),
                 "on-call top-up over the horizon (Google SRE book ch. 11; model line)"))
    extra = sum(getattr(S, f"{r}_fte_b") - getattr(S, f"{r}_fte_a") for r in ROLES)
    extra += max(need - have, 0.0) if S.on_call_coverage != "none" else 0.0
    hires = max(math.ceil(extra - 1e-9), 0)
    rows.append(("talent", "B",
                 f"{hires} hires beyond A's team, about {DAYS_TO_FILL} days each to fill",
                 hires * COST_PER_HIRE_USD,
                 f"hires x ${COST_PER_HIRE_USD:,.0f} average hard cost per hire (SHRM 2022)"))
    for side in ("A", "B"):
        fte = getattr(S, f"security_fte_{side.lower()}")
        rows.append(("compliance", side,
                     f"{fte:g} FTE of security and compliance review on path {side}",
                     _total(cf, side, components=("security",)),
                     "security staff over the horizon (model line)"))
    return pd.DataFrame(rows, columns=["kind", "path", "what_binds", "investment_usd", "basis"])
