"""Every worked example in a buildbuy docstring runs and prints what it says.

One test per module, found by walking the package, so a new module's examples are
checked without anyone remembering to list it.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import buildbuy

MODULES = sorted(m.name for m in pkgutil.walk_packages(buildbuy.__path__, "buildbuy.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_the_core_modules_have_worked_examples() -> None:
    for name in ("buildbuy.finance", "buildbuy.costs", "buildbuy.tps.model", "buildbuy.board",
                 "buildbuy.sla", "buildbuy.tco_compare", "buildbuy.drift.batch"):
        finder = doctest.DocTestFinder()
        examples = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
        assert examples > 0, name
