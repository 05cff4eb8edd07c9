"""Interactive lesson panels: ipywidgets controls that recompute the model and redraw a chart.

Every panel follows the convention in ``docs/design.md``: ``.controls`` (name ->
widget), ``.result``, ``.figure``, ``.update()``, and a display bundle holding
the live widget plus a static PNG and text fallback. Setting
``panel.controls["batch"].value = 64`` recomputes and redraws at once, with no
kernel, which is how ``tests/test_widgets.py`` checks them.

Entry points (stable names; the browser tests and Voilà dashboards call them):

- lesson 0: :func:`api_bill_panel`, :func:`persona_table`
- lesson 1: :func:`decode_panel`, :func:`unit_cost_panel`; the static charts
  :func:`roofline_chart`, :func:`batching_chart`; the tables :func:`decode_table`,
  :func:`kv_table`, :func:`roofline_table`, :func:`fleet_table`,
  :func:`unit_cost_table`, :func:`psi_table`, :func:`overhead_table`,
  :func:`audit_table`, :func:`model_accuracy`, :func:`saturation_accuracy`,
  :func:`static_batching_table`
- lesson 2: :func:`tco_panel`; :func:`cost_by_category`, :func:`headline`,
  :func:`unit_cost_chart`, :func:`tornado_chart`, :func:`monte_carlo_summary`,
  :func:`monte_carlo_chart`, :func:`drift_cost_table`, :func:`operations_table`
- lesson 3: :func:`board_panel`, :func:`sla_panel`; :func:`valuation_table`
  (alias :func:`board_summary`), :func:`valuation_explained`, :func:`sla_table`,
  :func:`scenario_memo`, :func:`annual_deltas`, :func:`throughput_levers` (alias
  :func:`tps_gain_table`)

Every figure these print comes from the decision record (:func:`buildbuy.decision.decide`).

Each takes a :class:`buildbuy.scenarios.Scenario` (or a persona name) and
starts from that scenario's values.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Chart",
    "Panel",
    "Table",
    "annual_deltas",
    "api_bill_panel",
    "audit_table",
    "batching_chart",
    "board_panel",
    "board_summary",
    "cost_by_category",
    "decode_panel",
    "decode_table",
    "drift_cost_table",
    "fleet_table",
    "headline",
    "kv_table",
    "model_accuracy",
    "monte_carlo_chart",
    "monte_carlo_summary",
    "operations_table",
    "overhead_table",
    "persona_table",
    "psi_table",
    "roofline_chart",
    "roofline_table",
    "saturation_accuracy",
    "scenario_memo",
    "sla_panel",
    "sla_table",
    "static_batching_table",
    "tco_panel",
    "throughput_levers",
    "tornado_chart",
    "tps_gain_table",
    "unit_cost_chart",
    "unit_cost_panel",
    "unit_cost_table",
    "valuation_explained",
    "valuation_table",
]

# Submodules load on first use, so ``import buildbuy.widgets`` stays cheap and a
# lesson only pays for the panels it shows.
_WHERE = {
    "Chart": "_panel",
    "Panel": "_panel",
    "api_bill_panel": "start",
    "persona_table": "start",
    "decode_panel": "physics",
    "unit_cost_panel": "unit_cost",
    "audit_table": "physics_views",
    "fleet_table": "physics_views",
    "model_accuracy": "physics_views",
    "saturation_accuracy": "physics_views",
    "overhead_table": "physics_views",
    "psi_table": "physics_views",
    "unit_cost_table": "physics_views",
    "static_batching_table": "physics_views",
    "Table": "_panel",
    "roofline_chart": "physics",
    "batching_chart": "physics",
    "decode_table": "physics",
    "kv_table": "physics",
    "roofline_table": "physics",
    "tco_panel": "economics",
    "cost_by_category": "tco_views",
    "drift_cost_table": "tco_views",
    "headline": "tco_views",
    "monte_carlo_chart": "tco_views",
    "monte_carlo_summary": "tco_views",
    "operations_table": "tco_views",
    "tornado_chart": "tco_views",
    "unit_cost_chart": "tco_views",
    "board_panel": "board",
    "sla_panel": "negotiation",
    "sla_table": "negotiation",
    "board_summary": "board_views",
    "annual_deltas": "board_views",
    "tps_gain_table": "board_views",
    "throughput_levers": "board_views",
    "valuation_table": "board_views",
    "valuation_explained": "board_views",
    "scenario_memo": "board_views",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"{__name__}.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
