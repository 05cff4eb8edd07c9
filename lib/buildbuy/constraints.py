"""What blocks a path: feasibility rules, each giving plain-language reasons.

A path is *feasible* when no rule blocks it. :func:`feasibility` runs every rule in
:data:`RULES` and returns ``{path: [reasons]}`` for the paths ``A`` (buy: the API), ``B``
(build: self-host) and ``H`` (hybrid: the API until B is live, then self-host); an empty
list means feasible. The decision (:mod:`buildbuy.tco_compare`) recommends only feasible
paths, and says "neither" when none is feasible and worth doing.

A rule is a function ``rule(scenario, facts) -> {path: [reasons]}``. Paths it does not
name are not blocked by it, except that H, which uses the API while B is being built and
self-hosting after, inherits B's reasons always and A's reasons when it actually bridges on
the API (A goes live before B). A rule that knows better (an API quota only exceeded after
B is live) names ``"H"`` itself, possibly with an empty list. :func:`register` adds a rule
(branches add theirs, e.g. the API quota).

Built-in rules:

- :func:`data_residency_rule`: ``data_residency="in_house"`` means data may not leave the
  company's own facilities, which rules out the API (prompts go to the vendor) and rented
  cloud GPUs.
- :func:`latency_rule`: no GPU group of up to 8 meets ``max_ms_per_output_token`` for the
  self-hosted model (``buildbuy.tps.size_fleet``); the reason is its message.
- :func:`api_quota_rule`: a month's peak above the API's top published rate-limit tier,
  with no provisioned throughput published to buy (:func:`buildbuy.api_limits.
  quota_blocking_reasons`), blocks A; it blocks H only if that happens in a month H still
  sends traffic to the API (before B is live). A peak that provisioned throughput can
  carry is a price (path A's ``api_provisioned`` line), not a block.
- :func:`buildbuy.api_latency.api_latency_rule`: the API's measured time per output token
  (``api_ms_per_output_token``) above ``max_ms_per_output_token`` blocks A, and H when it
  bridges on the API.

Examples
--------
>>> from buildbuy import scenarios
>>> S = scenarios.load("hospital_notes", data_residency="in_house")
>>> feasibility(S, Facts())["A"][0][:36]
'data must stay in our own facilities'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from buildbuy._validate import bad
from buildbuy.api_latency import api_latency_rule
from buildbuy.gpu_supply import months_to_production_b

__all__ = ["PATHS", "RULES", "Facts", "Rule", "api_latency_rule", "api_quota_rule",
           "data_residency_rule", "feasibility", "latency_rule", "register"]

PATHS: tuple[str, ...] = ("A", "B", "H")


@dataclass(frozen=True)
class Facts:
    """What rules may look at besides the scenario (all optional).

    Attributes
    ----------
    sizing_error : str or None
        Why no GPU group meets the latency target (``buildbuy.tco.Sizing.error``).
    fleet_by_year : object or None
        ``buildbuy.tco.fleet_by_year`` (a DataFrame).
    demand_tokens : numpy.ndarray
        Tokens demanded per month ``0..horizon``.
    uses_api : dict
        ``{path: 0/1 array over months}``: the months each path sends traffic to the API.
    """

    sizing_error: str | None = None
    fleet_by_year: Any = None
    demand_tokens: np.ndarray = field(default_factory=lambda: np.zeros(0))
    uses_api: Mapping[str, np.ndarray] = field(default_factory=dict)


Rule = Callable[[Any, Facts], Mapping[str, Sequence[str]]]


def data_residency_rule(S: Any, facts: Facts) -> dict[str, list[str]]:
    """``data_residency="in_house"`` blocks the API and rented GPUs."""
    if S.data_residency != "in_house":
        return {}
    out = {"A": ["data must stay in our own facilities (data_residency='in_house') and the "
                 "API sends every prompt to the vendor"]}
    if S.hosting != "owned":
        out["B"] = [f"data must stay in our own facilities (data_residency='in_house') and "
                    f"hosting='{S.hosting}' rents GPUs in someone else's data centre"]
    return out


def latency_rule(S: Any, facts: Facts) -> dict[str, list[str]]:
    """B (and so H) is blocked when no GPU group meets the latency target."""
    if facts.sizing_error is None:
        return {}
    return {"B": [f"latency target not met: {facts.sizing_error}"]}


def api_quota_rule(S: Any, facts: Facts) -> dict[str, list[str]]:
    """A blocked when no published rate limit carries its peak; H when that hits its bridge."""
    from buildbuy import api_limits

    out = {"A": api_limits.quota_blocking_reasons(S)}
    if not out["A"]:
        return {}
    h_api = facts.uses_api.get("H")
    if h_api is not None:  # else H inherits A's reasons when it bridges on the API
        out["H"] = api_limits.quota_blocking_reasons(S, months=h_api)
    return out


#: The rules :func:`feasibility` runs, in order.
RULES: list[Rule] = [data_residency_rule, latency_rule, api_quota_rule, api_latency_rule]


def register(rule: Rule) -> Rule:
    """Add ``rule`` to :data:`RULES` (once; a second call with the same function is a no-op).

    Usable as a decorator; returns the rule.
    """
    if not callable(rule):
        raise bad("rule", rule, "a function rule(scenario, facts) -> {path: [reasons]}")
    if rule not in RULES:
        RULES.append(rule)
    return rule


def feasibility(S: Any, facts: Facts) -> dict[str, list[str]]:
    """Blocking reasons per path from every rule: ``{"A": [...], "B": [...], "H": [...]}``.

    H inherits B's reasons, and A's when it bridges on the API, unless a rule names H.
    """
    out: dict[str, list[str]] = {p: [] for p in PATHS}
    bridges = S.months_to_production_a < months_to_production_b(S)
    for rule in RULES:
        found = rule(S, facts) or {}
        for path in found:
            if path not in PATHS:
                raise bad(f"{getattr(rule, '__name__', 'rule')} path", path,
                          f"one of {', '.join(PATHS)}")
        for path in ("A", "B"):
            out[path] += [r for r in found.get(path, ()) if r not in out[path]]
        h = found["H"] if "H" in found else (
            list(found.get("B", ())) + (list(found.get("A", ())) if bridges else []))
        out["H"] += [r for r in h if r not in out["H"]]
    return out
