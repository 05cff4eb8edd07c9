"""buildbuy: the shared library behind the AI build-vs-buy course workbook.

Modules, one concept each:

- :mod:`buildbuy.data`: the sourced tables in ``data/`` (GPUs, models, API prices, benchmarks).
- :mod:`buildbuy.tps`: the analytical inference-performance (tokens per second) model.
- :mod:`buildbuy.costs`: unit economics: cost per 1k tokens, monthly cost, break-even.
- :mod:`buildbuy.scenarios`: the validated build-vs-buy scenario schema and personas.
- :mod:`buildbuy.tco`: monthly cash flows of Scenario A (API) and B (self-host).
- :mod:`buildbuy.finance`: NPV, IRR, MIRR, payback, depreciation.
- :mod:`buildbuy.drift`: drifting streams, detectors and retraining-policy costs.
- :mod:`buildbuy.widgets`: the interactive lesson panels.
- :mod:`buildbuy.reports`: per-learner reports at cohort scale.
"""

from __future__ import annotations

__version__ = "0.1.0"
