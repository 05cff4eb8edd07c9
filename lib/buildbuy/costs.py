"""Unit economics: what a GPU-hour, a thousand tokens and a month of traffic cost.

Conventions
-----------
- A month is ``HOURS_PER_MONTH = 730`` hours (8,760 / 12).
- Token volumes count prompt (input) plus output tokens; ``output_token_share`` is the
  output share of that total; ``cached_input_share`` is the share of *input* tokens billed
  at the provider's cached-input price.
- Self-hosted cost per token: the fleet is paid by the hour whether busy or not, so
  ``usd_per_1k = 1000 * usd_per_gpu_hour * n_gpus / (3600 * tokens_per_s * utilisation)``
  with ``tokens_per_s`` the fleet's throughput at full load (the form llm-analysis uses).
- Owned GPUs (``hosting="owned"``) cost an hourly capital charge plus power and space::

      capital  = purchase_usd * (1 + server_share) * CRF(rate, life_years) / 8760
      power    = board_power_w * server_power_factor / 1000 * power_draw_share * pue * usd_per_kwh
      space    = board_power_w * server_power_factor / 1000 * colo_usd_per_kw_month / 730

  ``CRF`` is the capital recovery factor (:func:`buildbuy.finance.capital_recovery_factor`):
  the level charge whose present value at ``rate`` repays the purchase over its life. The
  defaults and their sources are in :data:`OWNED_DEFAULTS`. Staff, software licences and
  networking beyond the server are not included: :mod:`buildbuy.tco` adds them.

Examples
--------
>>> from buildbuy import costs
>>> round(costs.api_usd_per_1k_tokens("gpt-4o-mini", output_token_share=0.25), 7)
0.0002625
>>> round(costs.self_hosted_usd_per_1k_tokens(usd_per_gpu_hour=2.5, n_gpus=1,
...                                           tokens_per_s=700), 5)
0.00099
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildbuy._validate import bad, choice, non_negative, positive, share
from buildbuy.capacity import first_year_site_kw
from buildbuy.data import GPU, ApiPrice, get_api, get_gpu
from buildbuy.finance import capital_recovery_factor
from buildbuy.owned_hardware import colo_usd_per_kw_month

__all__ = [
    "HOSTINGS",
    "HOURS_PER_MONTH",
    "OWNED_DEFAULTS",
    "OwnedAssumptions",
    "api_usd_per_1k_tokens",
    "break_even_monthly_tokens",
    "break_even_utilisation",
    "gpu_hours_cost_usd",
    "gpu_usd_per_hour",
    "monthly_api_cost_usd",
    "monthly_self_hosted_cost_usd",
    "owned_assumptions",
    "owned_usd_per_hour_breakdown",
    "scenario_gpu_usd_per_hour",
    "self_hosted_usd_per_1k_tokens",
]

HOURS_PER_MONTH: float = 8760.0 / 12.0
HOSTINGS: tuple[str, ...] = ("cloud_on_demand", "cloud_reserved", "owned")


@dataclass(frozen=True)
class OwnedAssumptions:
    """Assumptions behind the hourly cost of an owned GPU (sources in :data:`OWNED_DEFAULTS`)."""

    life_years: float = 5.0
    rate: float = 0.095
    server_share: float = 0.25
    server_power_factor: float = 1.82
    power_draw_share: float = 0.75
    pue: float = 1.3
    usd_per_kwh: float = 0.0806
    colo_usd_per_kw_month: float = 184.06


#: Defaults, each with its public source:
#: ``life_years`` 5: servers' book life 5-6 years (Amazon, Meta, Microsoft 10-K filings);
#: ``rate`` 9.5%: software-company WACC derived from Damodaran's Jan-2026 table;
#: ``server_share`` 0.25: an 8xH100 server at $300k against 8 GPUs at $30k (CloudZero);
#: ``server_power_factor`` 1.82: DGX H100 maximum 10.2 kW over 8 x 700 W GPUs (NVIDIA);
#: ``power_draw_share`` 0.75: average draw as a share of the maximum, Epoch AI's default
#: (range 0.75-1.0); the same default as the scenario field ``power_draw_share`` that
#: :mod:`buildbuy.tco` uses, so both price an owned GPU's power alike. Space is paid on
#: the full 10.2 kW (colocation is contracted per provisioned kW), as in :mod:`buildbuy.tco`;
#: ``pue`` 1.3: new AI colocation builds (Uptime Institute);
#: ``usd_per_kwh`` 0.0806: US average industrial electricity, 2023 (EIA);
#: ``colo_usd_per_kw_month`` 184.06: CBRE North America H2 2024 wholesale asking rate
#: (a scenario's own rate, :func:`owned_assumptions`, follows its colocation tier).
OWNED_DEFAULTS = OwnedAssumptions()


def owned_assumptions(scenario: Any, gpu: str | GPU | None = None, *,
                      site_kw: float | None = None) -> OwnedAssumptions:
    """The :class:`OwnedAssumptions` a scenario's own owned-hardware fields imply.

    So that an hourly figure for an owned GPU uses the same inputs as the scenario's cash
    flows in :mod:`buildbuy.tco`: ``life_years = depreciation_life_months / 12``,
    ``rate = discount_rate``, the per-GPU share of ``server_usd * (1 + networking_uplift)``
    over the GPU's purchase price for ``server_share``, ``server_power_kw`` over the GPUs'
    board power for ``server_power_factor``, and ``power_draw_share``, ``pue``,
    ``electricity_usd_per_kwh`` as they are. The colocation rate is the tier the TCO pays
    for the scenario's year-1 fleet (:func:`buildbuy.capacity.first_year_site_kw`, retail
    or wholesale by :func:`buildbuy.owned_hardware.colo_usd_per_kw_month`); pass
    ``site_kw`` to price another footprint. ``scenario`` is any object with those
    attributes (a :class:`buildbuy.scenarios.Scenario`); ``gpu`` defaults to
    ``scenario.gpu``.

    The hourly charge levels the purchase over its book life (capital recovery), with
    no headroom, spare or maintenance. The TCO instead holds a fleet sized with headroom
    and spares for the horizon, pays maintenance and resells at the used-market value;
    its owned cost per GPU-hour in service is measured against this levelised figure in
    ``tests/test_consistency.py``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> S = SimpleNamespace(gpu="H100-SXM", depreciation_life_months=60, discount_rate=0.095,
    ...                     server_usd=300_000.0, networking_uplift=0.15, gpus_per_server=8,
    ...                     server_power_kw=10.2, power_draw_share=0.75, pue=1.3,
    ...                     electricity_usd_per_kwh=0.0806, colo_retail_usd_per_kw_month=275.0,
    ...                     colo_wholesale_usd_per_kw_month=184.06, colo_wholesale_min_kw=250.0)
    >>> a = owned_assumptions(S, site_kw=300.0)    # a wholesale-sized site
    >>> round(a.server_share, 4), round(a.server_power_factor, 4)
    (0.4375, 1.8214)
    >>> round(gpu_usd_per_hour("H100-SXM", "owned", assumptions=a), 3)
    1.704
    """
    g = get_gpu(gpu if gpu is not None else scenario.gpu)
    if g.purchase_usd is None:
        raise bad("gpu", g.name, "a GPU with a purchase price in data/gpus.csv")
    n = positive("gpus_per_server", scenario.gpus_per_server)
    per_gpu = (non_negative("server_usd", scenario.server_usd)
               * (1.0 + non_negative("networking_uplift",
                                     scenario.networking_uplift)) / n)
    return OwnedAssumptions(
        life_years=positive("depreciation_life_months",
                            scenario.depreciation_life_months) / 12.0,
        rate=float(scenario.discount_rate),
        server_share=per_gpu / g.purchase_usd - 1.0,
        server_power_factor=positive("server_power_kw", scenario.server_power_kw)
        * 1000.0 / (n * g.board_power_w),
        power_draw_share=share("power_draw_share", scenario.power_draw_share),
        pue=float(scenario.pue),
        usd_per_kwh=non_negative("electricity_usd_per_kwh",
                                 scenario.electricity_usd_per_kwh),
        colo_usd_per_kw_month=colo_usd_per_kw_month(
            site_kw if site_kw is not None else first_year_site_kw(scenario),
            retail=non_negative("colo_retail_usd_per_kw_month",
                                scenario.colo_retail_usd_per_kw_month),
            wholesale=non_negative("colo_wholesale_usd_per_kw_month",
                                   scenario.colo_wholesale_usd_per_kw_month),
            wholesale_min_kw=scenario.colo_wholesale_min_kw),
    )


def owned_usd_per_hour_breakdown(gpu: str | GPU,
                                 assumptions: OwnedAssumptions = OWNED_DEFAULTS
                                 ) -> dict[str, float]:
    """Hourly cost of one owned GPU split into ``capital``, ``power`` and ``space``.

    Examples
    --------
    >>> {k: round(v, 3) for k, v in owned_usd_per_hour_breakdown("H100-SXM").items()}
    {'capital': 1.115, 'power': 0.1, 'space': 0.321}
    """
    g = get_gpu(gpu)
    a = assumptions
    if g.purchase_usd is None:
        raise bad("gpu", g.name, "a GPU with a purchase price in data/gpus.csv for "
                  "hosting='owned' (none was found for this one)")
    positive("assumptions.life_years", a.life_years)
    for name in ("server_share", "usd_per_kwh", "colo_usd_per_kw_month"):
        non_negative(f"assumptions.{name}", getattr(a, name))
    positive("assumptions.server_power_factor", a.server_power_factor)
    share("assumptions.power_draw_share", a.power_draw_share)
    if positive("assumptions.pue", a.pue) < 1.0:
        raise bad("assumptions.pue", a.pue, "a number >= 1 (total facility power / IT power)")
    crf = capital_recovery_factor(a.rate, a.life_years)
    kw = g.board_power_w * a.server_power_factor / 1000.0
    return {
        "capital": g.purchase_usd * (1.0 + a.server_share) * crf / 8760.0,
        "power": kw * a.power_draw_share * a.pue * a.usd_per_kwh,
        "space": kw * a.colo_usd_per_kw_month / HOURS_PER_MONTH,
    }


def gpu_usd_per_hour(gpu: str | GPU, hosting: str = "cloud_on_demand", *,
                     assumptions: OwnedAssumptions = OWNED_DEFAULTS) -> float:
    """USD per GPU-hour under a hosting model.

    Parameters
    ----------
    gpu : str or GPU
    hosting : {"cloud_on_demand", "cloud_reserved", "owned"}
        Cloud prices come from ``data/gpus.csv`` (dated; see its ``source``); ``owned``
        follows the module's convention (capital recovery + power + space).

    Examples
    --------
    >>> gpu_usd_per_hour("H100-SXM", "cloud_on_demand")
    3.99
    >>> round(gpu_usd_per_hour("H100-SXM", "owned"), 2)
    1.54
    """
    g = get_gpu(gpu)
    hosting = choice("hosting", hosting, HOSTINGS)
    if hosting == "owned":
        return sum(owned_usd_per_hour_breakdown(g, assumptions).values())
    price = (g.cloud_on_demand_usd_per_hour if hosting == "cloud_on_demand"
             else g.cloud_reserved_usd_per_hour)
    if price is None:
        raise bad("hosting", hosting, f"a hosting with a known price for {g.name}; "
                  f"data/gpus.csv has no {hosting} price for it")
    return price


def scenario_gpu_usd_per_hour(scenario: Any, hosting: str | None = None) -> float:
    """The hourly price of one of a scenario's GPUs, from the scenario's own fields.

    Convention: ``hosting`` defaults to the scenario's own. The scenario's
    ``gpu_usd_per_hour`` when set (it applies to the scenario's own hosting mode only);
    for ``"owned"`` the levelised owned cost from the scenario's server price,
    networking, power and space (:func:`owned_assumptions`); otherwise the cloud price of
    ``data/gpus.csv`` for that hosting mode. Use it wherever a lesson or exercise quotes
    "the scenario's $/GPU-hour", so that every view prices a GPU the same way.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("hospital_notes")
    >>> scenario_gpu_usd_per_hour(S) == gpu_usd_per_hour(S.gpu, S.hosting)
    True
    >>> scenario_gpu_usd_per_hour(S.replace(gpu_usd_per_hour=2.5))
    2.5
    """
    mode = scenario.hosting if hosting is None else choice("hosting", hosting, HOSTINGS)
    if mode == scenario.hosting and getattr(scenario, "gpu_usd_per_hour", None) is not None:
        return positive("gpu_usd_per_hour", scenario.gpu_usd_per_hour)
    if mode == "owned":
        return gpu_usd_per_hour(scenario.gpu, "owned",
                                assumptions=owned_assumptions(scenario))
    return gpu_usd_per_hour(scenario.gpu, mode)


def scenario_api_usd_per_1k_tokens(scenario: Any) -> float:
    """What 1k tokens cost a scenario on its API today: list price, cache mix, discount.

    Convention: :func:`api_usd_per_1k_tokens` for the scenario's ``api_model``,
    ``output_token_share`` and ``cached_input_share``, times ``1 - api_discount``; the
    yearly price decline of :mod:`buildbuy.tco` is not applied (month 0 prices).

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("retail_search")
    >>> full = scenario_api_usd_per_1k_tokens(S.replace(api_discount=0.0))
    >>> round(scenario_api_usd_per_1k_tokens(S.replace(api_discount=0.25)) / full, 6)
    0.75
    """
    price = api_usd_per_1k_tokens(scenario.api_model,
                                  output_token_share=scenario.output_token_share,
                                  cached_input_share=scenario.cached_input_share)
    return price * (1.0 - share("api_discount", scenario.api_discount))


def gpu_hours_cost_usd(gpu: str | GPU, hours: float, *,
                       hosting: str = "cloud_on_demand") -> float:
    """Cost of ``hours`` GPU-hours (a training run, a month of one GPU, ...).

    >>> gpu_hours_cost_usd("H100-SXM", 100)
    399.0
    """
    return non_negative("hours", hours) * gpu_usd_per_hour(gpu, hosting)


def self_hosted_usd_per_1k_tokens(*, usd_per_gpu_hour: float, n_gpus: int | float,
                                  tokens_per_s: float, utilisation: float = 1.0) -> float:
    """Cost of a thousand tokens from a self-hosted fleet.

    ``1000 * usd_per_gpu_hour * n_gpus / (3600 * tokens_per_s * utilisation)``.

    Parameters
    ----------
    usd_per_gpu_hour : float
    n_gpus : int
        GPUs in the fleet.
    tokens_per_s : float
        The fleet's throughput at full load (all ``n_gpus`` together).
    utilisation : float
        Share of the paid hours the fleet does useful work, in (0, 1].

    Examples
    --------
    $2.50/GPU-hour, one GPU at 700 tokens/s: $0.99 per million tokens at full load,
    ten times that at 10% utilisation.

    >>> round(self_hosted_usd_per_1k_tokens(usd_per_gpu_hour=2.5, n_gpus=1,
    ...                                     tokens_per_s=700, utilisation=0.1), 5)
    0.00992
    """
    price = non_negative("usd_per_gpu_hour", usd_per_gpu_hour)
    n = positive("n_gpus", n_gpus)
    tps = positive("tokens_per_s", tokens_per_s)
    u = share("utilisation", utilisation)
    if u == 0:
        raise bad("utilisation", utilisation, "a share > 0 and <= 1 (an idle fleet has no "
                  "cost per token)")
    return 1000.0 * price * n / (3600.0 * tps * u)


def _blended_usd_per_mtok(api: str | ApiPrice, output_token_share: float,
                          cached_input_share: float) -> float:
    a = get_api(api)
    out = share("output_token_share", output_token_share)
    cached = share("cached_input_share", cached_input_share)
    cached_price = (a.cached_input_usd_per_mtok if a.cached_input_usd_per_mtok is not None
                    else a.input_usd_per_mtok)
    input_price = (1.0 - cached) * a.input_usd_per_mtok + cached * cached_price
    return (1.0 - out) * input_price + out * a.output_usd_per_mtok


def api_usd_per_1k_tokens(api: str | ApiPrice, *, output_token_share: float,
                          cached_input_share: float = 0.0) -> float:
    """Blended API price of a thousand tokens for a workload's input/output mix.

    ``[(1 - o) * ((1 - c) * input + c * cached_input) + o * output] / 1000`` with prices per
    million tokens, ``o`` the output share of all tokens and ``c`` the cached share of input
    tokens. Where the provider publishes no cached-input price, cached tokens are billed at
    the input price (no discount is assumed).

    Examples
    --------
    gpt-4o ($2.50 in, $10 out per million), 20% output: 0.8 * 2.5 + 0.2 * 10 = $4 per
    million, $0.004 per thousand.

    >>> api_usd_per_1k_tokens("gpt-4o", output_token_share=0.2)
    0.004
    """
    return _blended_usd_per_mtok(api, output_token_share, cached_input_share) / 1000.0


def monthly_api_cost_usd(api: str | ApiPrice, *, monthly_tokens: float,
                         output_token_share: float, cached_input_share: float = 0.0) -> float:
    """API bill for ``monthly_tokens`` tokens (input + output) in a month.

    >>> monthly_api_cost_usd("gpt-4o", monthly_tokens=1e9, output_token_share=0.2)
    4000.0
    """
    volume = non_negative("monthly_tokens", monthly_tokens)
    return volume / 1e6 * _blended_usd_per_mtok(api, output_token_share, cached_input_share)


def monthly_self_hosted_cost_usd(*, usd_per_gpu_hour: float, n_gpus: int | float,
                                 fixed_monthly_usd: float = 0.0) -> float:
    """Monthly bill of an always-on fleet: ``usd_per_gpu_hour * n_gpus * 730 + fixed``.

    >>> monthly_self_hosted_cost_usd(usd_per_gpu_hour=2.0, n_gpus=2)
    2920.0
    """
    return (non_negative("usd_per_gpu_hour", usd_per_gpu_hour) * positive("n_gpus", n_gpus)
            * HOURS_PER_MONTH + non_negative("fixed_monthly_usd", fixed_monthly_usd))


def break_even_monthly_tokens(api: str | ApiPrice, *, output_token_share: float,
                              usd_per_gpu_hour: float, n_gpus: int | float,
                              tokens_per_s: float, cached_input_share: float = 0.0,
                              fixed_monthly_usd: float = 0.0) -> float | None:
    """Monthly token volume at which the API bill equals an always-on fleet's bill.

    ``V* = monthly fleet cost / API price per token``. The fleet costs the same at any
    volume it can carry (``tokens_per_s * 3600 * 730`` a month), so above ``V*`` it is
    cheaper. Returns ``None`` when ``V*`` is beyond that capacity: this fleet never breaks
    even (at that volume a bigger fleet is needed; compare per-token costs instead with
    :func:`break_even_utilisation`).

    Examples
    --------
    One $2/hour GPU (1,460 $/month) against $4 per million tokens: 365 million a month.

    >>> break_even_monthly_tokens("gpt-4o", output_token_share=0.2, usd_per_gpu_hour=2.0,
    ...                           n_gpus=1, tokens_per_s=1000)
    365000000.0
    """
    fleet = monthly_self_hosted_cost_usd(usd_per_gpu_hour=usd_per_gpu_hour, n_gpus=n_gpus,
                                         fixed_monthly_usd=fixed_monthly_usd)
    tps = positive("tokens_per_s", tokens_per_s)
    per_mtok = _blended_usd_per_mtok(api, output_token_share, cached_input_share)
    if per_mtok == 0:
        return None
    volume = fleet / per_mtok * 1e6
    capacity = tps * 3600.0 * HOURS_PER_MONTH
    return volume if volume <= capacity else None


def break_even_utilisation(api: str | ApiPrice, *, output_token_share: float,
                           usd_per_gpu_hour: float, tokens_per_s_per_gpu: float,
                           cached_input_share: float = 0.0, discount: float = 0.0) -> float:
    """Utilisation at which self-hosting costs the same per token as the API.

    ``u* = (self-hosted cost per token at full load) / (API price per token)``, the API
    price after a negotiated ``discount`` (a share of list price). Above
    ``u*`` self-hosting is cheaper. A value above 1 means it never is, even fully busy.

    Examples
    --------
    $2/hour for 1,000 tokens/s is $0.556 per million at full load; against gpt-4o's $4
    blended price self-hosting wins above 13.9% utilisation.

    >>> round(break_even_utilisation("gpt-4o", output_token_share=0.2, usd_per_gpu_hour=2.0,
    ...                              tokens_per_s_per_gpu=1000), 4)
    0.1389
    """
    full = self_hosted_usd_per_1k_tokens(usd_per_gpu_hour=usd_per_gpu_hour, n_gpus=1,
                                         tokens_per_s=tokens_per_s_per_gpu)
    api_1k = api_usd_per_1k_tokens(api, output_token_share=output_token_share,
                                   cached_input_share=cached_input_share)
    api_1k *= 1.0 - share("discount", discount)
    if api_1k == 0:
        raise bad("api", get_api(api).name, "an API with a non-zero price")
    return full / api_1k
