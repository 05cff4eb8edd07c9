"""Lesson 1 panel: self-hosted cost per 1k tokens against the API price, by utilisation.

Throughput from :func:`buildbuy.tps.decode`; prices from :mod:`buildbuy.costs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, NullLocator

from buildbuy import costs, tps
from buildbuy._validate import share
from buildbuy.widgets._panel import Panel, as_decision, as_scenario, one_of, span
from buildbuy.widgets.physics import BATCHES, SLIDER, fitting_batch
from buildbuy.widgets.physics_views import request_tokens

__all__ = ["unit_cost_panel"]


def unit_cost_panel(scenario: Any, *, batch: int | None = None,
                    utilisation: float = 0.5) -> Panel:
    """Self-hosted cost per 1k tokens against the scenario's API price, by utilisation.

    Throughput is one replica's steady state (:func:`buildbuy.tps.serving_point`): prompt
    plus output tokens per second, the unit the API bills, at ``batch`` requests of the
    scenario's request shape, on as many GPUs as the decision record's replica puts in a
    replica. The panel opens at ``batch`` (one of :data:`BATCHES`; default: the largest
    up to 32 that fits in memory) and ``utilisation`` (a share). Controls: ``utilisation``
    (share of paid hours the GPU does useful work), ``batch``, ``hosting``.
    ``result`` holds ``self_usd_per_1k_tokens``,
    ``api_usd_per_1k_tokens``, ``usd_per_gpu_hour``, ``tokens_per_s`` and
    ``break_even_utilisation`` (the utilisation at which the two costs match;
    ``None`` when self-hosting is dearer even at full load).

    Examples
    --------
    >>> p = unit_cost_panel("bank_support", utilisation=0.5)
    >>> half = p.result["self_usd_per_1k_tokens"]
    >>> p.controls["utilisation"].value = 0.25
    >>> round(p.result["self_usd_per_1k_tokens"] / half, 6)   # half the use, twice the cost
    2.0
    """
    s = as_scenario(scenario)
    model, gpu = s.self_host_model, s.gpu
    prompt, output = request_tokens(s)
    tp = int(as_decision(s).replica.tensor_parallel)
    u = share("utilisation", utilisation)
    start = (fitting_batch(model, gpu, 32, context=prompt + output, tensor_parallel=tp)
             if batch is None else one_of("batch", batch, BATCHES))
    controls = {
        "utilisation": w.FloatSlider(value=u, step=0.01, description="utilisation",
                                     readout_format=".0%", **span(u, 0.01, 1.0), **SLIDER),
        "batch": w.SelectionSlider(options=BATCHES, value=start,
                                   description="batch (users)", **SLIDER),
        "hosting": w.Dropdown(options=costs.HOSTINGS, value=s.hosting,
                              description="hosting", style=SLIDER["style"]),
    }
    api_1k = costs.scenario_api_usd_per_1k_tokens(s)

    def compute(v: Mapping[str, Any]) -> dict[str, Any]:
        sp = tps.serving_point(model, gpu, batch=v["batch"], prompt_tokens=prompt,
                               output_tokens=output, tensor_parallel=tp)
        usd_h = costs.scenario_gpu_usd_per_hour(s, v["hosting"])
        per_1k = costs.self_hosted_usd_per_1k_tokens(
            usd_per_gpu_hour=usd_h, n_gpus=tp, tokens_per_s=sp.tokens_per_s,
            utilisation=v["utilisation"])
        full = costs.self_hosted_usd_per_1k_tokens(
            usd_per_gpu_hour=usd_h, n_gpus=tp, tokens_per_s=sp.tokens_per_s)
        even = costs.break_even_utilisation(s.api_model, output_token_share=s.output_token_share,
                                            usd_per_gpu_hour=usd_h,
                                            tokens_per_s_per_gpu=sp.tokens_per_s_per_gpu,
                                            cached_input_share=s.cached_input_share,
                                            discount=s.api_discount)
        return {"model": model, "gpu": gpu, "api_model": s.api_model,
                "utilisation": v["utilisation"], "batch": v["batch"],
                "hosting": v["hosting"], "usd_per_gpu_hour": usd_h, "n_gpus": tp,
                "tokens_per_s": sp.tokens_per_s, "self_usd_per_1k_tokens": per_1k,
                "self_full_load_usd_per_1k_tokens": full,
                "api_usd_per_1k_tokens": api_1k,
                "break_even_utilisation": even if even <= 1.0 else None}

    return Panel(f"Cost per 1k tokens: {model} on {gpu} against {s.api_model}", controls,
                 compute, _draw_unit_cost, _describe_unit_cost)


def _describe_unit_cost(r: Mapping[str, Any]) -> str:
    even = r["break_even_utilisation"]
    even_txt = (f"self-hosting matches the API at {even:.1%} utilisation" if even is not None
                else "self-hosting costs more than the API even at 100% utilisation")
    return (f"self-hosted ${r['self_usd_per_1k_tokens']:.3g} per 1k tokens at "
            f"{r['utilisation']:.0%} utilisation (${r['usd_per_gpu_hour']:.2f}/GPU-hour, "
            f"{r['n_gpus']} GPU(s), {r['tokens_per_s']:,.0f} tokens/s in+out); "
            f"API ${r['api_usd_per_1k_tokens']:.3g}; "
            f"{even_txt}")


def _draw_unit_cost(fig: Figure, v: Mapping[str, Any], r: Mapping[str, Any]) -> None:
    (ax,) = fig.axes
    u = np.geomspace(0.01, 1.0, 96)
    ax.plot(u, r["self_full_load_usd_per_1k_tokens"] / u, color="tab:blue",
            label=f"self-hosted ({r['hosting'].replace('_', ' ')})")
    ax.axhline(r["api_usd_per_1k_tokens"], color="tab:green", ls="--",
               label=f"API ({r['api_model']})")
    ax.plot([r["utilisation"]], [r["self_usd_per_1k_tokens"]], "o", ms=10, mfc="none",
            mec="red")
    if r["break_even_utilisation"] is not None:
        ax.axvline(r["break_even_utilisation"], color="grey", ls=":")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("utilisation (share of paid GPU hours doing useful work)")
    ax.set_ylabel("USD per 1k tokens")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
