"""How sure are we? Tornado, two-way grid and a vectorised Monte Carlo of B against A.

The metrics, all in USD:

- ``"npv_gap"`` (default): the decision's NPV gap, after-tax NPV of self-hosting (B)
  minus that of the API (A), value included (:mod:`buildbuy.path_cash`); positive when
  building creates more value;
- ``"npv_gap_hybrid"``: the same for the hybrid path (H) against A;
- ``"npv_diff"``: the cost view, pre-tax cash-cost NPV of B minus A (positive when
  self-hosting costs more);
- ``"tco_diff"``: undiscounted cash cost over the horizon, B minus A;
- ``"npv_a"``, ``"npv_b"``, ``"npv_h"``: after-tax NPV of one path against doing nothing
  (the kill criteria of :mod:`buildbuy.memo.kill` compare the recommended path with the
  next best one).

All tools call :func:`buildbuy.tco.monthly_lines` and :func:`buildbuy.path_cash.path_cash`,
the same arithmetic as the decision record, with a leading axis of draws: nothing is
re-implemented, so a sensitivity can never drift from the figures it explains.

A *driver* is a scenario field (``"server_usd"``) or one of the scale factors in
:data:`SCALES` (``"staff_fte_b_scale"`` multiplies every ``<role>_fte_b``). The tornado
also takes whole-number fields (go-live months) and the fields that set the GPU sizing
per replica; :func:`grid` and :func:`monte_carlo` take only float fields that leave the
sizing per replica unchanged (vary the others with ``Scenario.replace`` and rerun).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from buildbuy import finance, path_cash, tco
from buildbuy._validate import bad, choice, integer
from buildbuy.scenarios import FIELDS, ROLES

__all__ = [
    "METRICS",
    "SCALES",
    "Driver",
    "MonteCarlo",
    "default_drivers",
    "grid",
    "metrics",
    "monte_carlo",
    "pert_ppf",
    "tornado",
    "tornado_chart",
    "triangular_ppf",
]

METRICS: tuple[str, ...] = ("npv_gap", "npv_gap_hybrid", "npv_diff", "tco_diff", "npv_a",
                            "npv_b", "npv_h")
#: Fields the value and tax side reads per draw (the cost model reads the rest).
_PATH_FIELDS: tuple[str, ...] = ("monthly_tokens", "annual_growth", "value_usd_per_request",
                                 "quality_b_vs_a", "tax_rate")

#: Scale factors usable as drivers, with what they multiply.
SCALES: dict[str, str] = {
    "staff_fte_a_scale": "every <role>_fte_a",
    "staff_fte_b_scale": "every <role>_fte_b",
    "api_price_scale": "the API price (through api_discount)",
    "gpu_price_scale": "gpu_usd_per_hour (cloud) or server_usd (owned)",
}


@dataclasses.dataclass(frozen=True)
class Driver:
    """One uncertain input: its low and high values and where they come from.

    ``relative=True`` means ``low``/``high`` multiply the scenario's value.
    """

    name: str
    low: float
    high: float
    relative: bool
    source: str
    label: str = ""

    def values(self, S: Any) -> tuple[float, float, float]:
        """``(low, base, high)`` in the driver's own unit for scenario ``S``."""
        base = _base_value(S, self.name)
        if self.relative:
            return self.low * base, base, self.high * base
        return self.low, base, self.high


def _base_value(S: Any, name: str) -> float:
    if name in SCALES:
        return 1.0
    if name == "gpu_usd_per_hour":
        return tco.gpu_usd_per_hour(S)
    if name not in FIELDS:
        raise bad("driver", name, "a scenario field or one of " + ", ".join(SCALES))
    return float(getattr(S, name))


