"""The short definitions a form shows next to a field: what each option means, and the rule.

An executive should not have to open ``docs/`` to learn what "hybrid" means or
which rule turns the numbers into a recommendation. Every choice field of a form
shows, under the menu, one line per option (:data:`MEANINGS`) and the rule the
model applies (:func:`rule_text`), with the thresholds read from the library
(e.g. :data:`buildbuy.tco_compare.BUILD_MARGIN`), so the text and the rule
cannot drift apart.

A rule is found by question id first, then by the set of options: a new question
offering the five bottleneck kinds gets the binding rule without any change here.

Examples
--------
>>> from buildbuy import questions, scenarios
>>> S = scenarios.load("bank_support")
>>> print(meaning("hybrid"))
start on the API now and keep self-hosting ready to switch on when volume or prices move
>>> "smallest ceiling" in rule_text(questions.get("ex1_binding"), S)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MEANINGS", "meaning", "rule_text"]

#: One line per option a choice question offers (the option's name -> its meaning).
MEANINGS: dict[str, str] = {
    # the five bottleneck kinds (buildbuy.bottleneck)
    "compute": "the GPU's arithmetic (FLOP/s) is the limit: it cannot multiply faster",
    "memory_bandwidth": "reading the weights and the KV cache from GPU memory (HBM) at every "
                        "step is the limit",
    "network_io": "the network port in front of the replica cannot move the requests and "
                  "answers any faster",
    "cpu_overhead": "host CPU work per request (tokenising, post-processing, checks) is the "
                    "limit",
    "api_rate_limit": "the API provider's tokens-per-minute quota is the limit",
    # what bounds one decode step (buildbuy.tps)
    "host_overhead": "the host's fixed cost per step (Python, kernel launches) outweighs the "
                     "GPU work",
    "interconnect": "the traffic between the GPUs of a tensor-parallel group dominates",
    # the strategies (buildbuy.tco_compare)
    "buy": "Scenario A: call a provider's API and pay per token",
    "build": "Scenario B: fine-tune an open model and serve it on our own (or rented) GPUs",
    "hybrid": "start on the API now and keep self-hosting ready to switch on when volume or "
              "prices move",
    "neither": "do nothing: no path creates more value than it costs",
    # drift detectors (buildbuy.drift)
    "psi": "Population Stability Index: compares the binned distribution of one input in two "
           "periods",
    "ks_test": "Kolmogorov-Smirnov test: compares two samples of one input; alarm at "
               "p <= 0.05",
    "ddm": "Drift Detection Method: watches the model's error rate and alarms when it climbs",
}


def meaning(option: str) -> str:
    """The one-line meaning of ``option`` (its name with spaces when none is written)."""
    return MEANINGS.get(option, option.replace("_", " "))


def _recommendation_rule(s: Any) -> str:
    return (f"The model's rule (the decision record, lesson 3): for each path, the net present "
            f"value of what it creates minus what it costs, after tax at {s.tax_rate:.1%} and "
            f"discounted at {s.discount_rate:.1%} a year over your {s.horizon_months}-month "
            "horizon, against <b>doing nothing</b>. A path a constraint blocks (data "
            "residency, the latency target, an API quota no published tier carries) is not "
            "possible. Recommend the possible path with the highest NPV: <b>buy</b> (A, the "
            "API), <b>build</b> (B, self-host) or <b>hybrid</b> (the API until self-hosting "
            "is live); <b>neither</b> when no path is possible or the best one loses money "
            "against doing nothing.")


def _binding_rule(s: Any) -> str:
    return ("Each stage of the pipeline has a ceiling in tokens per second. The <b>binding</b> "
            "kind is the one with the smallest ceiling: the whole pipeline can go no faster.")


def _bound_rule(s: Any) -> str:
    return ("A decode step is <b>memory-bandwidth</b> bound when streaming its bytes takes "
            "longer than its arithmetic, <b>compute</b> bound when the arithmetic takes longer; "
            "the step time is the larger of the two plus fixed costs.")


def _detector_rule(s: Any) -> str:
    return ("A detector catches the drift when it raises an alarm after the change point and "
            "the change is of the kind it can see.")


def _tco_definition(s: Any) -> str:
    return (f"<b>TCO</b> (total cost of ownership): the plain, undiscounted sum of every cost "
            f"line of one path over the {s.horizon_months}-month horizon, month 0 (upfront) "
            "included.")


def _payback_definition(s: Any) -> str:
    return ("<b>Simple payback</b>: the month in which B's cumulative saving over A (A's costs "
            "minus B's, from month 0) turns positive for good, interpolated within the month. "
            "Answer <i>never</i> if it has not by the end of the horizon.")


def _discounted_payback_definition(s: Any) -> str:
    return (f"<b>Discounted payback</b>: the same, after discounting each month's saving at "
            f"{s.discount_rate:.1%} a year (the monthly rate compounds to the annual one). "
            "Answer <i>never</i> if it does not pay back within the horizon.")


def _break_even_definition(s: Any) -> str:
    return ("<b>Break-even volume</b>: the first-month token volume above which B's cost NPV "
            "stays at or below A's for good (B's cost is a staircase of whole servers). "
            "Answer <i>never</i> if B stays dearer at every volume.")


_BY_ID: dict[str, Callable[[Any], str]] = {
    "ex2_recommendation": _recommendation_rule,
    "p1_bound_batch1": _bound_rule,
    "ex2_tco_a_usd": _tco_definition,
    "ex2_tco_b_usd": _tco_definition,
    "ex2_crossover_month": _payback_definition,
    "p2_discounted_crossover_month": _discounted_payback_definition,
    "p2_break_even_monthly_tokens": _break_even_definition,
}
_BY_OPTIONS: dict[frozenset[str], Callable[[Any], str]] = {
    frozenset({"compute", "memory_bandwidth", "network_io", "cpu_overhead", "api_rate_limit"}):
        _binding_rule,
    frozenset({"build", "buy", "hybrid"}): _recommendation_rule,
    frozenset({"build", "buy", "hybrid", "neither"}): _recommendation_rule,
    frozenset({"psi", "ks_test", "ddm"}): _detector_rule,
}


def rule_text(question: Any, scenario: Any) -> str | None:
    """The decision rule behind ``question`` for ``scenario`` (HTML), or ``None``.

    Looked up by the question's id, then by its set of options.
    """
    rule = _BY_ID.get(question.id) or _BY_OPTIONS.get(frozenset(question.choices))
    return rule(scenario) if rule is not None else None
