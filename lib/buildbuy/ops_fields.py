"""Scenario fields for realistic operations: capacity, on-call, owned hardware, API terms.

:data:`OPS_FIELDS` maps a field name to a plain spec that :mod:`buildbuy.scenario_fields`
turns into a ``Field``: ``default``, ``unit``, ``doc`` (meaning, then the plausible range
and why), ``source`` (of the default, with its date), ``group``, and either ``options``
(text choices) or ``range`` = ``(low, high, low_open, high_open)`` (``None`` = unbounded)
for numbers, ``kind`` (``float``, ``int`` or ``str``), and ``why`` (why the range's ends
are where they are: a value outside is refused at load, naming the field). The modules
that use the fields document the formulas: :mod:`buildbuy.capacity`, :mod:`buildbuy.load_profile`,
:mod:`buildbuy.staffing`, :mod:`buildbuy.owned_hardware`, :mod:`buildbuy.api_limits`,
:mod:`buildbuy.api_price` and :mod:`buildbuy.sla`.
"""

from __future__ import annotations

from typing import Any

from buildbuy.capacity import REDUNDANCY
from buildbuy.staffing import COVERAGES

__all__ = ["OPS_FIELDS"]

OPS_FIELDS: dict[str, dict[str, Any]] = {
    # ---- capacity
    "target_utilisation": {
        "default": 0.7, "unit": "share", "kind": float, "group": "self_host",
        "range": (0.0, 1.0, True, False),
        "why": "a share of the fleet's capacity: above 0 (a fleet that never carries load "
               "is no plan) and at most 1 (no headroom at all)",
        "doc": "Peak-hour load over the serving fleet's capacity: the fleet is sized so the "
               "peak uses at most this share, keeping 1 - target as headroom for bursts, slow "
               "nodes and the throughput model's optimism. Plausible 0.5-0.85: autoscalers "
               "aim at 0.6-0.8; above ~0.85 queueing delay grows steeply.",
        "source": "Knative Serving autoscaler default target utilisation 70% "
                  "(container-concurrency-target-percentage, knative.dev/docs/serving/"
                  "autoscaling/concurrency, 2024)",
    },
    "redundancy": {
        "default": "n_plus_1", "unit": "", "kind": str, "group": "self_host",
        "options": REDUNDANCY,
        "doc": "Spare capacity beyond the headroom: 'none'; 'n_plus_1' (one spare server "
               "owned, one spare replica in the cloud, so one failure leaves the peak "
               "served); 'two_sites' (two sites, each able to carry the whole peak).",
        "source": "Google SRE book ch. 18 plans each region for N + 2 (Beyer et al., Site "
                  "Reliability Engineering, O'Reilly 2016); N + 1 is the minimum that "
                  "survives one failure",
    },
    "load_profile": {
        "default": "online_retail_daypart", "unit": "", "kind": str, "group": "workload",
        "doc": "Daily shape of the traffic (a profile of data/load_profiles.csv), scaled to "
               "peak_to_average; cloud fleets and API provisioned capacity follow it hour "
               "by hour.",
        "source": "data/load_profiles.csv (comScore dayparts via ClickZ, Dec 2007)",
    },
    # ---- people
    "on_call_coverage": {
        "default": "business_hours", "unit": "", "kind": str, "group": "people",
        "options": COVERAGES,
        "doc": "Hours the self-hosted service has an engineer on call: 'none', "
               "'business_hours' (a minimum rotation of 3) or '24x7' (8). Scenario B's ML "
               "and MLOps engineers staff the rotation; MLOps FTE are added up to the "
               "minimum.",
        "source": "Google SRE book ch. 11 'Being On-Call': two on call at once, at most 25% "
                  "of time on call, so at least 8 engineers for a single-site 24x7 rotation "
                  "(sre.google/sre-book/being-on-call, 2016)",
    },
    # ---- owned hardware
    "colo_retail_usd_per_kw_month": {
        "default": 275.0, "unit": "USD/kW-month", "kind": float, "group": "self_host",
        "range": (0.0, 3000.0, False, False),
        "why": "up to about ten times the North American retail median: beyond it no "
               "published colocation market prices a kW",
        "doc": "Retail colocation per kW (a few cabinets, below colo_wholesale_min_kw at one "
               "site). Plausible 200-400: North America vs Europe, and 10-kW cabinets are "
               "~8% cheaper per kW than 4-kW ones.",
        "source": "TeleGeography Data Center Research Service: median $275 per kW-month for a "
                  "4-kW cabinet in North America ($360 in Europe), blog of 31 Jul 2017",
    },
    "colo_wholesale_usd_per_kw_month": {
        "default": 184.06, "unit": "USD/kW-month", "kind": float, "group": "self_host",
        "range": (0.0, 2000.0, False, False),
        "why": "up to about ten times the North American wholesale rate",
        "doc": "Wholesale colocation per kW (a suite of hundreds of kW on a multi-year "
               "lease). Plausible 150-220: CBRE's N. America 184 (H2 2024) to 195 (H2 2025) "
               "and 217 global average (Q1 2025).",
        "source": "CBRE North America Data Center Trends H2 2024 (26 Feb 2025): average "
                  "asking rate $184.06 per kW-month for a 250-500 kW requirement",
    },
    "colo_wholesale_min_kw": {
        "default": 250.0, "unit": "kW", "kind": float, "group": "self_host",
        "range": (0.0, 100_000.0, False, False),
        "why": "0 prices every site wholesale; 100 MW is a whole hyperscale campus, far "
               "beyond the smallest wholesale suite",
        "doc": "Smallest per-site footprint priced at the wholesale rate; below it the "
               "retail rate applies. Plausible 100-500 kW.",
        "source": "CBRE North America Data Center Trends H2 2024: the wholesale rate quoted "
                  "is for 250-500 kW requirements",
    },
    "resale_decline_per_year": {
        "default": 0.36, "unit": "share/year", "kind": float, "group": "self_host",
        "range": (0.0, 1.0, False, True),
        "why": "0 = resold at its price (hardware does not appreciate); a decline of 1 a "
               "year would make it worthless at once, so the top is open",
        "doc": "Yearly fall of a used server's market value: it resells at (1 - decline) ** "
               "age_years of its price at the horizon. Plausible 0.2-0.5 (0.5: a new "
               "generation halves used prices in a year, as A100s fell 45-50% in their "
               "first year).",
        "source": "[D] a geometric curve inside every range of used-H100 residual values "
                  "of 60-65%, 40-45%, 25-35%, 15-20%, 10-15% after 1-5 years (illustrative: "
                  "GPU Lease Rate Index page, an anonymous aggregator, "
                  "8 Jan 2026); an H100 PCIe sold for $20,000 against a "
                  "$30,000 list price on eBay comps of May 2026 (SpotWire valuator data, "
                  "4 Jun 2026)",
    },
    # ---- Scenario A: model refresh
    "api_refresh_months": {
        "default": 0, "unit": "months", "kind": int, "group": "api",
        "range": (0.0, 120.0, False, False),
        "why": "0 = never; up to 120 months, the longest horizon (a later refresh never "
               "happens)",
        "doc": "Move Scenario A to a newer, cheaper model of the same capability every N "
               "months after go-live (0 = never). Each refresh pays api_migration_engineer_"
               "days of ML-engineer time. Plausible 0 or 6-24: frontier vendors release a "
               "cheaper same-capability model every 5-12 months.",
        "source": "course default: off, so the API price is the same model's list price",
    },
    "api_refresh_price_share": {
        "default": 1.0 / 3.0, "unit": "share", "kind": float, "group": "api",
        "range": (0.0, 1.0, True, False),
        "why": "a refresh is taken only if it is not dearer (at most 1); a price of 0 is "
               "not a product",
        "doc": "Price per token after a refresh as a share of the price before it. "
               "Plausible 0.1-1: a16z measured ~10x a year for constant capability, "
               "Epoch AI 9x-900x depending on the task.",
        "source": "Anthropic, Claude Haiku 4.5 announcement (15 Oct 2025): similar coding "
                  "performance to Claude Sonnet 4 at one-third the cost; Claude Opus 4.5 "
                  "(Nov 2025) at $5 / $25 against Opus 4.1's $15 / $75",
    },
    # ---- downtime
    "downtime_usd_per_hour": {
        "default": 300_000.0, "unit": "USD/hour", "kind": float, "group": "value",
        "range": (0.0, 1e9, False, False),
        "why": "0 = an outage costs nothing; $1bn an hour is beyond the whole revenue per "
               "hour of the largest companies (about $70M for the biggest retailer)",
        "doc": "What one hour with the service down costs the business (lost sales, staff "
               "idle, work redone); the SLA calculator prices downtime with it. Plausible "
               "$100-$5M an hour: a back-office helper at the low end, a bank's core "
               "systems at the top.",
        "source": "ITIC 2024 Hourly Cost of Downtime survey: over 90% of mid-size and large "
                  "firms put one hour at more than $300,000 (whole-firm critical systems; "
                  "set your own for one AI service)",
    },
}