def default_drivers(S: Any) -> list[Driver]:
    """Thirteen (cloud) or sixteen (owned) drivers with sourced ranges, by hosting mode.

    Ranges: the same model's API list price falling 0 to 30% a year (the Sonnet tier flat
    at $3 / $15 since March 2024; a cheaper model of the same capability is a refresh,
    ``api_refresh_months``, not a decline); negotiated API discount 0 (self-serve) to 30%;
    target utilisation 0.5 to 0.85; server
    $250k-$400k (CloudZero); cloud GPU x0.6-x1.7 (H100 on-demand $2.40 Vast median to
    $6.88 AWS p5 around ~$4, price pages of Oct-Nov 2026); electricity 6.6-18.6 c/kWh (EIA 2023,
    TX and CA); PUE 1.1-1.56 (Uptime 2024); discount rate 8-11% (Damodaran-derived band);
    used-server value falling 20-50% a year; maintenance 5-20% of capex a year. Volume,
    growth, peak factor, staff and value per request are persona assumptions: x0.5 to
    x1.5 (volume x0.5 to x2); B's quality share +/-10%.
    """
    owned = S.hosting == "owned"
    persona = "persona assumption: +/-50% around the persona's value"
    drivers = [
        Driver("monthly_tokens", 0.5, 2.0, True, "persona assumption: half to double",
               "Volume (first month)"),
        Driver("annual_growth", 0.5, 1.5, True, persona, "Volume growth per year"),
        Driver("api_price_decline", 0.0, 0.3, False,
               "same-model list price: flat (Anthropic Sonnet tier $3 / $15, Mar 2024 to "
               "2026) to -30%/yr", "API list-price decline per year"),
        Driver("target_utilisation", 0.5, 0.85, False,
               "autoscaler targets 0.5-0.8 (Knative default 0.7); above ~0.85 queues grow",
               "Target utilisation at peak (headroom)"),
        Driver("peak_to_average", 0.67, 1.5, True, persona + " (sets utilisation)",
               "Peak-to-average load (1 / utilisation)"),
        Driver("staff_fte_b_scale", 0.5, 1.5, False, persona, "Self-host staff (FTE)"),
        Driver("discount_rate", 0.08, 0.11, False,
               "[D] 8-11% around the WACC derived from Damodaran's 'Cost of Capital by Sector "
               "(US)', Jan 2026", "Discount rate"),
        Driver("value_usd_per_request", 0.5, 1.5, True, persona,
               "Value per request"),
        Driver("quality_b_vs_a", 0.9, min(1.1, 1.5 / max(S.quality_b_vs_a, 1e-9)), True,
               "persona assumption: +/-10%, about the spread of the benchmark ratios behind "
               "the default across task categories", "Quality of B (share of A's value)"),
        Driver("api_discount", 0.0, 0.3, False,
               "self-serve list price to 30% off for committed enterprise spend (OpenAI "
               "Scale Tier: 12% base savings, 2024; larger figures are unverified claims)",
               "Negotiated API discount"),
        Driver("months_to_production", 0.5, 1.5, True,
               persona + "; 3-6 month hardware lead times (illustrative, no primary source)",
               "Months to production (self-host)"),
    ]
    if owned:
        drivers += [
            Driver("server_usd", 250_000.0, 400_000.0, False,
                   "8xH100 server $250k-$400k+ (CloudZero H100 price analysis, 2026)",
                   "Server price"),
            Driver("electricity_usd_per_kwh", 0.066, 0.186, False,
                   "EIA Electric Power Annual 2023, industrial: TX 6.6c, CA 18.6c "
                   "(eia.gov/electricity/annual/secrev-map.php)",
                   "Electricity price"),
            Driver("pue", 1.1, 1.56, False, "Uptime 2024: 1.1 hyperscale to 1.56 average "
                   "(Uptime Institute Global Data Center Survey 2024; Google fleet ~1.10)", "PUE"),
            Driver("resale_decline_per_year", 0.2, 0.5, False,
                   "used-H100 values 60-65% after a year to A100's 45-50% first-year "
                   "fall (GPU Lease Rate Index page, Jan 2026, low confidence)",
                   "Used-server value lost per year"),
            Driver("maintenance_share_per_year", 0.05, 0.2, False,
                   "third-party maintenance to a DGX support contract's ~20% of base price "
                   "a year (illustrative)", "Hardware maintenance per year"),
        ]
    else:
        drivers += [
            Driver("gpu_price_scale", 0.6, 1.7, False,
                   "H100 on-demand $2.40 (Vast) to $6.88 (AWS) around ~$4 "
                   "(Vast.ai median offer, Oct 2026; AWS p5.48xlarge on-demand, AWS Pricing API, "
                   "Nov 2026)", "GPU rental price"),
            Driver("licence_usd_per_gpu_year", 0.0, 1.0, True,
                   "none (bundled) to NVIDIA AI Enterprise list ($4,500/GPU/yr, NVIDIA Q3 FY2024 "
                   "earnings call, 21 Nov 2023)",
                   "Software licences"),
        ]
    return drivers


