"""Scenario fields for the strategic topics: API latency, GPU lead time, technical debt.

:data:`STRATEGY_FIELDS` uses the spec format of :mod:`buildbuy.ops_fields` (``default``,
``unit``, ``kind``, ``group``, ``range``, ``doc`` with the plausible range, ``source`` of
the default with its date). The formulas live in :mod:`buildbuy.api_latency` (a latency
target can rule out the API), :mod:`buildbuy.gpu_supply` (lead time moves B's go-live) and
:mod:`buildbuy.tech_debt` (the yearly carrying cost of a self-built ML system).
"""

from __future__ import annotations

from typing import Any

__all__ = ["STRATEGY_FIELDS"]

STRATEGY_FIELDS: dict[str, dict[str, Any]] = {
    "api_ms_per_output_token": {
        "default": None, "unit": "ms", "kind": float, "group": "api", "optional": True,
        "range": (0.0, 1000.0, True, False),
        "why": "above 0; up to one second a token, ten times the slowest provider of the "
               "LLMPerf Leaderboard (10 tokens/s): slower is not a chat service",
        "doc": "Measured time per output token of the API you would buy (the TPOT p50 of "
               "`buildbuy audit` on the vendor's endpoint, or a published benchmark); empty "
               "= not measured. Above max_ms_per_output_token, the latency target rules "
               "out Scenario A (buildbuy.api_latency). Plausible 5-100 ms: 10 to 185 output "
               "tokens/s per request for one model across eight providers "
               "(data/api_latency.csv).",
        "source": "course default: not measured (LLMPerf Leaderboard, "
                  "ray-project/llmperf-leaderboard, 19 Dec 2023, for the range)",
    },
    "gpu_lead_time_months": {
        "default": 3, "unit": "months", "kind": int, "group": "self_host",
        "range": (0.0, 36.0, False, False),
        "why": "0 (in stock) to 3 years: the longest published wait was a year (Omdia, "
               "November 2023), and a horizon rarely runs past three",
        "doc": "Months from the order of owned GPU servers to their delivery (owned hosting "
               "only; rented cloud GPUs are taken as available at once). The servers are "
               "ordered at the decision, in parallel with the build, so Scenario B goes live "
               "after max(months_to_production, gpu_lead_time_months). Plausible 2-12: "
               "8-12 weeks for Dell H100 servers in April 2024, 39 weeks in late 2023, "
               "36-52 weeks across the server industry in November 2023 "
               "(data/gpu_lead_times.csv).",
        "source": "Dell Taiwan (Terence Liao) to United Daily News, reported by Tom's "
                  "Hardware, 'Dell shaves months off lead times for GPU-powered AI servers', "
                  "11 Apr 2024: 8-12 weeks for H100 servers, rounded up to 3 months",
    },
    "tech_debt_share_per_year": {
        "default": 0.2, "unit": "share/year", "kind": float, "group": "people",
        "range": (0.0, 1.0, False, False),
        "why": "0 (no debt) to 100% of the build cost a year, i.e. rebuilding the system "
               "every year: beyond that, replace it",
        "doc": "Yearly carrying cost of technical debt in the self-built system, as a share "
               "of its build cost (fine-tuning plus Scenario B's staff over "
               "months_to_production): the refactoring, glue code, pipeline and dependency "
               "upkeep that the run team's FTE do not cover. Paid monthly from B's go-live. "
               "Plausible 0.1-0.4: 15-20% a year is the usual rule for ordinary software, and "
               "ML systems carry more (Sculley et al. 2015).",
        "source": "illustrative: the 15-20%-of-development-cost-a-year rule of thumb for "
                  "software maintenance, at its top because ML systems accrue more hidden "
                  "debt (Sculley et al., 'Hidden Technical Debt in Machine Learning Systems', "
                  "NeurIPS 2015)",
    },
}
