"""Shared by the sandbox and grading tests: skip or fail when bubblewrap cannot run.

On a workstation without bubblewrap (or without user namespaces) the sandboxed
tests skip with the reason; under CI (``CI=true``), where ``.ci/run`` installs
bubblewrap, they fail instead, so a broken sandbox can never pass unnoticed.
"""

from __future__ import annotations

import os

import psutil
import pytest

from buildbuy.grading import sandbox


def require_sandbox() -> None:
    """Skip (workstation) or fail (CI) when bubblewrap cannot create its sandbox here."""
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI must be able to sandbox: {exc}")
        pytest.skip(str(exc))


def processes_with(marker: str) -> list[str]:
    """Command lines of live (non-zombie) host processes that contain ``marker``."""
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if marker in cmd and p.info["status"] != psutil.STATUS_ZOMBIE and p.pid != os.getpid():
            found.append(cmd)
    return found
