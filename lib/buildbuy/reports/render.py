"""Executed report notebook -> one self-contained HTML page.

Convention: the HTML shows Markdown cells and cell outputs only. Code cells'
inputs and the ``In [n]:`` / ``Out [n]:`` prompts are hidden (nbconvert
``exclude_input`` and ``exclude_*_prompt``, the API form of ``--no-input
--no-prompt``), and cells tagged :data:`HIDDEN_TAG` (the machine-readable key
figures) are dropped. The exporter is built once per worker process and
reused: building it (Jinja templates, CSS) costs far more than converting one
notebook.

The page is self-contained: nbconvert's ``lab`` template loads require.js,
MathJax and mermaid from a CDN, which fails offline and tells a third party who
read which report. :data:`TEMPLATE` extends it with those blocks emptied (the
reports use no widgets, no LaTeX and no diagrams); the CSS is inlined and the
charts are embedded PNGs, so the file opens with no network at all
(``tests/test_reports.py`` checks every ``src`` and ``href``).

Learner strings must reach the page only through outputs nbconvert escapes
(``text/plain``, streams, pandas tables) or through ``text/html`` that the
template built with :func:`html.escape`, never through Markdown outputs
(nbconvert passes raw HTML in Markdown through). As a second wall,
:func:`check_escaped` rejects a page in which a learner string holding markup
characters appears verbatim. (nbconvert's own ``sanitize_html`` is not used: in
nbconvert 7.17 it escapes headings and tables of ordinary Markdown cells.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import nbformat

from buildbuy._validate import bad

__all__ = ["HIDDEN_TAG", "TEMPLATE", "check_escaped", "exporter", "to_html"]

#: cells with this tag stay in the .ipynb but never reach the HTML
HIDDEN_TAG = "report-figures"
#: nbconvert's lab template without anything loaded from the network
TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block html_head_js %}{% endblock html_head_js %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
"""
_TEMPLATE_NAME = "buildbuy_offline_report.html.j2"


_local = threading.local()


def exporter() -> Any:
    """This thread's configured ``nbconvert.HTMLExporter`` (built on first use).

    One per thread, because Dask runs several tasks per worker process at once.
    """
    exp = getattr(_local, "exporter", None)
    if exp is None:
        exp = _local.exporter = _build_exporter()
    return exp


def _build_exporter() -> Any:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exp = HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exp.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={HIDDEN_TAG}, enabled=True), enabled=True
    )
    return exp


def to_html(nb: nbformat.NotebookNode, *, title: str) -> str:
    """Render executed notebook ``nb`` to an HTML page titled ``title``.

    ``title`` goes into ``<title>`` unescaped by nbconvert, so callers pass a
    safe id, never a learner's name.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Hi")])
    >>> "<h1" in to_html(nb, title="demo")
    True
    """
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


_MARKUP = ("<", ">")


def check_escaped(page: str, strings: Iterable[str]) -> None:
    """Raise ``ValueError`` if a string holding markup characters appears raw in ``page``.

    A learner string such as ``<script>alert(1)</script>`` must reach the page
    only escaped (``&lt;script&gt;...``). Only ``<`` and ``>`` open elements,
    so strings without them (``O'Brien``, ``AT&T``) are not checked.

    Examples
    --------
    >>> check_escaped("<p>&lt;b&gt;</p>", ["<b>"])
    >>> check_escaped("<p><b></p>", ["<b>"])
    Traceback (most recent call last):
    ...
    ValueError: learner_string='<b>' is invalid: must be HTML-escaped wherever it appears
    """
    for s in strings:
        if isinstance(s, str) and any(c in s for c in _MARKUP) and s in page:
            raise bad("learner_string", s, "HTML-escaped wherever it appears")
