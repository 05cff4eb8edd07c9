"""A latency target can rule out an API: published and measured speed per output token.

The scenario's ``max_ms_per_output_token`` is a service-level objective (SLO) for the
user: how long a reader waits for each new token. Self-hosting meets it by sizing
(:func:`buildbuy.tps.size_fleet`); an API either meets it or not, whatever you pay.

- :func:`provider_table` lists the published speeds of ``data/api_latency.csv`` (LLMPerf
  Leaderboard: one model, Llama-2-70B chat, on eight providers, 19 Dec 2023) as
  milliseconds per output token, ``1000 / output tokens per second`` (per request, so it
  includes the time to the first token spread over the answer: an upper bound on the
  pure decode step), and marks which meet the scenario's target.
- :func:`api_latency_reasons` blocks Scenario A when the API's measured time per output
  token (``api_ms_per_output_token``, e.g. the TPOT of ``buildbuy audit`` on the vendor's
  endpoint) exceeds the target. Not measured (empty) means not blocked: the course cannot
  know a vendor's speed for your prompts. :func:`api_latency_rule` is the same check as a
  :mod:`buildbuy.constraints` rule.

The leaderboard measured from one region (AWS us-west-2). A client further away adds
network round trips to the time to first token, not to the time per output token; a
region choice therefore moves TTFT, which the course does not model as an SLO.

Examples
--------
>>> from buildbuy import scenarios
>>> S = scenarios.load("retail_search", api_ms_per_output_token=47.6)
>>> api_latency_reasons(S)[0][:44]
'the API takes 47.6 ms per output token, abov'
>>> api_latency_reasons(S.replace(api_ms_per_output_token=None))
[]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildbuy import data

__all__ = ["api_latency_reasons", "api_latency_rule", "provider_table"]


def provider_table(S: Any) -> pd.DataFrame:
    """Published API speeds against the scenario's latency target.

    Returns the rows of ``data/api_latency.csv`` (``provider``, ``model``,
    ``output_tokens_per_s``, ``ttft_ms``, ``as_of``) with ``ms_per_output_token`` =
    1000 / output tokens per second and ``meets_target`` (at most
    ``S.max_ms_per_output_token``), fastest first.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> t = provider_table(scenarios.load("retail_search"))   # a 20 ms target
    >>> t[t.meets_target]["provider"].tolist()
    ['groq', 'anyscale', 'together']
    """
    t = data.load_table("api_latency")
    t["ms_per_output_token"] = 1000.0 / t["output_tokens_per_s"]
    t["meets_target"] = t["ms_per_output_token"] <= float(S.max_ms_per_output_token)
    cols = ["provider", "model", "output_tokens_per_s", "ms_per_output_token", "ttft_ms",
            "meets_target", "as_of"]
    return t.sort_values("ms_per_output_token", kind="stable")[cols].reset_index(drop=True)


def api_latency_reasons(S: Any) -> list[str]:
    """Why Scenario A misses the latency target (empty when it meets it or is not measured)."""
    ms = S.api_ms_per_output_token
    if ms is None or float(ms) <= float(S.max_ms_per_output_token):
        return []
    return [f"the API takes {float(ms):.1f} ms per output token, above the latency target of "
            f"{float(S.max_ms_per_output_token):g} ms (max_ms_per_output_token); paying more "
            "does not make it faster, a faster model or provider might"]


def api_latency_rule(S: Any, facts: Any = None) -> dict[str, list[str]]:
    """:mod:`buildbuy.constraints` rule: the latency target blocks A (and a hybrid that
    bridges on the API)."""
    reasons = api_latency_reasons(S)
    return {"A": reasons} if reasons else {}
