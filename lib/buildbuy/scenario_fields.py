"""The scenario fields: name, type, unit, default, what is allowed, meaning, source.

:data:`FIELDS` is the one documented list of scenario inputs; :mod:`buildbuy.scenarios`
validates and loads scenarios against it, and ``docs/scenarios.md`` is generated from it.
Drift inputs come from :mod:`buildbuy.drift.assumptions` and are merged in here.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FIELDS", "HOSTING_MODES", "MAX_MONTHLY_TOKENS", "META_KEYS", "ROLES", "SECTORS",
           "Field"]

#: The three ways Scenario B can get its GPUs.
HOSTING_MODES: tuple[str, ...] = ("cloud_on_demand", "cloud_reserved", "owned")

#: Staff roles costed as FTE x fully loaded salary, in both scenarios.
ROLES: tuple[str, ...] = ("ml_engineer", "data_scientist", "mlops", "security", "product")

#: Industries a scenario can be valued in (rows of data/sector_multiples.csv).
SECTORS: tuple[str, ...] = ("software", "bank_regional", "bank_money_center", "hospitals",
                            "retail_general", "total_market")

#: Keys a scenario file may carry besides the fields (metadata, not inputs).
META_KEYS: tuple[str, ...] = ("sources", "as_of")

# --------------------------------------------------------------------------- checks
# A check takes the already-coerced value and returns an error text (what is
# allowed) or None when the value is fine.

def _num(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
         hi_open: bool = False) -> tuple[Callable[[Any], bool], str]:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    text = "a finite number" + (" " + " and ".join(parts) if parts else "")

    def ok(x: Any) -> bool:
        if x is None or not math.isfinite(x):
            return False
        if lo is not None and (x <= lo if lo_open else x < lo):
            return False
        return not (hi is not None and (x >= hi if hi_open else x > hi))

    return ok, text


def _iso_date(text: Any) -> bool:
    """True for a real calendar date written ``YYYY-MM-DD``."""
    import datetime

    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class Field:
    """One scenario input.

    Attributes
    ----------
    type : type
        ``float``, ``int`` or ``str`` (the value after coercion).
    unit : str
        Unit of the value (``"tokens/month"``, ``"USD/year"``, ``"share"`` ...).
    default : Any
        The value used when a scenario does not set the field.
    allowed : str
        Plain words for what is allowed; used in error messages.
    doc : str
        One line: what the field means and how the model uses it.
    source : str
        Where the default comes from, with its date.
    group : str
        Section of the schema (workload, api, self_host, people, value, finance,
        persona, drift).
    check : callable or None
        ``check(value) -> bool``; ``None`` means any value of the right type.
    options : tuple of str
        For text fields with a fixed list of values (e.g. ``hosting``).
    optional : bool
        ``True`` if the field may be empty (``None``).
    why : str
        Why the allowed range is what it is (every numeric field has a lower and an upper
        bound: a value outside them is refused at load, naming the field).
    """

    type: type
    unit: str
    default: Any
    allowed: str
    doc: str
    source: str
    group: str
    check: Callable[[Any], bool] | None = None
    options: tuple[str, ...] = ()
    optional: bool = False
    why: str = ""


def _f(default: Any, unit: str, doc: str, source: str, group: str, *,
       kind: type = float, rng: tuple[Callable[[Any], bool], str] | None = None,
       options: tuple[str, ...] = (), optional: bool = False,
       allowed: str | None = None, why: str = "") -> Field:
    check, text = rng if rng is not None else (None, "")
    if options:
        text = "one of " + ", ".join(repr(o) for o in options)
    if kind is int:
        text = text.replace("a finite number", "a whole number")
    if kind is str and not options and not text:
        text = "text"
    if optional:
        text += ", or empty"
    return Field(kind, unit, default, allowed or text, doc, source, group, check, options,
                 optional, why)


_BLS_LOAD = ("BLS ECEC Jun 2025, private industry (wages = 70.2% of compensation, so x1.42; "
             "bls.gov/news.release/ecec.nr0.htm)")
_SWE = "BLS OEWS May 2024 software developers median $133,080 (proxy)"
_PERSONA = "persona assumption: illustrative, no public benchmark; set your own"

_SHARE = _num(0, 1)
_SHARE_WHY = "a share of a whole"

#: Largest monthly volume a scenario may carry: about everything Google reported
#: processing across all its products in mid-2025 (980 trillion tokens a month, Alphabet
#: Q2 2025 earnings call, 23 Jul 2025). One workload cannot exceed that.
MAX_MONTHLY_TOKENS: float = 1e15

_FIELDS: dict[str, Field] = {
    # ---- persona
    "name": _f("custom", "", "Short identifier of the scenario.", "user", "persona", kind=str),
    "title": _f("Custom scenario", "", "Human title shown in reports.", "user", "persona",
                kind=str),
    "description": _f("", "", "One paragraph describing the use case.", "user", "persona",
                      kind=str),
    "decision_date": _f(
        "2027-01-29", "date",
        "Date by which the board is asked to decide (YYYY-MM-DD); the memo's call to "
        "action and the deck quote it.",
        "illustrative: a board meeting about two months after the figures' as_of date "
        "(2026-11-27); set your own", "persona", kind=str,
        rng=(_iso_date, "a date written YYYY-MM-DD, such as '2027-01-29'")),
    # ---- workload
    "monthly_tokens": _f(
        2.0e9, "tokens/month",
        "Input + output tokens processed in the first month of service.",
        _PERSONA, "workload", rng=_num(0, MAX_MONTHLY_TOKENS, lo_open=True),
        why="no traffic leaves nothing to compare; the top is about all of Google's monthly "
            "tokens in mid-2025 (980 trillion, Alphabet Q2 2025 earnings call)"),
    "output_token_share": _f(
        0.25, "share", "Share of all tokens that are generated (output) tokens.",
        _PERSONA, "workload", rng=_SHARE, why=_SHARE_WHY),
    "cached_input_share": _f(
        0.0, "share", "Share of input tokens billed at the API's cached-input price.",
        "assumption: no prompt caching by default", "workload", rng=_SHARE, why=_SHARE_WHY),
    "annual_growth": _f(
        0.5, "share/year", "Growth of token volume per year (0.5 = +50%), compounded monthly.",
        _PERSONA, "workload", rng=_num(-0.99, 10),
        why="from a 99% yearly decline to eleven times the volume a year: faster growth is "
            "not a forecast a fleet can be bought for"),
    "tokens_per_request": _f(
        1500, "tokens/request",
        "Mean input + output tokens of one request; split by output_token_share to size the "
        "fleet.", _PERSONA, "workload", kind=int, rng=_num(2, 2_000_000),
        why="at least one input and one output token; at most the 2M-token context of the "
            "longest-context models (Gemini 1.5 Pro, 2024)"),
    "peak_to_average": _f(
        3.0, "ratio",
        "Peak-hour load over the month's average load; the GPU fleet is sized for the peak.",
        _PERSONA, "workload", rng=_num(1, 100),
        why="a peak is at least the average; a service busy about one hour a week reaches "
            "168x, beyond the monthly model's always-on fleet: capped at 100x"),
    "max_ms_per_output_token": _f(
        30.0, "ms/token",
        "Latency target: time per output token each user must see at peak load.",
        "MLPerf Inference v5.1, Interactive scenario, llama3_1-8b: TPOT limit 30 ms (mlperf.conf, "
        "MLCommons, Sep 2025)", "workload",
        rng=_num(1, 1000),
        why="1 ms is below any GPU's decode step; 1,000 ms (one token a second) is far slower "
            "than people read (about 5 tokens a second)"),
    # ---- pipeline stages outside the GPU (the bottleneck audit of exercise 1)
    "cpu_ms_per_request": _f(
        5.0, "ms",
        "Host CPU time per request on one core: tokenising the prompt, detokenising and "
        "checking the answer.",
        "illustrative assumption: fast (Rust) tokenizers handle thousands of tokens in "
        "about a millisecond; validation and logging take the rest", "workload",
        rng=_num(0, 60_000, lo_open=True), why="more than a minute of CPU per request is a "
        "batch job, not a serving pipeline"),
    "network_mbps": _f(
        1000.0, "Mbit/s",
        "Network bandwidth in front of one serving replica.",
        "illustrative assumption: one 1 GbE port", "workload",
        rng=_num(0, 800_000, lo_open=True), why="up to one 800 GbE port, the fastest "
        "Ethernet standard (IEEE 802.3df, 2024)"),
    "api_tokens_per_minute": _f(
        None, "tokens/min",
        "A negotiated quota of input tokens per minute for Scenario A; empty = the "
        "provider's published tiers for api_model (data/api_rate_limits.csv). Plausible: "
        "at or above the top published tier (a custom limit).",
        "data/api_rate_limits.csv (Anthropic and OpenAI rate-limit pages, 2026)",
        "workload", rng=_num(0, 1e10, lo_open=True), optional=True,
        why="up to a thousand times the highest published self-serve tier (OpenAI tier 5, "
            "30M tokens a minute)"),
    # ---- the live lab of exercise 1 (buildbuy.lab): the seed picks its hidden bottleneck
    "lab_seed": _f(
        0, "seed",
        "Seed of the practice lab in exercise 1 (buildbuy.lab): picks its hidden "
        "bottleneck and size; give each learner a different one.",
        "course design: any whole number", "workload", kind=int, rng=_num(0, 2**32 - 1),
        why="any whole number a roster column can hold, up to 2^32 - 1 (the largest seed "
            "numpy's legacy generators accept)"),
    # ---- Scenario A: API
    "api_model": _f(
        "claude-sonnet-4-5", "", "API offer (row of data/api_prices.csv).",
        "Anthropic pricing page, platform.claude.com/docs/en/about-claude/pricing (2026)", "api",
        kind=str),
    "api_price_decline": _f(
        0.0, "share/year",
        "Yearly fall of the same model's list price (0.1 = -10%/yr). A cheaper model of the "
        "same capability is a refresh (api_refresh_months), not a decline. Plausible 0-0.3.",
        "Anthropic pricing page: the Sonnet tier at $3 / $15 per M tokens from Claude 3 "
        "Sonnet (Mar 2024) through Sonnet 4.5 (Sep 2025) and 4.6 (Feb 2026)", "api",
        rng=_num(0, 0.999),
        why="prices are not modelled to rise; 0.999 (1,000x cheaper a year) is beyond the "
            "fastest decline Epoch AI measured (900x a year, Mar 2025)"),
    "api_discount": _f(
        0.0, "share",
        "Negotiated discount off list price. Enterprise range 0.10-0.30 for committed spend "
        "(illustrative beyond the one published figure); self-serve accounts pay list (0).",
        "list price for self-serve; enterprise: OpenAI Scale Tier 'base 12% savings' "
        "against pay-as-you-go (openai.com/api-scale-tier, 2024)", "api",
        rng=_num(0, 0.9),
        why="batch APIs give 50% off list (OpenAI, Anthropic price pages); more than 90% "
            "off is not a price a vendor publishes or negotiates"),
    "api_integration_usd": _f(
        47_000.0, "USD",
        "One-off cost to integrate the API (paid in month 1).",
        "[D] 3 engineer-months x $133,080 x 1.42 / 12 = $47,244 (BLS OEWS May 2024 software "
        "developers median; BLS ECEC Jun 2025 benefits loading)",
        "api", rng=_num(0, 1e8), why="up to $100M: a thousand engineer-years"),
    "months_to_production_a": _f(
        1, "months", "Months before the API-based service goes live.",
        _PERSONA, "api", kind=int, rng=_num(0, 60),
        why="and before horizon_months; more than five years is not a launch plan"),
    # ---- Scenario B: self-host
    "self_host_model": _f(
        "llama-3.1-8b", "", "Open model served in Scenario B (row of data/models.csv).",
        "model card (data/models.csv)", "self_host", kind=str),
    "gpu": _f("H100-SXM", "", "GPU type (row of data/gpus.csv).", "data/gpus.csv",
              "self_host", kind=str),
    "weights_precision": _f(
        "bf16", "", "Number format of the served weights (and KV cache); fp8 halves the "
        "bytes each decode step reads. Quality is assumed unchanged: check it on your task.",
        "course default: bf16, the format the models are released in", "self_host",
        kind=str, options=("bf16", "fp8")),
    "hosting": _f("owned", "", "How Scenario B gets its GPUs.", "course design",
                  "self_host", kind=str, options=HOSTING_MODES),
    "gpu_usd_per_hour": _f(
        None, "USD/GPU-hour",
        "Rental price per GPU-hour for cloud hosting; empty = the price table for the chosen "
        "hosting mode.", "data/gpus.csv via buildbuy.costs", "self_host",
        rng=_num(0, 100, lo_open=True), optional=True,
        why="up to about eight times the dearest on-demand H100 hour in data/gpus.csv"),
    "server_usd": _f(
        300_000.0, "USD/server", "Purchase price of one GPU server (owned hosting).",
        "8xH100 server $250k-$400k+ (CloudZero H100 price analysis, 2026); Thinkmate quote "
        "~$317k, Aug 2024 (E. Cheah, '$2 H100s: How the GPU Bubble Burst', Latent "
        "Space, Oct 2024)", "self_host", rng=_num(0, 1e7, lo_open=True),
        why="up to $10M: more than a 72-GPU rack-scale system"),
    "gpus_per_server": _f(8, "GPUs/server", "GPUs in one server.", "HGX/DGX H100 layout",
                          "self_host", kind=int, rng=_num(1, 72),
                          why="1 GPU to a 72-GPU NVL72 rack treated as one server"),
    "networking_uplift": _f(
        0.15, "share of server capex",
        "Switches, cabling, transceivers bought with the servers.",
        "10-15% of capex (illustrative rule of thumb, no primary source); Epoch AI 19% "
        "(CLUSTER_INTERCONNECT_COST_FRACTION, github.com/epoch-research/training-cost-trends, "
        "2024)", "self_host", rng=_num(0, 1),
        why="networking costing more than the servers themselves is not a GPU cluster"),
    "depreciation_life_months": _f(
        60, "months", "Book depreciation life of owned hardware (straight line to zero). "
        "The one schedule: book EBIT, the tax deduction and net book value.",
        "5-6 yr servers: Alphabet and Microsoft 6 yr (2023 filings), Meta 5.5 yr and Amazon 5 yr "
        "(FY2024 10-K, from Jan 2025)", "self_host", kind=int,
        rng=_num(12, 120), why="servers are depreciated over 4-6 years in 10-K filings; "
        "1 to 10 years covers every stated policy"),
    "server_power_kw": _f(
        10.2, "kW/server", "Maximum power of one server.",
        "NVIDIA DGX H100 datasheet: 10.2 kW maximum system power (2023)", "self_host",
        rng=_num(0, 150, lo_open=True), why="up to a 72-GPU rack (about 120-130 kW)"),
    "power_draw_share": _f(
        0.75, "share", "Average draw as a share of maximum power.",
        "Epoch AI default 0.75 of maximum power (energy.py in "
        "github.com/epoch-research/training-cost-trends, the code of Cottier et al. 2024, arXiv "
        "2405.21015)", "self_host", rng=_SHARE, why=_SHARE_WHY),
    "pue": _f(1.3, "ratio", "Power usage effectiveness of the facility.",
              "new AI builds 1.25-1.3 (Epoch AI default 1.25; Uptime: new large builds <= 1.3); "
              "industry average 1.56 (Uptime Institute Global Data Center Survey 2024)",
              "self_host", rng=_num(1, 3),
              why="1 is a facility with no overhead; 3 is about twice the industry average"),
    "electricity_usd_per_kwh": _f(
        0.0806, "USD/kWh", "Electricity price.",
        "EIA Electric Power Annual 2023: US average industrial price 8.06 c/kWh "
        "(eia.gov/electricity/annual)", "self_host", rng=_num(0, 1),
        why="up to $1/kWh, several times the dearest US state average (EIA)"),
    "licence_usd_per_gpu_year": _f(
        4_500.0, "USD/GPU-year", "Serving software licences (e.g. NVIDIA AI Enterprise).",
        "NVIDIA AI Enterprise $4,500/GPU/yr (J. Huang, NVIDIA Q3 FY2024 earnings call, 21 Nov "
        "2023)",
        "self_host", rng=_num(0, 100_000), why="up to twenty times the NVIDIA AI Enterprise list"),
    "maintenance_share_per_year": _f(
        0.10, "share of capex/year",
        "Hardware support and maintenance contract per year, as a share of the capex "
        "held (owned). Plausible 0.05-0.20.",
        "illustrative: NVIDIA sells DGX support by quote only (NVIDIA Enterprise Support "
        "and Services User Guide, 2024); a reseller-quoted DGX 1-year support of ~20% of "
        "the base price (supercluster.blog) is the top of the range, third-party "
        "maintenance runs 50-70% below OEM (Gartner via axiomupgrades.com)",
        "self_host", rng=_SHARE, why="a yearly contract dearer than the hardware is not one"),
    "fine_tuning_usd": _f(
        25_000.0, "USD", "One-off fine-tuning compute, data and evaluation (month 1).",
        "illustrative placeholder: practitioner write-ups quote $1k-$50k per run; no primary "
        "source",
        "self_host", rng=_num(0, 1e8), why="up to $100M, the scale of a frontier pre-training run"),
    "months_to_production": _f(
        6, "months", "Months before the self-hosted service goes live (procure, fine-tune, "
        "test).", "illustrative: 3-6 month hardware lead times are a practitioner figure with "
        "no primary source", "self_host", kind=int, rng=_num(0, 60),
        why="and before horizon_months; more than five years is not a launch plan"),
    # ---- value
    "value_usd_per_request": _f(
        0.10, "USD/request",
        "Money one served request creates at Scenario A's quality (a cost avoided or a profit "
        "earned), against doing nothing. Each path earns it from its go-live month.",
        "illustrative: set your own (the personas give sourced figures)", "value",
        rng=_num(0, 10_000),
        why="0 = no value; $10,000 a request is beyond any published per-task value of an "
            "LLM call (a support chat resolved is worth about $1-8)"),
    "quality_b_vs_a": _f(
        1.0, "share of A's value",
        "Share of A's value per request that B's model delivers (1 = parity; a fine-tuned "
        "model can exceed 1 on a narrow task).",
        "assumption: parity (the personas default it from a public evaluation of their two "
        "models)", "value", rng=_num(0, 1.5),
        why="0 = worthless answers; fine-tuned 7B adapters beat GPT-4 by 10 points on average "
            "on 31 narrow tasks (LoRA Land, arXiv 2405.00732, 2024), so up to 1.5"),
    "data_residency": _f(
        "any", "", "Where the data may be processed: 'any' (a vendor's API or cloud under "
        "contract) or 'in_house' (own facilities only: rules out the API and rented GPUs).",
        "assumption: no restriction", "value", kind=str, options=("any", "in_house")),
    # ---- finance
    "horizon_months": _f(36, "months", "Length of the comparison.", "course design (3 years)",
                         "finance", kind=int, rng=_num(1, 120),
                         why="up to 10 years: two server lives; beyond that no price in the "
                             "data tables means anything"),
    "discount_rate": _f(
        0.095, "share/year", "Annual discount rate (WACC) for NPVs, applied to after-tax "
        "cash flows.",
        "[D] Damodaran, 'Cost of Capital by Sector (US)', Jan 2026 "
        "(pages.stern.nyu.edu/~adamodar/New_Home_Page/datafile/wacc.html): software beta 1.28 -> "
        "WACC 9-9.5%",
        "finance", rng=_num(0, 1), why="0% to 100% a year: Damodaran's January 2026 industry "
        "costs of capital run from about 5% to 12%"),
    "tax_rate": _f(
        0.2563, "share", "Marginal corporate income tax rate on the project's profit.",
        "United States, federal 21% plus average state: 25.63% (Damodaran, countrytaxrates."
        "xls, 5 Jan 2026, from the Tax Foundation)", "finance", rng=_num(0, 0.6),
        why="0% (a tax-exempt hospital) to 60%, above any national statutory rate"),
    "terminal_growth": _f(
        0.02, "share/year",
        "Growth of the steady-state cash-flow gap after the horizon (terminal value).",
        "2%: the Federal Reserve's longer-run inflation goal (FOMC Statement on Longer-Run "
        "Goals, Jan 2012); Damodaran's valuations cap it at the risk-free rate", "finance",
        rng=_num(-0.05, 0.05), why="a long-run growth rate stays below the risk-free rate "
        "(about 4% in Jan 2026); the terminal value needs it below discount_rate too "
        "(otherwise it is reported as not defined)"),
    "sector": _f(
        "software", "", "Industry the company is valued in (row of "
        "data/sector_multiples.csv): sets the multiples of the valuation.",
        "Damodaran industry tables, January 2026", "finance", kind=str,
        options=SECTORS),
}

_SPECIALIST = ("BLS OEWS May 2024 software developers median $133,080 x 1.18 (AI/ML skills "
               "premium of 18%, Dice 2025 Tech Salary Report) x 1.54 (employer costs at "
               "establishments with 500+ workers: wages 64.8% of compensation, BLS ECEC Mar "
               "2026), above the 1.25-1.4 salary-to-total-cost rule of thumb that includes "
               "overhead (J. Hadzima, 'How much does an employee cost?', MIT Enterprise "
               "Forum)")
_DEFAULT_SALARY = {
    "ml_engineer": (241_833.0, _SPECIALIST),
    "data_scientist": (159_878.0, "BLS OOH May 2024 data scientists $112,590 x 1.42; "
                       + _BLS_LOAD),
    "mlops": (241_833.0, _SPECIALIST),
    "security": (177_372.0, "BLS OOH May 2024 information security analysts $124,910 x 1.42; "
                 + _BLS_LOAD),
    "product": (188_974.0, f"no citable product-manager wage found, proxy; {_SWE} x 1.42"),
}
_DEFAULT_FTE = {  # (A, B)
    "ml_engineer": (0.5, 2.0), "data_scientist": (0.25, 0.5), "mlops": (0.25, 1.5),
    "security": (0.1, 0.5), "product": (0.25, 0.5),
}
for _role in ROLES:
    _usd, _src = _DEFAULT_SALARY[_role]
    _FIELDS[f"{_role}_usd_per_year"] = _f(
        _usd, "USD/year", f"Fully loaded cost of one {_role.replace('_', ' ')} FTE.", _src,
        "people", rng=_num(0, 5e6),
        why="up to $5M a year, above the top published AI-researcher pay packages")
    for _side, _fte in zip("ab", _DEFAULT_FTE[_role], strict=True):
        _FIELDS[f"{_role}_fte_{_side}"] = _f(
            _fte, "FTE", f"{_role.replace('_', ' ').capitalize()} staff in Scenario "
            f"{_side.upper()}.", _PERSONA, "people", rng=_num(0, 1000),
            why="up to 1,000 people in one role for one service")


def _drift_fields() -> dict[str, Field]:
    """Drift inputs owned by :mod:`buildbuy.drift.assumptions` (engineer C).

    They are merged into :data:`FIELDS` when that module exists. Its
    ``DRIFT_FIELDS`` maps name -> dict(default, unit, allowed, doc, source).
    """
    # --- DRIFT FIELDS: merged from buildbuy.drift.assumptions when present ---
    if importlib.util.find_spec("buildbuy.drift") is None:
        return {}
    if importlib.util.find_spec("buildbuy.drift.assumptions") is None:
        return {}
    spec = importlib.import_module("buildbuy.drift.assumptions").DRIFT_FIELDS
    out: dict[str, Field] = {}
    for name, d in spec.items():
        default = d["default"]
        kind: type = str if isinstance(default, str) else int if isinstance(default, int) \
            else float
        allowed = str(d.get("allowed", ""))
        options = tuple(re.findall(r"'([^']+)'", allowed)) if allowed.startswith("one of") \
            else ()
        rng = _parse_range(allowed) if kind is not str else None
        out[name] = Field(kind, d.get("unit", ""), default, allowed, d.get("doc", ""),
                          d.get("source", ""), "drift", rng, options, why=d.get("why", ""))
    return out


def _parse_range(allowed: str) -> Callable[[Any], bool] | None:
    """Turn 'a finite number >= 0' / 'a whole number from 1 to 366' into a check."""
    m = re.search(r"from (-?[\d.]+) to (-?[\d.]+)", allowed)
    if m:
        return _num(float(m.group(1)), float(m.group(2)))[0]
    m = re.search(r"(>=|>) (-?[\d.]+)", allowed)
    if m:
        return _num(float(m.group(2)), lo_open=m.group(1) == ">")[0]
    return None


def _ops_fields() -> dict[str, Field]:
    """Inputs specified in :mod:`buildbuy.ops_fields` and :mod:`buildbuy.strategy_fields`."""
    from buildbuy.ops_fields import OPS_FIELDS
    from buildbuy.strategy_fields import STRATEGY_FIELDS

    out: dict[str, Field] = {}
    for name, d in {**OPS_FIELDS, **STRATEGY_FIELDS}.items():
        lo, hi, lo_open, hi_open = d.get("range", (None, None, False, False))
        rng = _num(lo, hi, lo_open=lo_open, hi_open=hi_open) if "range" in d else None
        out[name] = _f(d["default"], d["unit"], d["doc"], d["source"], d["group"],
                       kind=d["kind"], rng=rng, options=tuple(d.get("options", ())),
                       optional=bool(d.get("optional", False)), why=d.get("why", ""))
    return out


_FIELDS.update(_ops_fields())
_FIELDS.update({k: v for k, v in _drift_fields().items() if k not in _FIELDS})

#: Every scenario field, in documentation order.
FIELDS: Mapping[str, Field] = _FIELDS
