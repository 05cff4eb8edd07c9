"""The decision record: every figure any view prints, computed once per scenario.

:func:`decide` builds a :class:`Decision` from ``buildbuy.tco.compare`` (cash and value
lines, after tax), :mod:`buildbuy.valuation` and :mod:`buildbuy.uncertainty`, and caches
it on the scenario's values. Lessons, exercises, the memo, the learner report, the
dashboards and ``summary.csv`` all read it; ``Decision.figures`` is the registry of key
figures (:mod:`buildbuy.decision.registry`), each printed through ONE formatter
(:func:`format_value`).

Examples
--------
>>> from buildbuy import scenarios
>>> from buildbuy.decision import decide
>>> D = decide(scenarios.load("bank_support"))
>>> D.recommendation, D.figures["recommendation"].text
('build', 'build')
"""

from buildbuy.decision.figures import UNITS, Figure, figure_map, format_value
from buildbuy.decision.record import RISK_DRAWS, RISK_SEED, Decision, Risk, decide
from buildbuy.decision.registry import KEY_FIGURES, SUMMARY_KEYS, summary_figures
from buildbuy.decision.simplifications import simplification_effects

__all__ = [
    "KEY_FIGURES",
    "RISK_DRAWS",
    "RISK_SEED",
    "SUMMARY_KEYS",
    "UNITS",
    "Decision",
    "Figure",
    "Risk",
    "decide",
    "figure_map",
    "format_value",
    "simplification_effects",
    "summary_figures",
]
