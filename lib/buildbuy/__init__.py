"""buildbuy: the shared library behind the AI build-vs-buy course workbook.

Modules, one concept each (``docs/design.md`` is the contract between them):

- :mod:`buildbuy.data`: the sourced tables in ``data/`` (GPUs, models, API prices,
  published benchmarks, the H100/H200 measurements).
- :mod:`buildbuy.tps`: the analytical inference-performance (tokens per second) model;
  :mod:`buildbuy.tps.accuracy` measures it against real numbers.
- :mod:`buildbuy.bottleneck`: the five-way bottleneck audit of a serving pipeline.
- :mod:`buildbuy.costs`: unit economics: cost per 1k tokens, monthly cost, break-even.
- :mod:`buildbuy.scenarios` (fields in :mod:`buildbuy.scenario_fields`): the validated
  build-vs-buy scenario schema and the personas.
- :mod:`buildbuy.demand` and :mod:`buildbuy.value`: volume month by month, and the value
  each path creates against doing nothing.
- :mod:`buildbuy.tco` and :mod:`buildbuy.tco_compare`: monthly cash costs of Scenario A
  (API) and B (self-host), B's fleet by year, and the comparison built on them.
- :mod:`buildbuy.tax` and :mod:`buildbuy.path_cash`: one depreciation schedule, tax and
  after-tax free cash flow of the paths (buy, build, hybrid, status quo).
- :mod:`buildbuy.constraints`: what blocks a path (data residency, latency, API quota).
- :mod:`buildbuy.decision`: THE decision record every view prints from.
- :mod:`buildbuy.tco` and :mod:`buildbuy.tco_compare`: monthly cash flows of Scenario A
  (API) and B (self-host), and the comparison built on them; :mod:`buildbuy.tco_context`
  (what stays fixed across draws) and :mod:`buildbuy.tco_fleet` (B's fleet, and
  ``fleet_by_year``, the one report of it).
- Operations, used by :mod:`buildbuy.tco`: :mod:`buildbuy.capacity` (headroom,
  redundancy, hourly cloud fleets), :mod:`buildbuy.load_profile` (the daily load shape),
  :mod:`buildbuy.staffing` (the on-call minimum), :mod:`buildbuy.owned_hardware`
  (colocation tiers, resale by age), :mod:`buildbuy.api_limits` (rate-limit tiers,
  provisioned throughput), :mod:`buildbuy.api_price` (list-price decline, model refreshes);
  their scenario fields are in :mod:`buildbuy.ops_fields`.
- :mod:`buildbuy.finance`: NPV, IRR, MIRR, payback, depreciation.
- :mod:`buildbuy.board`: EBITDA, EBIT and free cash flow by year (tidy views).
- :mod:`buildbuy.valuation`: DCF, DCF with terminal value and sector multiples.
- :mod:`buildbuy.sla`: the SLA negotiation calculator.
- :mod:`buildbuy.uncertainty`: tornado, two-way grid and Monte Carlo.
- :mod:`buildbuy.drift`: drifting streams, detectors, retraining policies and their cost.
- :mod:`buildbuy.memo`: the one-page board memo, its draft and its checker.
- :mod:`buildbuy.questions`, :mod:`buildbuy.checks`, :mod:`buildbuy.exercises`: practice
  questions, instant feedback, building the exercises; :mod:`buildbuy.grading`: grading
  submissions, each in its own bubblewrap sandbox.
- :mod:`buildbuy.forms`: the no-code track, one form of widgets per exercise, with the
  same checks and answers the grader reads.
- :mod:`buildbuy.widgets`: the interactive lesson panels.
- :mod:`buildbuy.reports`: per-learner reports at cohort scale; :mod:`buildbuy.ids`:
  safe file names from learner ids.
- :mod:`buildbuy.workshop`: the Voila dashboards for a workshop room.
- :mod:`buildbuy.notebooks`: papermill execution with deterministic outputs.
- :mod:`buildbuy.audit`: measure an OpenAI-compatible endpoint and name its bottleneck.
- :mod:`buildbuy.lab`: the practice server with a hidden bottleneck (exercise 1).

Every module is reachable after a bare ``import buildbuy`` (it is imported on first
use, so ``import buildbuy`` itself stays fast)::

    import buildbuy
    C = buildbuy.tco.compare(buildbuy.scenarios.load("bank_support"))
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

__version__ = "0.1.0"

#: the public submodules (every module or subpackage not starting with ``_``), imported
#: on first attribute access (PEP 562)
SUBMODULES: tuple[str, ...] = tuple(sorted(
    m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


def __getattr__(name: str) -> Any:
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *SUBMODULES})
