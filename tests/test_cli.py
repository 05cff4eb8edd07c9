"""The ``buildbuy`` command dispatcher and the data-folder lookup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from buildbuy import cli, paths


def test_every_subcommand_module_has_a_cli_main() -> None:
    import importlib

    for name, module in cli.SUBCOMMANDS.items():
        assert callable(importlib.import_module(module).cli_main), name
        assert name in cli.USAGE


def test_help_and_bad_usage_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert "usage: buildbuy" in capsys.readouterr().out
    assert cli.main([]) == 2  # no subcommand: usage, and "could not be used as given"
    assert cli.main(["exercise"]) == 2
    assert "unknown subcommand 'exercise'" in capsys.readouterr().err


def test_python_dash_m_buildbuy_is_the_same_command() -> None:
    out = subprocess.run([sys.executable, "-m", "buildbuy", "--help"], capture_output=True,
                         text=True, check=True)
    assert out.stdout == cli.USAGE


def test_data_dir_defaults_to_the_repository_and_follows_the_env_var(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BUILDBUY_DATA_DIR", raising=False)
    assert paths.data_dir() == paths.REPO_ROOT / "data"
    assert (paths.data_dir() / "gpus.csv").is_file()
    assert paths.scenarios_dir() == paths.REPO_ROOT / "data" / "scenarios"
    monkeypatch.setenv("BUILDBUY_DATA_DIR", str(tmp_path))
    assert paths.data_dir() == tmp_path
    assert paths.scenarios_dir() == tmp_path / "scenarios"