def _expand(S: Any, varied: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Turn driver values (fields or scale factors) into field arrays for tco."""
    out: dict[str, np.ndarray] = {}
    for name, v in varied.items():
        v = np.asarray(v, dtype=float)
        if name == "staff_fte_a_scale" or name == "staff_fte_b_scale":
            side = name[len("staff_fte_")]
            for role in ROLES:
                key = f"{role}_fte_{side}"
                out[key] = out.get(key, getattr(S, key)) * v
        elif name == "api_price_scale":
            out["api_discount"] = 1.0 - v * (1.0 - out.get("api_discount", S.api_discount))
        elif name == "gpu_price_scale":
            key = "server_usd" if S.hosting == "owned" else "gpu_usd_per_hour"
            out[key] = out.get(key, _base_value(S, key)) * v
        else:
            _base_value(S, name)  # validates the name
            out[name] = v
    return out


def metrics(S: Any, varied: Mapping[str, np.ndarray], ctx: Any = None
            ) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` for each row of the driver arrays in ``varied``.

    ``varied`` maps driver names (fields or :data:`SCALES`) to 1-D arrays of draws;
    ``ctx`` is a precomputed :func:`buildbuy.tco.context` (built if omitted).
    """
    ctx = ctx if ctx is not None else tco.context(S)
    fields = _expand(S, varied)
    rate = fields.pop("discount_rate", None)
    lines = tco.monthly_lines(S, fields, context=ctx, components=True)
    params = {k: np.asarray(fields[k], dtype=float).reshape(-1, 1)
              for k in _PATH_FIELDS if k in fields}
    paths = path_cash.path_cash(S, lines, params)
    annual = np.asarray(S.discount_rate if rate is None else rate, dtype=float)
    if np.any(annual <= -1.0):
        raise bad("discount_rate", float(annual.min()), "a rate > -1")
    monthly = (1.0 + annual) ** (1.0 / 12.0) - 1.0  # = finance.monthly_rate, elementwise
    r = monthly if monthly.ndim else float(monthly)

    def npv(x: np.ndarray) -> np.ndarray:
        return np.asarray(finance.npv(r, np.atleast_2d(x)))

    cost = {s: sum(v for k, v in lines.items() if k[0] == s) for s in ("A", "B")}
    d = np.atleast_2d(cost["B"] - cost["A"])
    return {"npv_gap": npv(paths["B"].fcf - paths["A"].fcf),
            "npv_gap_hybrid": npv(paths["H"].fcf - paths["A"].fcf),
            "npv_diff": npv(d), "tco_diff": d.sum(axis=-1),
            # each path against doing nothing (the kill criteria of buildbuy.memo.kill)
            "npv_a": npv(paths["A"].fcf), "npv_b": npv(paths["B"].fcf),
            "npv_h": npv(paths["H"].fcf)}


def _evaluate(S: Any, varied: Mapping[str, np.ndarray], ctx: Any, metric: str
              ) -> np.ndarray:
    return metrics(S, varied, ctx)[metric]


def tornado(S: Any, drivers: Sequence[Driver] | None = None, *,
            metric: str = "npv_gap") -> pd.DataFrame:
    """One-at-a-time sensitivity of a metric (default the NPV gap, B minus A).

    Each driver is set to its low and then its high value with every other input at
    the scenario's value. Drivers on float fields run in one vectorised call; drivers on
    whole-number fields (rounded, e.g. ``months_to_production``) or on the fields that set
    the GPU sizing per replica rerun the scenario through ``Scenario.replace``.

    Returns
    -------
    pandas.DataFrame
        One row per driver, widest swing first: ``driver``, ``label``, ``low``,
        ``base``, ``high`` (driver values), ``metric_low``, ``metric_high`` (USD),
        ``base_metric``, ``swing`` (``|metric_high - metric_low|``), ``source``.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> t = tornado(scenarios.load("bank_support"))
    >>> len(t) >= 8 and bool(t.swing.is_monotonic_decreasing)
    True
    """
    choice("metric", metric, METRICS)
    drivers = list(drivers) if drivers is not None else default_drivers(S)
    if not drivers:
        raise bad("drivers", drivers, "at least one Driver")
    k = len(drivers)
    values = [_rounded(d.name, d.values(S)) for d in drivers]
    cols: dict[str, np.ndarray] = {}
    for i, d in enumerate(drivers):
        if _vectorisable(d.name):
            col = cols.setdefault(d.name, np.full(2 * k + 1, values[i][1]))
            col[2 * i], col[2 * i + 1] = values[i][0], values[i][2]
    out = _evaluate(S, cols, tco.context(S), metric)
    if out.size == 1:  # no driver was vectorised: one base run, copied to every slot
        out = np.full(2 * k + 1, out[0])
    for i, d in enumerate(drivers):
        if not _vectorisable(d.name):  # re-size or re-time: one scenario per value
            for j, value in ((2 * i, values[i][0]), (2 * i + 1, values[i][2])):
                T = S.replace(**{d.name: value})
                out[j] = _evaluate(T, {}, tco.context(T), metric)[0]
    rows = [{"driver": d.name, "label": d.label or d.name, "low": v[0], "base": v[1],
             "high": v[2], "metric_low": out[2 * i], "metric_high": out[2 * i + 1],
             "base_metric": out[-1], "swing": abs(out[2 * i + 1] - out[2 * i]),
             "source": d.source} for i, (d, v) in enumerate(zip(drivers, values, strict=True))]
    return pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable") \
        .reset_index(drop=True)


def _vectorisable(name: str) -> bool:
    if name in SCALES:
        return True
    f = FIELDS[name]
    return f.type is float and name not in tco.FIXED_FIELDS


def _rounded(name: str, v: tuple[float, float, float]) -> tuple[float, float, float]:
    if name in FIELDS and FIELDS[name].type is int:
        return (float(round(v[0])), v[1], float(round(v[2])))
    return v


def tornado_chart(table: pd.DataFrame, *, ax: Any = None, title: str | None = None,
                  xlabel: str = "NPV gap, self-host minus API, after tax, $M "
                                "(> 0: self-hosting creates more value)") -> Any:
    """Horizontal-bar tornado of a :func:`tornado` table; returns the Figure.

    Bars start at the base case; the widest driver is on top. Labels give the low and
    high driver values.
    """
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(8, 0.45 * len(table) + 1.2))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    t = table.iloc[::-1]
    base = float(t["base_metric"].iloc[0]) / 1e6
    y = np.arange(len(t))
    lo, hi = t["metric_low"].to_numpy() / 1e6, t["metric_high"].to_numpy() / 1e6
    ax.barh(y, lo - base, left=base, color="#4C72B0", label="driver low")
    ax.barh(y, hi - base, left=base, color="#DD8452", label="driver high")
    ax.axvline(base, color="black", lw=0.8)
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y, [f"{lab} ({_fmt(a)} / {_fmt(b)})" for lab, a, b in
                      zip(t["label"], t["low"], t["high"], strict=True)])
    ax.set_xlabel(xlabel)
    ax.set_title(title or "What moves the answer")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def _fmt(x: float) -> str:
    if abs(x) >= 1e6:
        return f"{x:.3g}"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def grid(S: Any, x: str, x_values: Sequence[float], y: str, y_values: Sequence[float], *,
         metric: str = "npv_gap") -> pd.DataFrame:
    """Two-way sensitivity: the metric for every pair of ``x`` and ``y`` values.

    Returns
    -------
    pandas.DataFrame
        Index = ``y_values`` (named ``y``), columns = ``x_values`` (named ``x``).

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> g = grid(scenarios.load("retail_search"), "monthly_tokens", [1e10, 5e10],
    ...          "api_price_scale", [0.5, 1.0, 2.0])
    >>> g.shape
    (3, 2)
    """
    choice("metric", metric, METRICS)
    if x == y:
        raise bad("y", y, f"a driver other than x={x!r}")
    xs = np.asarray(x_values, dtype=float)
    ys = np.asarray(y_values, dtype=float)
    if xs.ndim != 1 or ys.ndim != 1 or xs.size == 0 or ys.size == 0:
        raise bad("x_values/y_values", (len(xs), len(ys)), "non-empty 1-D sequences")
    xx, yy = np.meshgrid(xs, ys)
    out = _evaluate(S, {x: xx.ravel(), y: yy.ravel()}, tco.context(S), metric)
    frame = pd.DataFrame(out.reshape(yy.shape), index=pd.Index(ys, name=y),
                         columns=pd.Index(xs, name=x))
    return frame


