"""The panel: controls that recompute a model and redraw one matplotlib figure.

Convention (docs/design.md, "Widget panel convention"): a panel has

- ``controls``: a dict ``name -> ipywidget`` (sliders, dropdowns);
- ``result``: the last computed values (a dict), or ``None`` while the current
  control values are invalid (then ``error`` holds the library's message);
- ``figure``: a :class:`matplotlib.figure.Figure` drawn with the Agg canvas;
- ``update()``: recompute and redraw; it runs by itself, synchronously, whenever
  a control's ``value`` changes, so tests need no kernel;
- ``_repr_mimebundle_``: the live widget view plus a static ``image/png`` and
  ``text/plain`` of the current figure and result, so an executed notebook still
  shows the chart where no kernel runs (a code host, a scrubbed notebook).

Figures are built with :class:`matplotlib.figure.Figure`, never with
``pyplot``: nothing is registered globally, nothing is displayed twice, and
the Agg canvas renders the same bytes on every run.

The live view shows the figure as an ``ipywidgets.Image`` holding PNG bytes.
That keeps the panel independent of the notebook's matplotlib backend and
works the same way in JupyterLab, Voilà and a headless test.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from buildbuy._validate import bad

__all__ = ["Chart", "Panel", "Table", "as_scenario", "figure_png", "log_span", "new_figure",
           "one_of", "span"]

#: Pixels per inch of the rendered PNG (the figure size is given in inches).
DPI = 80


def as_scenario(scenario: Any) -> Any:
    """A :class:`buildbuy.scenarios.Scenario`, loading it first if given a persona name or path."""
    if isinstance(scenario, str):
        from buildbuy import scenarios

        return scenarios.load(scenario)
    return scenario


def as_decision(scenario: Any) -> Any:
    """The decision record (:func:`buildbuy.decision.decide`) of a persona name, a path,
    a :class:`~buildbuy.scenarios.Scenario` or a :class:`~buildbuy.decision.Decision`."""
    from buildbuy.decision import Decision, decide

    if isinstance(scenario, Decision):
        return scenario
    return decide(as_scenario(scenario))


def span(value: float, lo: float, hi: float) -> dict[str, float]:
    """Slider bounds ``lo``..``hi``, widened to include ``value`` (so it is never clamped).

    ipywidgets clamps a slider's value into ``[min, max]`` without a word; a scenario
    value outside the usual range must widen the slider instead.

    Examples
    --------
    >>> span(0.5, 0.0, 0.2), span(0.1, 0.0, 0.2)
    ({'min': 0.0, 'max': 0.5}, {'min': 0.0, 'max': 0.2})
    """
    return {"min": min(lo, value), "max": max(hi, value)}


def log_span(value: float, lo_exp: float, hi_exp: float) -> dict[str, float]:
    """Exponent bounds of a base-10 ``FloatLogSlider``, widened to include ``value`` (> 0).

    Examples
    --------
    >>> log_span(5e11, 7, 11), log_span(3e9, 7, 11)
    ({'min': 7, 'max': 12}, {'min': 7, 'max': 11})
    """
    exp = math.log10(value)
    return {"min": min(lo_exp, math.floor(exp)), "max": max(hi_exp, math.ceil(exp))}


def one_of(name: str, value: Any, options: Sequence[Any]) -> Any:
    """``value`` if it is one of ``options``; else the library's standard ``ValueError``.

    Examples
    --------
    >>> one_of("batch", 3, (1, 2, 4))
    Traceback (most recent call last):
    ...
    ValueError: batch=3 is invalid: must be one of 1, 2, 4
    """
    if value not in options:
        raise bad(name, value, "one of " + ", ".join(str(o) for o in options))
    return value


def new_figure(width_in: float = 7.5, height_in: float = 3.6, ncols: int = 1, *,
               constrained: bool = True, left_in: float = 0.8) -> Figure:
    """A figure with an Agg canvas and ``ncols`` axes side by side.

    ``constrained=False`` uses fixed margins instead of matplotlib's constrained layout,
    which costs a large share of a redraw: panels use it to stay inside their time
    budget (``benchmarks/bench_widgets.py``). ``left_in`` is then the left margin in
    inches (room for long tick labels).

    Examples
    --------
    >>> fig = new_figure(ncols=2)
    >>> len(fig.axes)
    2
    """
    fig = Figure(figsize=(width_in, height_in), dpi=DPI,
                 layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    fig.subplots(1, ncols)
    if not constrained:
        fig.subplots_adjust(left=left_in / width_in, right=1 - 0.15 / width_in,
                            bottom=0.55 / height_in, top=1 - 0.35 / height_in,
                            wspace=0.35 if ncols > 1 else 0.2)
    return fig


def figure_png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes, without the version stamp (same bytes every run).

    Examples
    --------
    >>> figure_png(new_figure())[:4]
    b'\\x89PNG'
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None},
                pil_kwargs={"compress_level": 1})
    return buf.getvalue()


class Chart:
    """A static figure with a one-line caption, displayed as PNG plus text.

    Lesson cells return a :class:`Chart` so that the committed notebook shows
    the picture whatever matplotlib backend the kernel uses.

    Examples
    --------
    >>> chart = Chart(new_figure(), "an empty chart")
    >>> sorted(chart._repr_mimebundle_())
    ['image/png', 'text/plain']
    """

    def __init__(self, figure: Figure, text: str) -> None:
        self.figure = figure
        self.text = text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        png = base64.b64encode(figure_png(self.figure)).decode("ascii")
        return {"image/png": png, "text/plain": self.text}

    def __repr__(self) -> str:
        return self.text


class Table:
    """A table of key numbers that prints in full: HTML in a notebook, every column as text.

    pandas shortens a wide frame's text to fit 80 characters (``...``), and that text
    is what ``# NBVAL_CHECK_OUTPUT`` compares; a :class:`Table` prints every row and
    column, so every number it shows is checked. ``frame`` is the
    :class:`pandas.DataFrame` (or Series); other attributes are looked up on it.

    Examples
    --------
    >>> import pandas as pd
    >>> t = Table(pd.DataFrame({"a": [1.5]}))
    >>> print(repr(t))
         a
    0  1.5
    >>> t.loc[0, "a"]
    np.float64(1.5)
    """

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def __getattr__(self, name: str) -> Any:
        if name == "frame":  # not yet set (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.frame, name)

    def __getitem__(self, key: Any) -> Any:
        return self.frame[key]

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return self.frame.to_string()

    def _repr_html_(self) -> str:
        frame = self.frame.to_frame() if hasattr(self.frame, "to_frame") else self.frame
        return str(frame.to_html())


Compute = Callable[[Mapping[str, Any]], dict[str, Any]]
Draw = Callable[[Figure, Mapping[str, Any], Mapping[str, Any]], None]
Describe = Callable[[Mapping[str, Any]], str]


class Panel:
    """Controls that recompute a model and redraw one figure.

    Parameters
    ----------
    title : str
        Shown above the controls.
    controls : Mapping[str, ipywidgets.ValueWidget]
        The inputs, by name. Their ``value`` is passed to ``compute``.
    compute : callable
        ``compute(values) -> dict``: calls the library, no drawing. A
        ``ValueError`` (the library's bad-input error) is shown to the learner
        as the panel's ``error``; nothing is clipped.
    draw : callable
        ``draw(figure, values, result)`` draws on the cleared figure's axes.
    describe : callable
        ``describe(result) -> str``: the key numbers in one or two lines.
    ncols : int
        Number of axes in the figure.
    width_in, height_in, left_in : float
        Figure size and left margin, in inches.

    Examples
    --------
    >>> import ipywidgets as w
    >>> p = Panel("double", {"x": w.IntSlider(value=2, min=0, max=10)},
    ...           compute=lambda v: {"y": 2 * v["x"]},
    ...           draw=lambda fig, v, r: fig.axes[0].bar(["y"], [r["y"]]),
    ...           describe=lambda r: f"y = {r['y']}")
    >>> p.result["y"]
    4
    >>> p.controls["x"].value = 5
    >>> p.result["y"], p.text
    (10, 'y = 10')
    """

    def __init__(
        self,
        title: str,
        controls: Mapping[str, w.ValueWidget],
        compute: Compute,
        draw: Draw,
        describe: Describe,
        *,
        ncols: int = 1,
        width_in: float = 7.5,
        height_in: float = 3.6,
        left_in: float = 0.8,
    ) -> None:
        self.title = title
        self.controls: dict[str, w.ValueWidget] = dict(controls)
        self._compute = compute
        self._draw = draw
        self._describe = describe
        self.figure = new_figure(width_in, height_in, ncols, constrained=False,
                                 left_in=left_in)
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        self.text = ""
        self.n_updates = 0
        self._image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self._status = w.HTML()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: c.value for name, c in self.controls.items()}

    def _on_change(self, change: Mapping[str, Any]) -> None:
        self.update()

    def update(self) -> None:
        """Recompute ``result`` from the controls and redraw ``figure``."""
        values = self.values()
        try:
            result = self._compute(values)
        except ValueError as exc:
            self.result = None
            self.error = str(exc)
            self.text = f"Not computed: {exc}"
            self._draw_error(str(exc))
        else:
            self.result = result
            self.error = None
            self.text = self._describe(result)
            for ax in self.figure.axes:
                ax.clear()
            self._draw(self.figure, values, result)
        self.n_updates += 1
        self._image.value = figure_png(self.figure)
        self._status.value = f"<pre style='margin:0'>{_escape(self.text)}</pre>"

    def _draw_error(self, message: str) -> None:
        for ax in self.figure.axes:
            ax.clear()
            ax.set_axis_off()
        self.figure.axes[0].text(0.0, 0.5, _wrap(message), va="center", ha="left",
                                 fontsize=9, color="firebrick",
                                 transform=self.figure.axes[0].transAxes)

    @property
    def widget(self) -> w.VBox:
        """The live view: title, controls, key numbers and the figure."""
        if not hasattr(self, "_box"):
            header = w.HTML(f"<b>{_escape(self.title)}</b>")
            self._box = w.VBox([header, w.VBox(list(self.controls.values())),
                                self._status, self._image])
        return self._box

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        data = dict(self.widget._repr_mimebundle_())
        data["image/png"] = base64.b64encode(self._image.value).decode("ascii")
        data["text/plain"] = f"{self.title}\n{self.text}"
        return data

    def __repr__(self) -> str:
        return f"{self.title}\n{self.text}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(text: str, width: int = 80) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
