"""Try a value, see the model's answer: the no-code goal seek for a question that is a search.

Some questions are not one formula over a few facts but a search: the break-even
volume (``p2_break_even_monthly_tokens``) is the first-month volume at which B's cost
NPV falls to A's, and the code track finds it by scanning volumes. A learner without
code does what a CFO does in a spreadsheet with Goal Seek: types a volume, reads both
NPVs, and narrows in. The tool under the field (folded, as "What you need") shows, for
the volume typed, the NPVs of A and B from
:func:`buildbuy.tco.npv_at_volumes`, the very comparison the library's search
uses, so halving the gap a few times lands within the check's tolerance.

:data:`TOOLS` maps a question id to the function that builds its tool; the form shows
it under the field.

Examples
--------
>>> from buildbuy import scenarios
>>> S = scenarios.load("bank_support")
>>> tool = VolumeTool(S)
>>> tool.volume.value = "10bn"
>>> tool.work_out()
>>> "B (self-host)" in tool.result.value and "costs more than A" in tool.result.value
True
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from buildbuy.forms.parse import parse_number

__all__ = ["TOOLS", "VolumeTool", "npv_at_volume"]


def npv_at_volume(scenario: Any, monthly_tokens: float, *, context: Any = None
                  ) -> tuple[float, float]:
    """Cost NPVs (USD) of A and B if the first month carried ``monthly_tokens`` tokens."""
    from buildbuy import tco

    a, b = tco.npv_at_volumes(scenario, [monthly_tokens], context=context)
    return float(a[0]), float(b[0])


class VolumeTool:
    """A volume box and a button: the cost NPVs of A and B at the volume typed.

    ``volume`` (a text box: ``20bn``, ``2e10``, ``20,000,000,000``), ``button`` and
    ``result`` (HTML) are the widgets; ``box`` holds them; :meth:`work_out` is what the
    button runs. ``tries`` keeps (volume, NPV of A, NPV of B) of every volume worked out,
    newest last, and the result shows them as a table, so the learner sees the gap close.
    """

    def __init__(self, scenario: Any) -> None:
        self.scenario = scenario
        self._context: Any = None
        self.tries: list[tuple[float, float, float]] = []
        self.volume = w.Text(placeholder="a first-month volume, e.g. 20bn",
                             description="tokens in month 1",
                             style={"description_width": "initial"},
                             layout=w.Layout(width="340px"))
        self.button = w.Button(description="Work out", layout=w.Layout(width="100px"))
        self.result = w.HTML()
        self.button.on_click(lambda _: self.work_out())
        intro = w.HTML(
            "<p style='margin:2px 0'>Type a first-month volume and press <b>Work out</b>: the "
            "model recomputes both paths over the horizon with that volume (everything else "
            "as in your scenario) and gives their cost NPVs. Where B stops costing more than "
            "A is the break-even: halve the gap between a volume where B costs more and one "
            "where it does not until they agree to about 1%.</p>")
        self.box = w.VBox([intro, w.HBox([self.volume, self.button]), self.result])

    def work_out(self) -> None:
        """Compute the NPVs at the typed volume and show them (an unreadable, blank or
        negative volume gets a message naming what is allowed instead)."""
        from buildbuy import tco

        try:
            v = parse_number(self.volume.value, unit="tokens", name="volume")
        except ValueError:
            v = None
        if v is None or v == "never" or float(v) < 0:
            self.result.value = html.escape(
                f"volume={self.volume.value!r} is invalid: must be a number of tokens, 0 or "
                "more, such as 20bn, 2e10 or 20,000,000,000")
            return
        if self._context is None:
            self._context = tco.context(self.scenario)
        a, b = npv_at_volume(self.scenario, float(v), context=self._context)
        self.tries.append((float(v), a, b))
        self.result.value = self._table()

    def _table(self) -> str:
        rows = "".join(
            f"<tr><td>{v:,.0f}</td><td>{a:,.0f}</td><td>{b:,.0f}</td>"
            f"<td>{'costs more than A' if b > a else 'costs no more than A'}</td></tr>"
            for v, a, b in reversed(self.tries))
        return ("<table class='buildbuy-facts' style='font-size:90%'><tr><th>tokens in month "
                "1</th><th>NPV of A (API), USD</th><th>NPV of B (self-host), USD</th>"
                f"<th>B (self-host)</th></tr>{rows}</table>")


#: Question id -> the tool shown under its field.
TOOLS: dict[str, Callable[[Any], Any]] = {
    "p2_break_even_monthly_tokens": VolumeTool,
}

#: The folded section's title for a question with a tool.
TITLES: dict[str, str] = {
    "p2_break_even_monthly_tokens": "What you need: try volumes (a goal seek)",
}
