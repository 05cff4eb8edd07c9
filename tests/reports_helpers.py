"""Helpers shared by the report tests (not a test module)."""

from __future__ import annotations

import csv
from pathlib import Path


def read_summary(out: Path) -> list[dict[str, str]]:
    """The rows of ``out/summary.csv``."""
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8) and return the path."""
    path.write_text(text, encoding="utf-8")
    return path


def external_urls(page: str) -> list[str]:
    """Everything in ``page`` that a browser would fetch from another host: ``src`` and
    ``href`` of scripts, stylesheets and images, ES module imports and loads inside
    scripts, and ``@import`` / ``url(...)`` inside styles. Links a reader clicks
    (``<a href>``) do not count."""
    import re
    from html.parser import HTMLParser

    remote = re.compile(r"^\s*(https?:)?//", re.I)
    found: list[str] = []

    class Parser(HTMLParser):
        inside: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name in ("src", "href") and tag != "a" and value and remote.match(value):
                    found.append(f"<{tag} {name}={value}>")
            self.inside = tag if tag in ("script", "style") else None

        def handle_endtag(self, tag: str) -> None:
            self.inside = None

        def handle_data(self, data: str) -> None:
            if self.inside == "script":
                found.extend(re.findall(r"""["'`](?:https?:)?//[^"'`\s]+""", data))
            elif self.inside == "style":
                body = re.sub(r"/\*.*?\*/", "", data, flags=re.S)  # comments load nothing
                found.extend(re.findall(r"@import[^;]+|url\(\s*['\"]?(?:https?:)?//[^)]+\)",
                                        body))

    Parser().feed(page)
    return found
