"""Robustness of ``buildbuy reports`` on a tiny template: failures, a killed run, Dask.

The tiny template has the report's parameters cell and figures cell, and a body
that fails, sleeps or prints on demand, so each test takes seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from buildbuy.reports import cli_main, index, run_reports, state
from buildbuy.reports.ids import safe_id
from reports_helpers import read_summary as _summary
from reports_helpers import write_text as _write

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------- tiny template
TINY_BODY = '''
import time
from buildbuy import scenarios
S = scenarios.load(scenario, **overrides)
if learner_id.startswith("boom"):
    raise RuntimeError("kaboom for " + learner_id)
if learner_id.startswith("slow"):
    time.sleep(120)
time.sleep(float(overrides.get("annual_growth", 0.0)) * 10)
print("tokens", S.monthly_tokens)
'''
TINY_FIGURES = '''
display({"application/vnd.buildbuy.figures+json": {
    "recommendation": "buy" if S.monthly_tokens < 2e10 else "build",
    "payback_months": None, "npv_gap_usd": -S.monthly_tokens / 1e3,
    "tco_a_usd": S.monthly_tokens / 1e2, "tco_b_usd": 1e6, "npv_a_usd": 1.0,
    "npv_b_usd": 2.0}}, raw=True)
'''


@pytest.fixture
def tiny_template(tmp_path: Path) -> Path:
    params = new_code_cell('scenario = "bank_support"\noverrides = {}\nlearner_id = "demo"\n'
                           'learner_name = "Demo"')
    params.metadata["tags"] = ["parameters"]
    figs = new_code_cell(TINY_FIGURES.strip())
    figs.metadata["tags"] = ["report-figures"]
    nb = new_notebook(cells=[params, new_code_cell(TINY_BODY.strip()), figs])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_failed_notebook_keeps_partial_output_and_spares_the_next(tmp_path: Path,
                                                                   tiny_template: Path) -> None:
    # slow sleeps 120 s in one cell, longer than the 30 s cell timeout; 30 s leaves a cold
    # kernel time to import the library on a loaded 2-core machine (6-9 s seen)
    roster = _write(tmp_path / "r.csv", "learner_id,scenario,annual_growth\n"
                                        "boom1,bank_support,\nslow,bank_support,\n"
                                        "fine,retail_search,\n")
    out = tmp_path / "out"
    summary = run_reports(roster, out, workers=1, template=tiny_template, progress=False,
                          timeout_s=30)
    assert summary.exit_code == 1
    rows = _summary(out)
    assert [r["status"] for r in rows] == ["failed", "failed", "ok"]
    assert "RuntimeError: kaboom for boom1" in rows[0]["reason"]
    assert "CellTimeoutError" in rows[1]["reason"]
    slow = nbformat.read(out / f"{safe_id('slow')}.ipynb", as_version=4)
    injected = next(c for c in slow.cells if "injected-parameters" in c.metadata["tags"])
    assert injected.execution_count is not None  # the cells before the slow one ran
    sid = safe_id("boom1")
    assert not (out / f"{sid}.html").exists() and not (out / f"{sid}.stamp.json").exists()
    partial = nbformat.read(out / f"{sid}.ipynb", as_version=4)
    errors = [o for c in partial.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["evalue"] == "kaboom for boom1"
    assert f'href="{sid}.ipynb"' in (out / "index.html").read_text()
    assert float(rows[2]["tco_a_usd"]) == pytest.approx(5.0e10 / 1e2)  # retail_search volume


def test_killed_run_leaves_no_half_report_and_the_next_run_completes_it(
        tmp_path: Path, tiny_template: Path) -> None:
    # annual_growth 0.3 -> each learner sleeps 3 s inside the kernel
    roster = _write(tmp_path / "r.csv", "learner_id,scenario,annual_growth\n"
                    + "".join(f"k{i},bank_support,0.3\n" for i in range(4)))
    out = tmp_path / "out"
    digest = state.environment_digest()
    cmd = [sys.executable, "-m", "buildbuy", "reports", str(roster), "--out", str(out),
           "--workers", "1", "--no-progress", "--template", str(tiny_template)]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not list(out.glob("*.html")):
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        time.sleep(1.0)  # now in the middle of the second learner
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run, its worker and kernel: one group
        proc.wait(timeout=30)
    done = sorted(p.stem for p in out.glob("*.html"))
    assert 1 <= len(done) < 4, done
    for page in out.glob("*.html"):
        assert page.read_text().rstrip().endswith("</html>")
    assert not (out / "summary.csv").exists()

    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress",
                     "--template", str(tiny_template)])
    assert code == 0
    rows = {r["safe_id"]: r["status"] for r in _summary(out)}
    if state.environment_digest() == digest:  # always in CI; a shared tree may move
        assert all(rows[s] == "skipped" for s in done)
        assert sorted(rows.values()).count("ok") == 4 - len(done)
    assert set(rows.values()) <= {"ok", "skipped"}
    assert not [p for p in out.iterdir() if p.name.startswith(".bb-tmp-")]
    assert len(list(out.glob("k*.html"))) == 4 and (out / "index.html").is_file()


def test_dask_backend_gives_the_same_summary_as_local(tmp_path: Path,
                                                      tiny_template: Path) -> None:
    from distributed import Client, LocalCluster

    roster = _write(tmp_path / "r.csv",
                    "learner_id,learner_name,scenario,monthly_tokens\n"
                    "d1,One,bank_support,\nd2,<b>Two</b>,retail_search,\n"
                    "d3,Three,hospital_notes,3e10\nd4,Four,nowhere,\n")
    local = run_reports(roster, tmp_path / "local", workers=2, template=tiny_template,
                        progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        remote = run_reports(roster, tmp_path / "dask", scheduler=client,
                             template=tiny_template, progress=False)

    def strip(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert strip(remote.rows) == strip(local.rows)
    assert [r["status"] for r in remote.rows] == ["ok", "ok", "ok", "invalid"]
    assert remote.exit_code == local.exit_code == 1
    a = (tmp_path / "local" / "summary.csv").read_text().splitlines()
    b = (tmp_path / "dask" / "summary.csv").read_text().splitlines()
    seconds = index.SUMMARY_COLUMNS.index("seconds")
    assert [r.split(",")[:seconds] for r in a] == [r.split(",")[:seconds] for r in b]
    sid = safe_id("d2")
    assert json.loads((tmp_path / "dask" / f"{sid}.stamp.json").read_text())["status"] == "ok"