# --------------------------------------------------------------------------- Monte Carlo

def triangular_ppf(u: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    """Inverse CDF of the triangular distribution (as ``scipy.stats.triang``).

    Examples
    --------
    >>> triangular_ppf(np.array([0.0, 0.5, 1.0]), 0.0, 0.5, 1.0).tolist()
    [0.0, 0.5, 1.0]
    """
    span = high - low
    fc = (mode - low) / span
    left = low + np.sqrt(u * span * (mode - low))
    right = high - np.sqrt((1.0 - u) * span * (high - mode))
    return np.where(u < fc, left, right)


def pert_ppf(u: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    """Inverse CDF of the beta-PERT distribution: ``low + (high - low) * Beta(a, b)``.

    ``a = 1 + 4 (mode - low) / (high - low)``, ``b = 1 + 4 (high - mode) / (high - low)``;
    mean ``(low + 4 mode + high) / 6``.

    Examples
    --------
    >>> float(pert_ppf(np.array([0.5]), 0.0, 0.5, 1.0)[0])
    0.5
    """
    span = high - low
    a = 1.0 + 4.0 * (mode - low) / span
    b = 1.0 + 4.0 * (high - mode) / span
    return low + span * special.betaincinv(a, b, u)


@dataclasses.dataclass(frozen=True)
class MonteCarlo:
    """Result of :func:`monte_carlo`.

    Attributes
    ----------
    n_draws, seed : int
    percentiles_usd : pandas.DataFrame
        Index ``P10``, ``P50``, ``P90``; one column per metric of :data:`METRICS`.
    prob_b_better : float
        Share of draws in which B's after-tax NPV beats A's (``npv_gap > 0``).
    prob_hybrid_better : float
        The same for H against A.
    prob_self_host_cheaper : float
        Share of draws with B's undiscounted cash cost below A's.
    prob_self_host_cheaper_npv : float
        The same on cost NPVs.
    draws : pandas.DataFrame
        One row per draw: the sampled inputs and every metric.
    inputs : dict
        ``name -> (low, mode, high)`` as sampled.
    """

    n_draws: int
    seed: int
    percentiles_usd: pd.DataFrame
    prob_b_better: float
    prob_hybrid_better: float
    prob_self_host_cheaper: float
    prob_self_host_cheaper_npv: float
    draws: pd.DataFrame
    inputs: dict[str, tuple[float, float, float]]


def _check_inputs(inputs: Mapping[str, Sequence[float]]) -> dict[str, tuple[float, ...]]:
    out = {}
    for name, spec in inputs.items():
        vals = tuple(float(v) for v in spec)
        if len(vals) != 3 or not np.all(np.isfinite(vals)):
            raise bad(f"inputs[{name!r}]", spec, "(low, mode, high), three finite numbers")
        lo, mode, hi = vals
        if not lo <= mode <= hi or lo == hi:
            raise bad(f"inputs[{name!r}]", spec, "low <= mode <= high with low < high")
        out[name] = vals
    return out


def _correlation(names: list[str], pairs: Mapping[tuple[str, str], float] | None
                 ) -> np.ndarray:
    c = np.eye(len(names))
    for (a, b), rho in (pairs or {}).items():
        for n in (a, b):
            if n not in names:
                raise bad("correlation", (a, b), "pairs of names in inputs: "
                          + ", ".join(names))
        if a == b or not -1.0 < float(rho) < 1.0:
            raise bad(f"correlation[{(a, b)!r}]", rho, "a number in (-1, 1) between "
                      "two different inputs")
        i, j = names.index(a), names.index(b)
        c[i, j] = c[j, i] = float(rho)
    return c


def monte_carlo(S: Any, inputs: Mapping[str, Sequence[float]] | None = None, *,
                n_draws: int = 100_000, seed: int = 0, distribution: str = "triangular",
                correlation: Mapping[tuple[str, str], float] | None = None,
                chunk: int = 4_096) -> MonteCarlo:
    """Seeded, vectorised Monte Carlo of the NPV gap and the cost difference, B - A.

    Parameters
    ----------
    S : Scenario
    inputs : mapping, optional
        Driver name -> ``(low, mode, high)`` in the driver's unit. Default: the
        :func:`default_drivers` ranges with the scenario's value as mode.
    n_draws : int
        Number of draws (>= 1).
    seed : int
        Seed of ``numpy.random.default_rng``: the same seed gives the same draws.
    distribution : {"triangular", "pert"}
    correlation : mapping, optional
        ``(name_a, name_b) -> rho``: a Gaussian copula; the matrix must be positive
        definite. Rank correlation of the draws is close to, not equal to, ``rho``
        (``6/pi * asin(rho/2)`` for the Spearman correlation of the copula).
    chunk : int
        Draws evaluated per vectorised call (memory: about 0.5 KB x months per draw).

    Returns
    -------
    MonteCarlo

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> mc = monte_carlo(scenarios.load("bank_support"), n_draws=2_000, seed=1)
    >>> list(mc.percentiles_usd.index)
    ['P10', 'P50', 'P90']
    >>> 0.0 <= mc.prob_b_better <= 1.0
    True
    """
    n = integer("n_draws", n_draws, minimum=1)
    seed = integer("seed", seed, minimum=0)
    chunk = integer("chunk", chunk, minimum=1)
    choice("distribution", distribution, ("triangular", "pert"))
    if inputs is None:
        # default ranges; a driver whose base is 0 under a relative range has no spread
        inputs = {d.name: (min(v), v[1], max(v)) for d in default_drivers(S)
                  if _vectorisable(d.name) and (v := d.values(S))[0] != v[2]}
    spec = _check_inputs(inputs)
    if not spec:
        raise bad("inputs", inputs, "at least one (low, mode, high) input")
    names = list(spec)
    for name in names:
        _base_value(S, name)
    corr = _correlation(names, correlation)
    try:
        chol = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise bad("correlation", correlation, "a positive-definite set of correlations"
                  ) from None
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, len(names))) @ chol.T
    u = special.ndtr(z)
    ppf = triangular_ppf if distribution == "triangular" else pert_ppf
    sampled = {name: ppf(u[:, i], *spec[name]) for i, name in enumerate(names)}
    ctx = tco.context(S)
    found = {k: np.empty(n) for k in METRICS}
    for start in range(0, n, chunk):
        part = {k: v[start:start + chunk] for k, v in sampled.items()}
        for k, v in metrics(S, part, ctx).items():
            found[k][start:start + chunk] = v
    q = [10, 50, 90]
    pct = pd.DataFrame({k: np.percentile(v, q) for k, v in found.items()},
                       index=["P10", "P50", "P90"])
    draws = pd.DataFrame({**sampled, **found})
    return MonteCarlo(n, seed, pct, float(np.mean(found["npv_gap"] > 0)),
                      float(np.mean(found["npv_gap_hybrid"] > 0)),
                      float(np.mean(found["tco_diff"] < 0)),
                      float(np.mean(found["npv_diff"] < 0)), draws, dict(spec))
